#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 for tests of the outbound client: it records every request and answers with
// whatever bytes the test chooses, including answers no good server gives (hanging, endless bodies).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace repute::delivery::testing {

// One request as it arrived.
struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // 1 for the first connection accepted, 2 for the next...

  // The first header named name (any case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

// How to answer one request.
struct Reply {
  std::string raw;       // bytes written back as they are
  bool close = false;    // then close the connection
  bool hang = false;     // then neither answer more nor close, until the server stops
  bool endless = false;  // then write body bytes until the client goes away
};

// A whole response: status line, Content-Length, extra header lines ("Name: value\r\n" each), body.
Reply http_reply(int status, std::string_view body = "", std::string_view extra_headers = "");

// The server; stops (closing every connection) when destroyed.
class LoopbackServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string url(std::string_view path = "/") const;
  // Every request so far, in arrival order.
  std::vector<ReceivedRequest> requests() const;
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // Connections the client has closed so far.
  int closed_by_client() const { return closed_by_client_.load(); }
  // Waits until count requests have arrived; false on timeout.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  void accept_loop();
  void serve(int fd, int connection);

  Handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> closed_by_client_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<ReceivedRequest> requests_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace repute::delivery::testing
