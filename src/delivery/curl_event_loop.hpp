#pragma once
// Drives a libcurl multi handle with epoll: curl says which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when it
// wants to be called back (CURLMOPT_TIMERFUNCTION), and only sockets that have events are handed to
// curl_multi_socket_action. Each turn costs in proportion to the sockets that are ready, not to the transfers in
// flight, which curl_multi_perform/curl_multi_poll would walk every time. Used only by the client's own thread,
// except wake().
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "core/result.hpp"

namespace repute::delivery {

class CurlEventLoop {
 public:
  // Attaches to multi (which must outlive the loop).
  static core::Result<std::unique_ptr<CurlEventLoop>> attach(CURLM* multi);
  ~CurlEventLoop();
  CurlEventLoop(const CurlEventLoop&) = delete;
  CurlEventLoop& operator=(const CurlEventLoop&) = delete;

  // Waits until a socket is ready, curl's timer is due, wake() is called or max_wait passes, then lets curl act.
  void run_once(std::chrono::milliseconds max_wait);
  // Ends a wait in progress (or the next one) at once. Thread-safe; cheap when a wake is already pending.
  void wake();

 private:
  CurlEventLoop(CURLM* multi, int epoll_fd, int wake_fd);
  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);

  CURLM* multi_;
  int epoll_fd_;
  int wake_fd_;  // an eventfd
  std::atomic<bool> wake_pending_{false};
  std::optional<std::chrono::steady_clock::time_point> timer_due_;
};

}  // namespace repute::delivery
