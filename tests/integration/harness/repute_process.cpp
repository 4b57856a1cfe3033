#include "integration/harness/repute_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "integration/harness/http_client.hpp"
#include "support/test_database.hpp"

namespace repute::itest {
namespace {

using Clock = std::chrono::steady_clock;

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// argv for execv: owns the strings, hands out the char* array the child needs.
class Argv {
 public:
  explicit Argv(const std::vector<std::string>& args) : strings_(args) {
    strings_.insert(strings_.begin(), REPUTE_BINARY);
    for (std::string& arg : strings_) pointers_.push_back(arg.data());
    pointers_.push_back(nullptr);
  }
  char* const* get() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

// fork + exec with the given stdout/stderr; only async-signal-safe calls happen in the child.
pid_t spawn(Argv& argv, int stdout_fd, int stderr_fd, const std::string& working_folder) {
  const char* folder = working_folder.empty() ? nullptr : working_folder.c_str();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // The child dies with the test that started it, even when that test crashes.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(stdout_fd, STDOUT_FILENO);
  dup2(stderr_fd, STDERR_FILENO);
  syscall(SYS_close_range, 3U, ~0U, 0U);
  if (folder != nullptr && chdir(folder) != 0) _exit(127);
  // The test's own signal mask and dispositions must not leak into the server.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &default_action, nullptr);
  execv(argv.get()[0], argv.get());
  _exit(127);
}

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The first ThreadSanitizer report in a child's stderr (up to its SUMMARY line), or "" when there is none. Under
// scripts/tsan.sh the child also exits with 66 at its first report (halt_on_error=1), but a test that never talks
// to the server again, or that expects it to die, would not notice that by itself.
std::string thread_sanitizer_report(const std::string& err) {
  const std::size_t found = err.find("ThreadSanitizer");
  if (found == std::string::npos) return "";
  const std::size_t line = err.rfind('\n', found);
  const std::size_t start = line == std::string::npos ? 0 : line + 1;
  const std::size_t summary = err.find("SUMMARY: ThreadSanitizer", found);
  const std::size_t end = summary == std::string::npos ? std::string::npos : err.find('\n', summary);
  constexpr std::size_t kMaxReportBytes = 32 * 1024;
  return err.substr(start, std::min(end == std::string::npos ? kMaxReportBytes : end - start, kMaxReportBytes));
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/repute-itest-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  path_ = std::filesystem::canonical(pattern).string();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::uint16_t free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

CommandResult run_repute(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                         const std::string& working_folder) {
  int out_pipe[2];
  int err_pipe[2];
  make_pipe(out_pipe);
  make_pipe(err_pipe);
  Argv argv(args);
  const pid_t pid = spawn(argv, out_pipe[1], err_pipe[1], working_folder);
  close(out_pipe[1]);
  close(err_pipe[1]);

  CommandResult result;
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  bool killed = false;
  while (open_streams > 0) {
    const int ready = poll(fds, 2, killed ? 1000 : remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (killed) break;
      kill(pid, SIGKILL);  // the command hung: end it, keep what it wrote
      killed = true;
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = exit_code_of(status);
  if (const std::string report = thread_sanitizer_report(result.err); !report.empty()) {
    ADD_FAILURE() << "repute " << (args.empty() ? "" : args[0]) << " reported a data race (exit code "
                  << result.exit_code << "):\n"
                  << report;
  }
  return result;
}

std::optional<ApiKey> parse_key_line(const std::string& line) {
  boost::json::error_code ec;
  const boost::json::value value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.as_object();
  const auto* id = object.if_contains("api_key_id");
  const auto* secret = object.if_contains("api_key_secret");
  if (object.size() != 2 || id == nullptr || secret == nullptr || !id->is_string() || !secret->is_string()) {
    return std::nullopt;
  }
  return ApiKey{std::string(id->as_string()), std::string(secret->as_string())};
}

ProcessOptions dev_options(std::vector<std::string> extra_args) {
  ProcessOptions options;
  options.extra_args = std::move(extra_args);
  return options;
}

ProcessOptions guarded_options(std::vector<std::string> extra_args) {
  ProcessOptions options = dev_options(std::move(extra_args));
  options.dev = false;
  return options;
}

ReputeProcess::ReputeProcess(ProcessOptions options)
    : options_(std::move(options)),
      database_url_(options_.database_url.empty() ? testing::database_url(folder_.path() + "/repute.db")
                                                  : options_.database_url),
      stderr_path_(folder_.path() + "/stderr.log") {
  start();
}

ReputeProcess::~ReputeProcess() {
  if (pid_ > 0) stop(std::chrono::seconds(5));
  close_stdout();
  if (const std::string report = thread_sanitizer_report(stderr_text()); !report.empty()) {
    ADD_FAILURE() << "repute serve reported a data race (last exit code " << last_exit_code_ << "):\n" << report;
  }
  if (::testing::Test::HasFailure()) std::cerr << "--- repute stderr (" << folder() << ") ---\n" << stderr_text();
}

void ReputeProcess::start() {
  std::string failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = free_loopback_port();
    if (try_start(failure)) return;
  }
  throw std::runtime_error("repute did not start: " + failure + "\n--- stderr ---\n" + stderr_text());
}

bool ReputeProcess::try_start(std::string& failure) {
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:" + std::to_string(port_), "--database",
                                   database_url_};
  if (options_.dev) args.push_back("--dev");
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  Argv argv(args);

  const int err_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (err_fd < 0) throw std::runtime_error("cannot open " + stderr_path_);
  int out_pipe[2];
  make_pipe(out_pipe);
  pid_ = spawn(argv, out_pipe[1], err_fd, "");
  close(out_pipe[1]);
  close(err_fd);
  close_stdout();
  stdout_fd_ = out_pipe[0];

  if (wait_ready(failure)) return true;
  const bool port_taken = stderr_text().find("cannot listen") != std::string::npos;
  if (pid_ > 0) stop(std::chrono::seconds(5));
  if (!port_taken) throw std::runtime_error("repute did not start: " + failure + "\n--- stderr ---\n" + stderr_text());
  return false;
}

bool ReputeProcess::wait_ready(std::string& failure) {
  const auto deadline = Clock::now() + options_.start_timeout;
  first_line_.clear();
  if (options_.dev) {
    std::string buffer;
    while (buffer.find('\n') == std::string::npos) {
      pollfd fd{stdout_fd_, POLLIN, 0};
      const int ready = poll(&fd, 1, remaining_ms(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        failure = "no key line on stdout in time";
        return false;
      }
      char chunk[512];
      const ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
      if (n <= 0) {
        failure = "stdout closed before the key line (the server exited?)";
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    first_line_ = buffer.substr(0, buffer.find('\n'));
    auto key = parse_key_line(first_line_);
    if (!key) {
      failure = "the first stdout line is not a key line: " + first_line_;
      return false;
    }
    dev_key_ = *key;
  }
  HttpClient client(port_, std::chrono::milliseconds(500));
  while (Clock::now() < deadline) {
    if (!running()) {
      failure = "the server exited with code " + std::to_string(last_exit_code_);
      return false;
    }
    if (auto response = client.try_request("GET", "/healthz"); response && response->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  failure = "/healthz did not answer 200 in time";
  return false;
}

void ReputeProcess::reap(int status) {
  last_exit_code_ = exit_code_of(status);
  pid_ = 0;
}

void ReputeProcess::close_stdout() {
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
}

bool ReputeProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    reap(status);
    return false;
  }
  return true;
}

void ReputeProcess::send_sigterm() {
  if (pid_ > 0) kill(pid_, SIGTERM);
}

std::optional<int> ReputeProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return last_exit_code_;
}

int ReputeProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return last_exit_code_;
  send_sigterm();
  if (auto code = wait_exit(timeout)) return *code;
  kill9();
  return last_exit_code_;
}

void ReputeProcess::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reap(status);
}

void ReputeProcess::restart() {
  if (pid_ > 0) stop();
  start();
}

std::string ReputeProcess::stderr_text() const { return read_file(stderr_path_); }

CommandResult ReputeProcess::run_cli(std::vector<std::string> args) const {
  args.push_back("--database");
  args.push_back(database_url_);
  return run_repute(args);
}

ApiKey ReputeProcess::create_key(const std::string& tenant) const {
  const CommandResult result = run_cli({"keys", "create", "--tenant", tenant});
  auto key = parse_key_line(result.out.substr(0, result.out.find('\n')));
  if (result.exit_code != 0 || !key) {
    throw std::runtime_error("keys create failed (exit " + std::to_string(result.exit_code) + "): " + result.err);
  }
  return *key;
}

std::string command_output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

namespace {

// One word for sh, whatever it holds.
std::string shell_word(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string query_database(const std::string& database_url, const std::string& query) {
  if (database_url.starts_with("sqlite://")) {
    return command_output("sqlite3 -readonly " + shell_word(database_url.substr(9)) + " " + shell_word(query));
  }
  return command_output("psql -X -A -t -q -d " + shell_word(database_url) + " -c " + shell_word(query));
}

}  // namespace repute::itest
