#pragma once
// Integration harness: a loopback HTTP server that plays an account's `http` source. The test says how it
// answers (well, slowly, with a 500, with malformed or oversized bodies) and can change that at any time.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace repute::itest {

class SourceServer {
 public:
  // How the next requests are answered.
  enum class Behaviour {
    kGood,         // 200 with the body set by set_body()
    kSlow,         // nothing at all until the client gives up (or the server stops)
    kStalledBody,  // 200 headers and the whole good body, but a Content-Length that promises more; then silence
    kServerError,  // 500 with a small JSON body
    kMalformed,    // 200 with a body that is not JSON
    kOversized,    // 200 with a well-formed JSON body of kOversizedBytes
  };

  // Bytes of a kOversized answer: beyond the 256 KiB a scan reads.
  static constexpr std::size_t kOversizedBytes = 300 * 1024;

  // Listens on 127.0.0.1 at a port of the system's choosing; answers kGood with `{}` until told otherwise.
  SourceServer();
  ~SourceServer();
  SourceServer(const SourceServer&) = delete;
  SourceServer& operator=(const SourceServer&) = delete;

  std::uint16_t port() const { return port_; }
  // http://127.0.0.1:<port><path>
  std::string url(const std::string& path = "/reputation") const;

  void answer(Behaviour behaviour);
  // The JSON a good answer carries.
  void set_body(std::string body);

  // Requests received so far (counted once their head is read, before they are answered).
  int requests() const;
  // Waits until at least count requests have arrived; false on timeout.
  bool wait_for_requests(int count, std::chrono::milliseconds timeout) const;
  // The request line and headers of the latest request.
  std::string last_request_head() const;

  // Stops accepting, ends every connection and joins every thread. The destructor calls it.
  void stop();

 private:
  void accept_loop();
  void serve(int fd);
  // Waits until the peer closes, the server stops, or timeout passes; true when the peer closed.
  bool wait_for_close(int fd, std::chrono::milliseconds timeout) const;

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mutex_;
  mutable std::condition_variable request_arrived_;
  Behaviour behaviour_ = Behaviour::kGood;
  std::string body_ = "{}";
  int requests_ = 0;
  std::string last_head_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace repute::itest
