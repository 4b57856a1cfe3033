#include "integration/harness/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace repute::itest {
namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Keeps the headers of the final response only: an interim 100 Continue starts the list again.
std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& headers = *static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers.clear();
  } else if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return size * count;
}

// Splits "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the blank line) into a response.
std::optional<Response> parse_head(std::string_view head) {
  Response response;
  const std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) return std::nullopt;
  const std::string_view code = status_line.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + code.size(), response.status).ec != std::errc()) return std::nullopt;
  std::size_t start = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (start < head.size()) {
    std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    response.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    start = end + 2;
  }
  return response;
}

std::optional<std::size_t> content_length(const Response& response) {
  const auto text = response.header("Content-Length");
  if (!text) return std::nullopt;
  std::size_t value = 0;
  if (std::from_chars(text->data(), text->data() + text->size(), value).ec != std::errc()) return std::nullopt;
  return value;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

Credentials basic(const ApiKey& key) { return {key.id, key.secret}; }

std::string authorization_header(const Credentials& credentials) {
  const std::string plain = credentials.user + ":" + credentials.password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(length));
  return "Authorization: Basic " + encoded;
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

boost::json::value Response::json() const {
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec) throw std::runtime_error("the body is not JSON (status " + std::to_string(status) + "): " + body);
  return value;
}

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_ = curl_easy_init();
  if (handle_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

std::string HttpClient::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

Response HttpClient::request(const std::string& method, const std::string& path, const std::string& body,
                             const std::optional<Credentials>& credentials, const Headers& headers) {
  std::string error;
  auto response = perform(method, path, body, credentials, headers, error);
  if (!response) throw std::runtime_error(method + " " + path + ": " + error);
  return std::move(*response);
}

std::optional<Response> HttpClient::try_request(const std::string& method, const std::string& path,
                                                const std::string& body, const std::optional<Credentials>& credentials,
                                                const Headers& headers) {
  std::string error;
  return perform(method, path, body, credentials, headers, error);
}

std::optional<Response> HttpClient::perform(const std::string& method, const std::string& path, const std::string& body,
                                            const std::optional<Credentials>& credentials, const Headers& headers,
                                            std::string& error) {
  CURL* curl = static_cast<CURL*>(handle_);
  // reset keeps the live connection, so keep-alive carries over from one request to the next.
  curl_easy_reset(curl);
  Response response;
  const std::string target = url(path);
  curl_easy_setopt(curl, CURLOPT_URL, target.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET" || !body.empty()) {
    if (method != "GET" && method != "DELETE") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (credentials) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, credentials->user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, credentials->password.c_str());
  }
  curl_slist* list = nullptr;
  bool content_type_given = false;
  bool expect_given = false;
  for (const std::string& header : headers) {
    const std::string_view name = std::string_view(header).substr(0, header.find(':'));
    content_type_given = content_type_given || iequals(name, "Content-Type");
    expect_given = expect_given || iequals(name, "Expect");
    list = curl_slist_append(list, header.c_str());
  }
  // curl would call a body form data; this API speaks JSON. No 100-continue round trip unless asked.
  if (!content_type_given && !body.empty()) list = curl_slist_append(list, "Content-Type: application/json");
  if (!expect_given) list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(list);
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened_ += connects;
  if (code != CURLE_OK) {
    error = curl_easy_strerror(code);
    return std::nullopt;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const std::string reason = std::strerror(errno);
    close(fd_);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + reason);
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

void RawConnection::shutdown_write() { shutdown(fd_, SHUT_WR); }

std::uint16_t RawConnection::local_port() const {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return ntohs(address.sin_port);
}

void RawConnection::shrink_receive_buffer(int bytes) { setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes); }

bool RawConnection::fill(Clock::time_point deadline) {
  if (eof_) return false;
  for (;;) {
    pollfd fd{fd_, POLLIN, 0};
    const int ready = poll(&fd, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char buffer[16384];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<Response> RawConnection::read_response(std::chrono::milliseconds timeout, bool head_request) {
  const auto deadline = Clock::now() + timeout;
  std::size_t head_end;
  while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  auto response = parse_head(std::string_view(pending_).substr(0, head_end));
  if (!response) return std::nullopt;
  const std::size_t body_start = head_end + 4;
  if (head_request || response->status == 204 || response->status == 304 || response->status / 100 == 1) {
    pending_.erase(0, body_start);
    return response;
  }
  if (const auto length = content_length(*response)) {
    while (pending_.size() < body_start + *length) {
      if (!fill(deadline)) return std::nullopt;
    }
    response->body = pending_.substr(body_start, *length);
    pending_.erase(0, body_start + *length);
    return response;
  }
  while (fill(deadline)) {
  }
  if (!eof_) return std::nullopt;
  response->body = pending_.substr(body_start);
  pending_.clear();
  return response;
}

std::string RawConnection::read_until_close(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(deadline)) {
  }
  return std::exchange(pending_, std::string());
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(deadline)) {
  }
  return eof_;
}

std::optional<Response> parse_response(std::string_view raw) {
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  auto response = parse_head(raw.substr(0, head_end));
  if (response) response->body = std::string(raw.substr(head_end + 4));
  return response;
}

}  // namespace repute::itest
