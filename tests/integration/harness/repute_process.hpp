#pragma once
// Integration harness: runs the real `repute` binary (REPUTE_BINARY) as a child process, either as a
// server on a free loopback port with its own temporary database, or as a one-shot command.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace repute::itest {

// An API key as `repute serve --dev` and `repute keys create` print it.
struct ApiKey {
  std::string id;
  std::string secret;
};

// What a finished command left behind.
struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when a signal ended it
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

// A folder under $TMPDIR (or /tmp) that is removed with everything in it when this goes away.
class TempDir {
 public:
  // Creates a fresh, empty folder.
  TempDir();
  // Removes the folder and everything in it.
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The folder's absolute path.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `repute args...` to its end (killed after timeout) and returns its output and exit code; a ThreadSanitizer
// report on its stderr fails the current test.
CommandResult run_repute(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(15),
                         const std::string& working_folder = "");

// Parses a `{"api_key_id": "...", "api_key_secret": "..."}` line; nullopt when it is not one.
std::optional<ApiKey> parse_key_line(const std::string& line);

// How a ReputeProcess starts its server.
struct ProcessOptions {
  bool dev = true;                      // pass --dev and read the key line from stdout
  std::vector<std::string> extra_args;  // appended after the default serve arguments
  std::chrono::milliseconds start_timeout = std::chrono::seconds(15);
  // The database to serve; empty: a fresh one of the suite's back end (support/test_database.hpp). Several
  // processes given one URL are nodes of one deployment.
  std::string database_url;
};

// Options for a server started with --dev, plus extra_args.
ProcessOptions dev_options(std::vector<std::string> extra_args = {});
// Options for a server started without --dev (no key line: make keys with create_key), plus extra_args.
ProcessOptions guarded_options(std::vector<std::string> extra_args = {});

// One `repute serve` child on 127.0.0.1 with a fresh database (SQLite, or PostgreSQL in the suite's PostgreSQL
// run); always stopped by its destructor.
class ReputeProcess {
 public:
  // Starts the server at once; throws std::runtime_error (with its stderr) when it does not come up.
  explicit ReputeProcess(ProcessOptions options = {});
  // Stops the server this object started (by its PID); fails the current test when the server's stderr holds a
  // ThreadSanitizer report, and prints its stderr when the current test failed.
  ~ReputeProcess();
  ReputeProcess(const ReputeProcess&) = delete;
  ReputeProcess& operator=(const ReputeProcess&) = delete;

  // SIGTERM, wait up to timeout, then SIGKILL. Returns the exit code (128 + signal if killed).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Sends SIGTERM only; wait_exit() collects the outcome.
  void send_sigterm();
  // Waits for the process to end by itself; nullopt if it is still running after timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Kills the server with SIGKILL, as a crash would, and reaps it.
  void kill9();
  // Stops the server (if running) and starts it again on the same database and port.
  void restart();

  // True while the child has not exited.
  bool running();
  // The child's process id (0 when not running).
  pid_t pid() const { return pid_; }
  // The loopback port the server listens on.
  std::uint16_t port() const { return port_; }
  // The database URL: sqlite://<folder>/repute.db, or a postgres:// URL in the PostgreSQL run.
  const std::string& database_url() const { return database_url_; }
  // The temporary folder that holds the database and the stderr log.
  const std::string& folder() const { return folder_.path(); }
  // The key printed on stdout by --dev (empty without --dev).
  const ApiKey& dev_key() const { return dev_key_; }
  // The first stdout line of the latest start (the --dev key line).
  const std::string& first_line() const { return first_line_; }
  // Everything the server wrote to stderr, over all its starts.
  std::string stderr_text() const;
  // Exit code of the last run that ended (-1 if none ended yet).
  int last_exit_code() const { return last_exit_code_; }

  // Runs a one-shot `repute` command with `--database <this server's database>` appended.
  CommandResult run_cli(std::vector<std::string> args) const;
  // Makes a key with `repute keys create --tenant tenant` on this server's database.
  ApiKey create_key(const std::string& tenant) const;

 private:
  void start();
  // One attempt to start; false when the port was taken by someone else meanwhile.
  bool try_start(std::string& failure);
  bool wait_ready(std::string& failure);
  void reap(int status);
  void close_stdout();

  ProcessOptions options_;
  TempDir folder_;
  std::string database_url_;
  std::string stderr_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = 0;
  int stdout_fd_ = -1;
  int last_exit_code_ = -1;
  ApiKey dev_key_;
  std::string first_line_;
};

// Runs a shell command and returns what it wrote to stdout.
std::string command_output(const std::string& command);

// Runs a read-only SQL query on a database (sqlite:// with sqlite3, postgres:// with psql); rows as "a|b" lines.
std::string query_database(const std::string& database_url, const std::string& query);

// A loopback port that was free a moment ago (bound to port 0, then released).
std::uint16_t free_loopback_port();

}  // namespace repute::itest
