#pragma once
// Integration harness: an HTTP/1.1 client for the server under test (libcurl easy, one keep-alive
// connection), and a raw socket for bytes no well-behaved client would send.
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "integration/harness/repute_process.hpp"

namespace repute::itest {

// HTTP Basic credentials: user and password.
struct Credentials {
  std::string user;
  std::string password;
};

// The Basic credentials of an API key (api_key_id:api_key_secret).
Credentials basic(const ApiKey& key);

// The "Authorization: Basic ..." header line for credentials, for requests sent as raw bytes.
std::string authorization_header(const Credentials& credentials);

// What the server answered.
struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;

  // The first header called name (any case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  // The body as JSON; throws std::runtime_error (quoting the body) when it is not JSON.
  boost::json::value json() const;
};

// Extra request headers, "Name: value" each ("Name:" removes a header curl would add).
using Headers = std::vector<std::string>;

// A libcurl easy handle bound to 127.0.0.1:port; consecutive requests reuse one connection.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Closes the connection.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request; throws std::runtime_error on a transport failure (refused, reset, timeout).
  Response request(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::optional<Credentials>& credentials = std::nullopt, const Headers& headers = {});
  // As request(), but a transport failure is nullopt instead of an exception.
  std::optional<Response> try_request(const std::string& method, const std::string& path, const std::string& body = "",
                                      const std::optional<Credentials>& credentials = std::nullopt,
                                      const Headers& headers = {});
  // How many TCP connections this client has opened so far.
  long connections_opened() const { return connections_opened_; }
  // The absolute URL of path on the server.
  std::string url(const std::string& path) const;

 private:
  // nullopt with error set on a transport failure.
  std::optional<Response> perform(const std::string& method, const std::string& path, const std::string& body,
                                  const std::optional<Credentials>& credentials, const Headers& headers,
                                  std::string& error);

  void* handle_ = nullptr;  // CURL*
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  long connections_opened_ = 0;
};

// One TCP connection to 127.0.0.1:port that sends and reads raw bytes.
class RawConnection {
 public:
  // Connects at once; throws std::runtime_error when it cannot.
  explicit RawConnection(std::uint16_t port);
  // Closes the socket.
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of bytes; false when the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  // Closes our sending half (the server then sees end of stream).
  void shutdown_write();
  // The local (client side) port of the connection.
  std::uint16_t local_port() const;
  // Asks the kernel for a small receive buffer (before much is sent), so the server's writes back up sooner.
  void shrink_receive_buffer(int bytes);
  // Reads one response framed by Content-Length (no body when head_request); nullopt on timeout,
  // on a close before it is whole, or when the bytes are not an HTTP response.
  std::optional<Response> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                        bool head_request = false);
  // Reads until the server closes (or timeout passes); returns every byte not yet consumed.
  std::string read_until_close(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the server closed the connection within timeout (bytes it sends meanwhile are kept).
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  // Reads what is available into pending_ within the deadline; false on timeout, EOF or error.
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool eof_ = false;
  std::string pending_;
};

// Parses a whole response held in raw (status line, headers, body as the rest); nullopt if malformed.
std::optional<Response> parse_response(std::string_view raw);

}  // namespace repute::itest
