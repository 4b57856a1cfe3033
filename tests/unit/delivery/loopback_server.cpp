#include "unit/delivery/loopback_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace repute::delivery::testing {
namespace {

constexpr int kPollMillis = 20;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// Parses the head (request line and headers, without the blank line) into request.
void parse_head(std::string_view head, ReceivedRequest& request) {
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space = line.find(' ', first_space + 1);
  request.method = std::string(line.substr(0, first_space));
  request.target = std::string(line.substr(first_space + 1, second_space - first_space - 1));
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    line = head.substr(start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
}

}  // namespace

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (lower(key) == lower(name)) return value;
  }
  return std::nullopt;
}

Reply http_reply(int status, std::string_view body, std::string_view extra_headers) {
  Reply reply;
  reply.raw = "HTTP/1.1 " + std::to_string(status) + " Test\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
  return reply;
}

LoopbackServer::LoopbackServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 512) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error(std::string("loopback server: ") + std::strerror(errno));
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LoopbackServer::~LoopbackServer() {
  stopping_ = true;
  acceptor_.join();
  for (std::thread& worker : workers_) worker.join();
  ::close(listen_fd_);
}

std::string LoopbackServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::vector<ReceivedRequest> LoopbackServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool LoopbackServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

void LoopbackServer::accept_loop() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int connection = ++connections_;
    workers_.emplace_back([this, fd, connection] { serve(fd, connection); });
  }
}

void LoopbackServer::serve(int fd, int connection) {
  std::string buffer;
  char chunk[16384];
  // Reads more bytes into buffer; false when the client closed or the server is stopping.
  auto fill = [&]() {
    while (!stopping_) {
      pollfd waiting{fd, POLLIN, 0};
      if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) {
        ++closed_by_client_;
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(got));
      return true;
    }
    return false;
  };
  for (;;) {
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return (void)::close(fd);
    }
    ReceivedRequest request;
    request.connection = connection;
    parse_head(std::string_view(buffer).substr(0, head_end), request);
    const std::size_t length = std::stoul(request.header("content-length").value_or("0"));
    while (buffer.size() < head_end + 4 + length) {
      if (!fill()) return (void)::close(fd);
    }
    request.body = buffer.substr(head_end + 4, length);
    buffer.erase(0, head_end + 4 + length);
    const Reply reply = handler_(request);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(request));
      arrived_.notify_all();
    }
    if (!send_all(fd, reply.raw) || reply.close) return (void)::close(fd);
    if (reply.hang) {
      while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(kPollMillis));
      return (void)::close(fd);
    }
    if (reply.endless) {
      const std::string filler(16384, 'x');
      while (!stopping_ && send_all(fd, filler)) {
      }
      return (void)::close(fd);
    }
  }
}

}  // namespace repute::delivery::testing
