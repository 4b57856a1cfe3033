#include "integration/harness/faulty_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string_view>

namespace repute::itest {
namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kPollMillis = 20;
// Every loop of a connection is bounded, so a client that never reads or never closes cannot keep a test alive.
constexpr auto kRequestTimeout = 10s;                   // to read one request
constexpr std::size_t kMaxRequestBytes = 1024 * 1024;   // of one request
constexpr auto kMaxConnectionTime = 60s;                // to answer, hang or stream on one connection
constexpr std::size_t kMaxEndlessBytes = 1024UL << 20;  // an "endless" body stops after 1 GiB all the same
constexpr std::size_t kChunkBytes = 16 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of header name (lowercase) in a request head, or "".
std::string header_value(const std::string& head, const std::string& name) {
  const std::string lowered = lower(head);
  const std::size_t at = lowered.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  std::size_t start = at + name.size() + 3;
  const std::size_t end = head.find("\r\n", start);
  while (start < end && (head[start] == ' ' || head[start] == '\t')) ++start;
  std::string value = head.substr(start, end - start);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  return value;
}

std::string reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 410:
      return "Gone";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

// "hello\r\n\r\n" and then bytes from a fixed-seed generator: the same noise on every run.
std::string garbage_bytes() {
  std::mt19937 random(20261127);
  std::string bytes = "hello\r\n\r\n";
  for (int i = 0; i < 512; ++i) bytes += static_cast<char>(random() & 0xFF);
  return bytes;
}

Fault of_kind(FaultKind kind) {
  Fault fault;
  fault.kind = kind;
  return fault;
}

}  // namespace

std::string Fault::label() const {
  switch (kind) {
    case FaultKind::kStatus:
      return std::to_string(status) + (headers.empty() ? "" : "_with_headers");
    case FaultKind::kReset:
      return "reset";
    case FaultKind::kHang:
      return "hang";
    case FaultKind::kSlow:
      return "slow_" + std::to_string(per_byte.count()) + "ms_per_byte";
    case FaultKind::kEndlessBody:
      return "endless_body";
    case FaultKind::kEndlessChunked:
      return "endless_chunked";
    case FaultKind::kHugeBody:
      return "huge_body";
    case FaultKind::kGarbage:
      return "garbage";
  }
  return "unknown";
}

Fault answer_status(int status, std::string headers) {
  Fault fault;
  fault.status = status;
  fault.headers = std::move(headers);
  return fault;
}

Fault reset_after_request() { return of_kind(FaultKind::kReset); }
Fault never_answer() { return of_kind(FaultKind::kHang); }
Fault endless_body() { return of_kind(FaultKind::kEndlessBody); }
Fault endless_chunked_body() { return of_kind(FaultKind::kEndlessChunked); }
Fault garbage() { return of_kind(FaultKind::kGarbage); }

Fault answer_slowly(std::chrono::milliseconds per_byte) {
  Fault fault = of_kind(FaultKind::kSlow);
  fault.per_byte = per_byte;
  return fault;
}

Fault huge_body(std::size_t bytes) {
  Fault fault = of_kind(FaultKind::kHugeBody);
  fault.body_bytes = bytes;
  return fault;
}

FaultyReceiver::FaultyReceiver(Fault fault) : FaultyReceiver({}, std::move(fault)) {}

FaultyReceiver::FaultyReceiver(std::vector<Fault> script, Fault then)
    : script_(script.begin(), script.end()), then_(std::move(then)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("faulty receiver: socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 256) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("faulty receiver: cannot listen on loopback");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultyReceiver::~FaultyReceiver() {
  stopping_ = true;
  acceptor_.join();
  for (std::thread& thread : threads_) thread.join();
  ::close(listen_fd_);
}

std::string FaultyReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<FaultyConnection> FaultyReceiver::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

bool FaultyReceiver::wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return accepted_.wait_for(lock, timeout, [&] { return connections_.size() >= count; });
}

std::size_t FaultyReceiver::open_connections() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(connections_.begin(), connections_.end(), [](const FaultyConnection& c) { return !c.done; }));
}

void FaultyReceiver::accept_loop() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::size_t index;
    {
      std::lock_guard lock(mutex_);
      FaultyConnection connection;
      if (!script_.empty()) {
        connection.fault = script_.front();
        script_.pop_front();
      } else {
        connection.fault = then_;
      }
      connection.accepted = Steady::now();
      index = connections_.size();
      connections_.push_back(std::move(connection));
      accepted_.notify_all();
    }
    threads_.emplace_back([this, fd, index] { serve(fd, index); });
  }
}

void FaultyReceiver::serve(int fd, std::size_t index) {
  Fault fault;
  {
    std::lock_guard lock(mutex_);
    fault = connections_[index].fault;
  }
  if (read_request(fd, index)) play(fd, index, fault);
  ::close(fd);
  std::lock_guard lock(mutex_);
  connections_[index].done = true;
  connections_[index].closed = Steady::now();
}

bool FaultyReceiver::read_request(int fd, std::size_t index) {
  const auto deadline = Steady::now() + kRequestTimeout;
  std::string buffer;
  char chunk[16384];
  std::size_t head_end = std::string::npos;
  std::size_t wanted = 0;
  while (!stopping_ && Steady::now() < deadline && buffer.size() <= kMaxRequestBytes) {
    if (head_end == std::string::npos) {
      head_end = buffer.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const std::string head = buffer.substr(0, head_end);
        wanted = head_end + 4 + std::strtoull(header_value(head, "content-length").c_str(), nullptr, 10);
        std::lock_guard lock(mutex_);
        connections_[index].request_line = head.substr(0, head.find("\r\n"));
        connections_[index].webhook_id = header_value(head, "webhook-id");
      }
    }
    if (head_end != std::string::npos && buffer.size() >= wanted) {
      std::lock_guard lock(mutex_);
      connections_[index].request_read = true;
      return true;
    }
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) {
      mark_client_gone(index);
      return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  return false;
}

void FaultyReceiver::play(int fd, std::size_t index, const Fault& fault) {
  switch (fault.kind) {
    case FaultKind::kStatus: {
      const std::string body = "fault: " + fault.label();
      const std::string response = "HTTP/1.1 " + std::to_string(fault.status) + " " + reason(fault.status) +
                                   "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                                   "\r\nConnection: close\r\n" + fault.headers + "\r\n" + body;
      send_bytes(fd, index, response.data(), response.size());
      return;
    }
    case FaultKind::kReset: {
      const linger reset{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      return;  // serve() closes: with a zero linger time that sends RST instead of FIN
    }
    case FaultKind::kHang:
      return wait_for_client_close(fd, index);
    case FaultKind::kSlow: {
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      for (const char& byte : response) {
        const auto until = Steady::now() + fault.per_byte;
        while (!stopping_ && Steady::now() < until) std::this_thread::sleep_for(1ms);
        if (!send_bytes(fd, index, &byte, 1)) return;
      }
      return;
    }
    case FaultKind::kEndlessBody:
    case FaultKind::kEndlessChunked:
    case FaultKind::kHugeBody: {
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n";
      if (fault.kind == FaultKind::kEndlessChunked) head += "Transfer-Encoding: chunked\r\n";
      if (fault.kind == FaultKind::kHugeBody) head += "Content-Length: " + std::to_string(fault.body_bytes) + "\r\n";
      head += "\r\n";
      if (!send_bytes(fd, index, head.data(), head.size())) return;
      std::string piece(kChunkBytes, 'x');
      if (fault.kind == FaultKind::kEndlessChunked) piece = "4000\r\n" + piece + "\r\n";  // 0x4000 = kChunkBytes
      const std::size_t limit = fault.kind == FaultKind::kHugeBody ? fault.body_bytes : kMaxEndlessBytes;
      for (std::size_t sent = 0; sent < limit;) {
        const std::size_t size = std::min(piece.size(), limit - sent);
        if (!send_bytes(fd, index, piece.data(), size)) return;
        sent += size;
      }
      return;
    }
    case FaultKind::kGarbage: {
      const std::string noise = garbage_bytes();
      send_bytes(fd, index, noise.data(), noise.size());
      return;
    }
  }
}

bool FaultyReceiver::send_bytes(int fd, std::size_t index, const char* data, std::size_t size) {
  std::chrono::steady_clock::time_point accepted;
  {
    std::lock_guard lock(mutex_);
    accepted = connections_[index].accepted;
  }
  const auto deadline = accepted + kMaxConnectionTime;
  while (size > 0) {
    if (stopping_ || Steady::now() >= deadline) return false;
    pollfd waiting{fd, POLLOUT, 0};
    const int ready = ::poll(&waiting, 1, kPollMillis);
    if (ready <= 0) continue;
    if (waiting.revents & (POLLERR | POLLHUP)) {
      mark_client_gone(index);
      return false;
    }
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (sent <= 0) {
      mark_client_gone(index);
      return false;
    }
    data += sent;
    size -= static_cast<std::size_t>(sent);
    std::lock_guard lock(mutex_);
    connections_[index].bytes_sent += static_cast<std::size_t>(sent);
  }
  return true;
}

void FaultyReceiver::wait_for_client_close(int fd, std::size_t index) {
  const auto deadline = Steady::now() + kMaxConnectionTime;
  char chunk[4096];
  while (!stopping_ && Steady::now() < deadline) {
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
    if (::recv(fd, chunk, sizeof chunk, 0) <= 0) return mark_client_gone(index);
  }
}

void FaultyReceiver::mark_client_gone(std::size_t index) {
  std::lock_guard lock(mutex_);
  connections_[index].client_went_away = true;
}

}  // namespace repute::itest
