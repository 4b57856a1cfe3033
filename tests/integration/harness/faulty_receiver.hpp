#pragma once
// Integration harness: a webhook receiver on loopback that misbehaves at the TCP level on purpose. Each connection
// plays one scripted Fault (the next one of the script, then the fallback for every later connection): an HTTP
// status, a reset, silence, a response trickled out a byte at a time, a body that never ends or is huge, or bytes
// that are not HTTP. Every connection carries one request at most (answers say "Connection: close"), so one
// delivery attempt is one connection, and what the receiver did on each is recorded for the test to compare with
// what the server logged.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace repute::itest {

// What the receiver does on a connection.
enum class FaultKind {
  kStatus,          // reads the request, answers status with extra headers and a short body, closes
  kReset,           // reads the request, then resets the connection (SO_LINGER 0, close): the client sees RST
  kHang,            // reads the request and never answers; holds the connection until the client gives up
  kSlow,            // a valid 200, written one byte per `per_byte`
  kEndlessBody,     // 200 and headers without Content-Length, then body bytes until the client goes away
  kEndlessChunked,  // 200 with Transfer-Encoding: chunked, then chunks until the client goes away
  kHugeBody,        // 200 with Content-Length: body_bytes, then that many bytes (or until the client goes away)
  kGarbage,         // reads the request, answers "hello\r\n\r\n" and random bytes that are not HTTP, closes
};

// One scripted behaviour.
struct Fault {
  FaultKind kind = FaultKind::kStatus;
  int status = 200;                       // kStatus
  std::string headers;                    // kStatus: extra header lines, "Name: value\r\n" each
  std::chrono::milliseconds per_byte{0};  // kSlow
  std::size_t body_bytes = 0;             // kHugeBody

  // A short label for test names and logs, e.g. "503_retry_after" or "reset".
  std::string label() const;
};

// Answers status (with extra header lines) and closes.
Fault answer_status(int status, std::string headers = "");
// Resets the connection after reading the request.
Fault reset_after_request();
// Reads the request and never answers.
Fault never_answer();
// Answers a valid 200 one byte every per_byte.
Fault answer_slowly(std::chrono::milliseconds per_byte);
// 200, then a body with no length that never ends.
Fault endless_body();
// 200, then chunks for ever.
Fault endless_chunked_body();
// 200 with Content-Length: bytes, and the bytes.
Fault huge_body(std::size_t bytes);
// Bytes that are not an HTTP response.
Fault garbage();

// One connection as the receiver saw it.
struct FaultyConnection {
  Fault fault;
  std::chrono::steady_clock::time_point accepted;
  bool request_read = false;      // a whole request (head and Content-Length body) arrived
  std::string request_line;       // e.g. "POST /hook HTTP/1.1"
  std::string webhook_id;         // its webhook-id header ("" when none)
  std::size_t bytes_sent = 0;     // response bytes the kernel took (not all of them need have reached the client)
  bool client_went_away = false;  // the client closed or reset before the receiver was done
  bool done = false;              // the receiver has closed the connection
  std::chrono::steady_clock::time_point closed;  // when done became true
};

class FaultyReceiver {
 public:
  // Every connection plays fault.
  explicit FaultyReceiver(Fault fault);
  // Connection i plays script[i]; every connection after the script plays then.
  FaultyReceiver(std::vector<Fault> script, Fault then);
  // Stops accepting, ends every connection and joins every thread.
  ~FaultyReceiver();
  FaultyReceiver(const FaultyReceiver&) = delete;
  FaultyReceiver& operator=(const FaultyReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string url(const std::string& path = "/hook") const;

  // Every connection so far, in the order they were accepted.
  std::vector<FaultyConnection> connections() const;
  // Waits until at least count connections were accepted; false on timeout.
  bool wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const;
  // Connections accepted and not yet closed by the receiver.
  std::size_t open_connections() const;

 private:
  void accept_loop();
  void serve(int fd, std::size_t index);
  // Reads one request; false when the client went away or the receiver stops first.
  bool read_request(int fd, std::size_t index);
  // Plays fault on fd after the request was read.
  void play(int fd, std::size_t index, const Fault& fault);
  // Sends bytes within the receiver's write budget; false when the client went away or the receiver stops.
  bool send_bytes(int fd, std::size_t index, const char* data, std::size_t size);
  // Waits until the client closes the connection or the receiver stops.
  void wait_for_client_close(int fd, std::size_t index);
  void mark_client_gone(std::size_t index);

  std::deque<Fault> script_;
  const Fault then_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mutex_;
  mutable std::condition_variable accepted_;
  std::vector<FaultyConnection> connections_;
  std::vector<std::thread> threads_;  // acceptor only
  std::thread acceptor_;
};

}  // namespace repute::itest
