#pragma once
// Integration harness: a webhook receiver on loopback. It records every delivery that reaches it (headers, exact
// body bytes, when it arrived and when it was answered) and answers as the test says per path: 200 by default,
// any status with any headers, after a delay, or never (hanging). It also counts deliveries that arrive while
// another request with the same webhook-id is still being answered: at-least-once must never mean twice at once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace repute::itest {

// One request as it reached the receiver.
struct Delivered {
  std::string path;  // the request target
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // exactly the bytes received
  std::chrono::steady_clock::time_point arrived;
  int status = 0;  // what the receiver answered (0: it never did)

  // The first header named name (any case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  // The webhook-id header, or "".
  std::string webhook_id() const { return header("webhook-id").value_or(""); }
};

// How to answer one request.
struct Answer {
  int status = 200;
  std::string headers;  // extra header lines, "Name: value\r\n" each
  std::string body = "ok";
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool hang = false;                   // never answer; wait until the client gives up or the receiver stops
};

// An answer with status, extra header lines and body, at once.
Answer reply(int status, std::string headers = "", std::string body = "ok");

// The receiver; stops (closing every connection) when destroyed.
class Receiver {
 public:
  using Handler = std::function<Answer(const Delivered&)>;

  Receiver();
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string url(const std::string& path) const;
  // How requests to path are answered from now on (200 "ok" until set).
  void on(const std::string& path, Handler handler);

  // Every request so far, in arrival order; or only those to path.
  std::vector<Delivered> received() const;
  std::vector<Delivered> received(const std::string& path) const;
  // Waits until at least count requests reached path; false on timeout.
  bool wait_for(const std::string& path, std::size_t count,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Requests that arrived while one with the same webhook-id was still being answered.
  int overlaps() const { return overlaps_.load(); }

 private:
  void accept_loop();
  void serve(int fd);
  Answer answer_for(const Delivered& request);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> overlaps_{0};

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::map<std::string, Handler> handlers_;
  std::vector<Delivered> received_;
  std::multiset<std::string> answering_;  // webhook-ids of requests being answered now
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

// What a receiver written from the reference documentation checks X-Argyle-Signature against: lowercase hex
// HMAC-SHA512 of the raw body, keyed with the secret's bytes (computed here with OpenSSL, not with repute's code).
std::string expected_argyle_signature(std::string_view secret, std::string_view body);

// What a Standard Webhooks receiver checks webhook-signature against: "v1," + base64 HMAC-SHA256 of
// "id.timestamp.body", keyed with the base64-decoded part of a "whsec_" secret, else the secret's bytes.
std::string expected_standard_signature(std::string_view secret, std::string_view id, std::string_view timestamp,
                                        std::string_view body);

}  // namespace repute::itest
