#pragma once
// The HTTP/1.1 server: keep-alive connections, limits and timeouts, graceful drain.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http.hpp"
#include "core/result.hpp"

namespace repute::api {

// How the server listens and what it tolerates from clients.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 0;                                  // 0: one per core
  std::size_t body_limit = 1 << 20;                 // larger bodies get 413
  std::size_t header_limit = 16 << 10;              // larger headers get 431
  std::chrono::seconds idle_timeout{30};            // a connection silent this long is closed
  std::chrono::seconds request_timeout{30};         // a request must arrive whole within this
  std::size_t max_connections = 10000;              // further connections are closed at once
  std::chrono::seconds drain_timeout{10};           // how long stop() waits for requests in flight
};

// A running server.
class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // The port actually bound (useful when asked for port 0).
  virtual std::uint16_t port() const = 0;
  // Stops accepting, lets requests in flight finish (up to the drain timeout), then closes everything.
  virtual void stop() = 0;
};

// Binds, starts the worker threads, and serves every request with handler.
core::Result<std::unique_ptr<HttpServer>> start_http_server(const ServerOptions& options, Handler handler);

}  // namespace repute::api
