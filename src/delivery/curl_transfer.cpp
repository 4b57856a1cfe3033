#include "delivery/curl_transfer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace repute::delivery {
namespace {

constexpr std::size_t kMaxHeadersKept = 100;

long to_millis(core::Micros micros) { return static_cast<long>(std::max<core::Micros>(micros / 1000, 1)); }

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// Appends "Name: value" to list; false when curl could not allocate.
bool append_header(curl_slist*& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list, line.c_str());
  if (!grown) return false;
  list = grown;
  return true;
}

// The header line, unless a CR or LF in it would let a caller inject more headers.
bool safe_header(const std::string& name, const std::string& value) {
  auto clean = [](const std::string& text) { return text.find_first_of("\r\n") == std::string::npos; };
  return !name.empty() && name.find(':') == std::string::npos && clean(name) && clean(value);
}

}  // namespace

CurlTransfer::CurlTransfer(CURL* easy, OutboundRequest request, ResponseCallback callback)
    : easy_(easy), request_(std::move(request)), callback_(std::move(callback)) {}

CurlTransfer::~CurlTransfer() { curl_slist_free_all(headers_); }

core::Status CurlTransfer::configure(const HttpClientOptions& options, curl_slist* resolve_overrides) {
  policy_ = &options.address_policy;
  max_bytes_ = request_.max_response_bytes ? request_.max_response_bytes : options.max_response_bytes;
  const core::Micros connect_timeout = request_.connect_timeout ? request_.connect_timeout : options.connect_timeout;
  const core::Micros timeout = request_.timeout ? request_.timeout : options.timeout;

  for (const auto& [name, value] : request_.headers) {
    if (!safe_header(name, value)) return core::invalid("header " + name + " has a line break or no name");
    if (!append_header(headers_, name + ": " + value)) return core::internal_error("out of memory");
  }
  // No "Expect: 100-continue" round trip before a body.
  if (!append_header(headers_, "Expect:")) return core::internal_error("out of memory");

  CURLcode code = CURLE_OK;
  auto set = [&code](CURLcode result) {
    if (code == CURLE_OK) code = result;
  };
  set(curl_easy_setopt(easy_, CURLOPT_URL, request_.url.c_str()));
  set(curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(easy_, CURLOPT_PRIVATE, this));
  set(curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_));
  set(curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(easy_, CURLOPT_PROXY, ""));  // never a proxy from the environment: the guard checks the target
  set(curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L));
  set(curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, to_millis(connect_timeout)));
  set(curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, to_millis(timeout)));
  set(curl_easy_setopt(easy_, CURLOPT_USERAGENT, options.user_agent.c_str()));
  set(curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_));
  set(curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlTransfer::on_body));
  set(curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this));
  set(curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &CurlTransfer::on_header));
  set(curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this));
  set(curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, &CurlTransfer::on_open_socket));
  set(curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, this));
  if (resolve_overrides) set(curl_easy_setopt(easy_, CURLOPT_RESOLVE, resolve_overrides));

  if (request_.method == "GET") {
    set(curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L));
  } else if (request_.method == "HEAD") {
    set(curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L));
  } else if (request_.method != "POST") {
    set(curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, request_.method.c_str()));
  }
  if (request_.method == "POST" || !request_.body.empty()) {
    set(curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, request_.body.data()));
    set(curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size())));
  }
  if (code != CURLE_OK) return core::invalid(std::string("cannot send this request: ") + curl_easy_strerror(code));
  return core::ok_status();
}

std::size_t CurlTransfer::on_body(char* data, std::size_t size, std::size_t count, void* self) {
  auto& transfer = *static_cast<CurlTransfer*>(self);
  const std::size_t bytes = size * count;
  std::string& body = transfer.response_.body;
  const std::size_t room = transfer.max_bytes_ - std::min(body.size(), transfer.max_bytes_);
  if (bytes <= room) {
    body.append(data, bytes);
    return bytes;
  }
  // More than we read: keep what fits, then make curl abort the transfer and drop the connection.
  body.append(data, room);
  transfer.response_.body_cut_off = true;
  return room;
}

std::size_t CurlTransfer::on_header(char* data, std::size_t size, std::size_t count, void* self) {
  auto& response = static_cast<CurlTransfer*>(self)->response_;
  const std::size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    response.headers.clear();  // a new response (after a 1xx) starts over
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && response.headers.size() < kMaxHeadersKept) {
    response.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return bytes;
}

curl_socket_t CurlTransfer::on_open_socket(void* self, curlsocktype, curl_sockaddr* address) {
  auto& transfer = *static_cast<CurlTransfer*>(self);
  const auto ip = core::IpAddress::from_sockaddr(&address->addr);
  if (!ip) {
    if (transfer.refusal_.empty()) transfer.refusal_ = "not an IP address";
    return CURL_SOCKET_BAD;
  }
  if (auto allowed = transfer.policy_->check(*ip); !allowed) {
    if (transfer.refusal_.empty()) transfer.refusal_ = allowed.error().message;
    return CURL_SOCKET_BAD;
  }
  ++transfer.sockets_opened_;
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

OutboundResponse CurlTransfer::finish(CURLcode result) {
  OutboundResponse response = std::move(response_);
  response.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
  long status = 0;
  if (curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status > 0) {
    response.status = static_cast<int>(status);
  }
  long new_connections = 0;
  if (curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &new_connections) == CURLE_OK && response.status) {
    response.reused_connection = new_connections == 0;
  }
  if (result == CURLE_OK) return response;

  if (response.body_cut_off && result == CURLE_WRITE_ERROR) {
    response.error = "response body cut off after " + std::to_string(max_bytes_) + " bytes";
  } else if (!refusal_.empty() && !response.status) {
    response.refused_by_guard = sockets_opened_ == 0;
    response.error = "address refused by SSRF guard: " + refusal_;
  } else {
    std::string error = error_buffer_[0] ? std::string(error_buffer_) : std::string(curl_easy_strerror(result));
    // curl takes an answer without a status line for HTTP/0.9 and refuses it as such: say what happened.
    if (result == CURLE_UNSUPPORTED_PROTOCOL && error.find("HTTP/0.9") != std::string::npos) {
      error = "the receiver's answer is not HTTP (" + error + ")";
    }
    response.error = std::move(error);
  }
  return response;
}

OutboundResponse CurlTransfer::fail(std::string error) {
  OutboundResponse response = std::move(response_);
  response.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
  response.error = std::move(error);
  return response;
}

}  // namespace repute::delivery
