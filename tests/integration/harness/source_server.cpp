#include "integration/harness/source_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace repute::itest {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

std::string response(int status, const char* reason, const std::string& body, std::size_t declared_length) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(declared_length) + "\r\n\r\n" + body;
}

// The value of the Content-Length header in a request head, 0 when there is none.
std::size_t content_length(const std::string& head) {
  std::string lower = head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return static_cast<std::size_t>(std::strtoull(lower.c_str() + at + 17, nullptr, 10));
}

}  // namespace

SourceServer::SourceServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("the source server cannot listen on loopback");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

SourceServer::~SourceServer() { stop(); }

std::string SourceServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void SourceServer::answer(Behaviour behaviour) {
  std::lock_guard lock(mutex_);
  behaviour_ = behaviour;
}

void SourceServer::set_body(std::string body) {
  std::lock_guard lock(mutex_);
  body_ = std::move(body);
}

int SourceServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool SourceServer::wait_for_requests(int count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return request_arrived_.wait_for(lock, timeout, [&] { return requests_ >= count; });
}

std::string SourceServer::last_request_head() const {
  std::lock_guard lock(mutex_);
  return last_head_;
}

void SourceServer::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
  ::close(listen_fd_);
}

void SourceServer::accept_loop() {
  while (!stopping_) {
    pollfd ready{listen_fd_, POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // A client that stops reading must not pin a connection thread (and stop()) for ever.
    const timeval send_timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

bool SourceServer::wait_for_close(int fd, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (!stopping_ && Clock::now() < deadline) {
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    char byte;
    if (::recv(fd, &byte, 1, 0) <= 0) return true;
  }
  return false;
}

void SourceServer::serve(int fd) {
  std::string received;
  const auto deadline = Clock::now() + 5s;
  std::size_t head_end = std::string::npos;
  while (!stopping_ && Clock::now() < deadline) {
    head_end = received.find("\r\n\r\n");
    if (head_end != std::string::npos &&
        received.size() >= head_end + 4 + content_length(received.substr(0, head_end))) {
      break;
    }
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return;
    received.append(chunk, static_cast<std::size_t>(n));
  }
  if (head_end == std::string::npos) return;

  Behaviour behaviour;
  std::string body;
  {
    std::lock_guard lock(mutex_);
    ++requests_;
    last_head_ = received.substr(0, head_end);
    behaviour = behaviour_;
    body = body_;
    request_arrived_.notify_all();
  }
  switch (behaviour) {
    case Behaviour::kGood:
      send_all(fd, response(200, "OK", body, body.size()));
      return;
    case Behaviour::kSlow:
      if (!wait_for_close(fd, 60s)) send_all(fd, response(200, "OK", body, body.size()));
      return;
    case Behaviour::kStalledBody:
      if (send_all(fd, response(200, "OK", body, body.size() + 100))) wait_for_close(fd, 60s);
      return;
    case Behaviour::kServerError: {
      const std::string error = R"({"error": "boom"})";
      send_all(fd, response(500, "Internal Server Error", error, error.size()));
      return;
    }
    case Behaviour::kMalformed: {
      const std::string broken = R"({"rating": 4.5, "acceptance_rate": )";
      send_all(fd, response(200, "OK", broken, broken.size()));
      return;
    }
    case Behaviour::kOversized: {
      const std::string prefix = R"({"metadata": {"padding": ")";
      const std::string suffix = R"("}})";
      const std::string big = prefix + std::string(kOversizedBytes - prefix.size() - suffix.size(), 'x') + suffix;
      if (send_all(fd, response(200, "OK", big, big.size()))) wait_for_close(fd, 5s);
      return;
    }
  }
}

}  // namespace repute::itest
