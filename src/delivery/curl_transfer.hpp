#pragma once
// One libcurl easy transfer of the HTTP client: its options, its callbacks, and how its outcome reads as an
// OutboundResponse. Used only by the client's own thread.
#include <curl/curl.h>

#include <chrono>
#include <string>

#include "delivery/http_client.hpp"

namespace repute::delivery {

// A request being carried out on an easy handle; owns the request, the callback and the header list.
class CurlTransfer {
 public:
  CurlTransfer(CURL* easy, OutboundRequest request, ResponseCallback callback);
  ~CurlTransfer();
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;

  // Sets every option of the easy handle (which must be fresh or reset); an error names the option curl refused.
  core::Status configure(const HttpClientOptions& options, curl_slist* resolve_overrides);
  // The response, once curl has finished the transfer with result.
  OutboundResponse finish(CURLcode result);
  // The response of a transfer that never ran or was abandoned, with error.
  OutboundResponse fail(std::string error);

  CURL* easy() const { return easy_; }
  ResponseCallback take_callback() { return std::move(callback_); }

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self);
  static curl_socket_t on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);

  CURL* easy_;
  OutboundRequest request_;
  ResponseCallback callback_;
  curl_slist* headers_ = nullptr;
  const core::AddressPolicy* policy_ = nullptr;
  std::size_t max_bytes_ = 0;
  OutboundResponse response_;
  std::string refusal_;     // why the guard refused the first refused address
  int sockets_opened_ = 0;  // addresses the guard let through
  char error_buffer_[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace repute::delivery
