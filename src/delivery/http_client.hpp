#pragma once
// The one outbound HTTP client of repute: webhook deliveries and the scan engine's http sources both use it.
// libcurl's multi interface on one thread of its own: any number of requests in flight without a thread per request,
// keep-alive connections cached and reused per host, no redirects followed, bounded response bodies, and the SSRF
// guard applied to the exact address being dialled (a refused address gets no packet at all).
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/address_policy.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace repute::delivery {

// Name and value of one HTTP header, in the order sent or received.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request to send. Zero timeouts and limits mean "the client's default".
struct OutboundRequest {
  std::string method = "POST";         // "GET", "POST", "PUT", ... (a body is sent whenever it is not empty)
  std::string url;                     // absolute http:// or https:// URL
  HeaderList headers;                  // sent as given, after the client's own (Host, User-Agent, ...)
  std::string body;                    // sent byte for byte
  core::Micros connect_timeout = 0;    // TCP (and TLS) connect
  core::Micros timeout = 0;            // the whole exchange, connect included
  std::size_t max_response_bytes = 0;  // of the response body kept; more cuts the transfer off
};

// What came back. A status line, an error, or both (e.g. a 200 whose body was cut off).
struct OutboundResponse {
  std::optional<int> status;         // the status code, when a status line arrived
  std::optional<std::string> error;  // why the exchange did not complete, e.g. "timeout after 15000 ms"
  HeaderList headers;                // the final response's headers (names as received)
  std::string body;                  // at most max_response_bytes of the body
  bool body_cut_off = false;         // the body was longer than max_response_bytes; the connection was closed
  bool refused_by_guard = false;     // the SSRF guard refused every address of the host: nothing was sent
  bool reused_connection = false;    // the request went over a connection kept alive from an earlier one
  core::Micros duration = 0;         // from send() to completion, on a monotonic clock

  // The first header named name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// Called once per request with its outcome.
using ResponseCallback = std::function<void(OutboundResponse)>;

// How the client behaves; every request may override the per-request defaults.
struct HttpClientOptions {
  core::Micros connect_timeout = 5 * core::kMicrosPerSecond;
  core::Micros timeout = 15 * core::kMicrosPerSecond;
  std::size_t max_response_bytes = 64 * 1024;
  long max_total_connections = 0;      // open connections in all (0: no limit); further requests wait for one
  long max_host_connections = 0;       // open connections to one host:port (0: no limit)
  long max_cached_connections = 256;   // idle keep-alive connections kept for reuse
  core::AddressPolicy address_policy;  // the SSRF guard; strict (public addresses only) by default
  // Fixed name resolutions in curl's CURLOPT_RESOLVE form "host:port:address[,address]": the test seam that stands
  // in for DNS. The guard still checks the address each name maps to.
  std::vector<std::string> resolve_overrides;
  std::string user_agent = "repute/0.1";
};

// An asynchronous HTTP client; an interface so that tests of its users can stand in for the network.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Starts a request. Thread-safe: any thread may call it, callbacks included. The callback runs on the client's own
  // thread (it must be quick and must not block), or at once on the calling thread when the client is stopped.
  virtual void send(OutboundRequest request, ResponseCallback callback) = 0;
  // Requests started and not yet answered.
  virtual std::size_t in_flight() const = 0;
  // Ends every request still in flight (their callbacks hear "the HTTP client stopped") and the client's thread.
  // Later sends are answered at once with that error. Idempotent; the destructor calls it.
  virtual void stop() = 0;
};

// Starts the libcurl client and its thread.
core::Result<std::unique_ptr<HttpClient>> start_http_client(HttpClientOptions options);

}  // namespace repute::delivery
