#include "integration/harness/receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace repute::itest {
namespace {

using Steady = std::chrono::steady_clock;
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

// Fills request's path and headers from a request head (without its blank line).
void parse_head(std::string_view head, Delivered& request) {
  std::size_t end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, end);
  const std::size_t first = request_line.find(' ');
  const std::size_t second = request_line.find(' ', first + 1);
  request.path = std::string(request_line.substr(first + 1, second - first - 1));
  while (end != std::string_view::npos) {
    const std::size_t start = end + 2;
    end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end == std::string_view::npos ? end : end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      request.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
  }
}

}  // namespace

std::optional<std::string> Delivered::header(std::string_view name) const {
  const std::string wanted = lower(name);
  for (const auto& [key, value] : headers) {
    if (lower(key) == wanted) return value;
  }
  return std::nullopt;
}

Receiver::Receiver() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("receiver: socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 1024) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("receiver: cannot listen on loopback");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

Receiver::~Receiver() {
  stopping_ = true;
  acceptor_.join();
  for (std::thread& connection : connections_) connection.join();
  ::close(listen_fd_);
}

std::string Receiver::url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

void Receiver::on(const std::string& path, Handler handler) {
  std::lock_guard lock(mutex_);
  handlers_[path] = std::move(handler);
}

std::vector<Delivered> Receiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<Delivered> Receiver::received(const std::string& path) const {
  std::lock_guard lock(mutex_);
  std::vector<Delivered> matching;
  for (const Delivered& request : received_) {
    if (request.path == path) matching.push_back(request);
  }
  return matching;
}

bool Receiver::wait_for(const std::string& path, std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] {
    std::size_t seen = 0;
    for (const Delivered& request : received_) seen += request.path == path;
    return seen >= count;
  });
}

void Receiver::accept_loop() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) connections_.emplace_back([this, fd] { serve(fd); });
  }
}

Answer Receiver::answer_for(const Delivered& request) {
  Handler handler;
  {
    std::lock_guard lock(mutex_);
    auto found = handlers_.find(request.path);
    if (found != handlers_.end()) handler = found->second;
  }
  return handler ? handler(request) : Answer{};
}

void Receiver::serve(int fd) {
  std::string buffer;
  char chunk[16384];
  // Reads more; false once the client has closed (or the receiver stops).
  auto fill = [&] {
    while (!stopping_) {
      pollfd waiting{fd, POLLIN, 0};
      if (::poll(&waiting, 1, kPollMillis) <= 0) continue;
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return false;
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
    Delivered request;
    request.arrived = Steady::now();
    parse_head(std::string_view(buffer).substr(0, head_end), request);
    const std::size_t length = std::strtoull(request.header("content-length").value_or("0").c_str(), nullptr, 10);
    while (buffer.size() < head_end + 4 + length) {
      if (!fill()) return (void)::close(fd);
    }
    request.body = buffer.substr(head_end + 4, length);
    buffer.erase(0, head_end + 4 + length);

    const std::string id = request.webhook_id();
    std::size_t index;
    {
      std::lock_guard lock(mutex_);
      if (!id.empty() && answering_.count(id)) ++overlaps_;
      answering_.insert(id);
      index = received_.size();
      received_.push_back(request);
      arrived_.notify_all();
    }
    const Answer answer = answer_for(request);
    bool open = true;
    if (answer.hang) {
      while (open && !stopping_) {
        pollfd waiting{fd, POLLIN, 0};
        if (::poll(&waiting, 1, kPollMillis) > 0) open = ::recv(fd, chunk, sizeof chunk, 0) > 0;
      }
    } else {
      const auto until = Steady::now() + answer.delay;
      while (!stopping_ && Steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      open = send_all(fd, "HTTP/1.1 " + std::to_string(answer.status) + " Receiver\r\nContent-Length: " +
                              std::to_string(answer.body.size()) + "\r\n" + answer.headers + "\r\n" + answer.body);
    }
    {
      std::lock_guard lock(mutex_);
      answering_.erase(answering_.find(id));
      if (!answer.hang) received_[index].status = answer.status;
    }
    if (!open || answer.hang) return (void)::close(fd);
  }
}

Answer reply(int status, std::string headers, std::string body) {
  Answer answer;
  answer.status = status;
  answer.headers = std::move(headers);
  answer.body = std::move(body);
  return answer;
}

std::string expected_argyle_signature(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  HMAC(EVP_sha512(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string expected_standard_signature(std::string_view secret, std::string_view id, std::string_view timestamp,
                                        std::string_view body) {
  std::string key(secret);
  if (secret.starts_with("whsec_")) {
    const std::string_view encoded = secret.substr(6);
    std::string decoded(encoded.size(), '\0');
    const int written =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                        reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
    if (written >= 0) {
      std::size_t padding = 0;
      for (std::size_t i = encoded.size(); i > 0 && encoded[i - 1] == '='; --i) ++padding;
      key = decoded.substr(0, static_cast<std::size_t>(written) - padding);
    }
  }
  const std::string message = std::string(id) + "." + std::string(timestamp) + "." + std::string(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest, &length);
  std::string encoded(4 * ((length + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), digest, static_cast<int>(length));
  encoded.resize(static_cast<std::size_t>(written));
  return "v1," + encoded;
}

}  // namespace repute::itest
