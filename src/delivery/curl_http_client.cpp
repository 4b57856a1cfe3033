// The libcurl multi implementation of HttpClient: one thread drives every transfer in flight through a
// CurlEventLoop (epoll and curl_multi_socket_action); send() hands requests over through a queue and a wake.
#include <curl/curl.h>
#include <pthread.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "delivery/curl_event_loop.hpp"
#include "delivery/curl_transfer.hpp"
#include "delivery/http_client.hpp"

namespace repute::delivery {
namespace {

constexpr std::chrono::milliseconds kIdleWait{1000};
constexpr std::size_t kMaxIdleHandles = 1024;
constexpr const char* kStopped = "the HTTP client stopped";

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient(HttpClientOptions options, CURLM* multi, std::unique_ptr<CurlEventLoop> loop, curl_slist* resolve)
      : options_(std::move(options)), multi_(multi), loop_(std::move(loop)), resolve_(resolve), thread_([this] {
          run();
        }) {}

  ~CurlHttpClient() override {
    stop();
    for (CURL* easy : idle_handles_) curl_easy_cleanup(easy);
    loop_.reset();
    curl_multi_cleanup(multi_);
    curl_slist_free_all(resolve_);
  }

  void send(OutboundRequest request, ResponseCallback callback) override {
    bool stopped = true;
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        stopped = false;
        submitted_.push_back({std::move(request), std::move(callback)});
        in_flight_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!stopped) return loop_->wake();
    OutboundResponse response;
    response.error = kStopped;
    callback(std::move(response));
  }

  std::size_t in_flight() const override { return in_flight_.load(std::memory_order_relaxed); }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    loop_->wake();
    thread_.join();
  }

 private:
  struct Submission {
    OutboundRequest request;
    ResponseCallback callback;
  };

  void run() {
    pthread_setname_np(pthread_self(), "repute-http");
    for (;;) {
      const bool stopping = start_submitted();
      if (stopping) break;
      loop_->run_once(kIdleWait);
      complete_finished();
    }
    abandon_all();
  }

  // Adds every queued request to the multi handle; true once stop() was called.
  bool start_submitted() {
    std::deque<Submission> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(submitted_);
      if (stopping_) {
        for (Submission& submission : taken) finish_early(std::move(submission.callback), kStopped);
        return true;
      }
    }
    for (Submission& submission : taken) start(std::move(submission));
    return false;
  }

  void start(Submission submission) {
    CURL* easy = take_handle();
    if (!easy) return finish_early(std::move(submission.callback), "cannot make a curl handle");
    auto transfer = std::make_unique<CurlTransfer>(easy, std::move(submission.request), std::move(submission.callback));
    core::Status configured = transfer->configure(options_, resolve_);
    if (configured && curl_multi_add_handle(multi_, easy) == CURLM_OK) {
      transfer.release();  // owned through CURLOPT_PRIVATE until complete_finished()
      running_.insert(easy);
      return;
    }
    OutboundResponse response = transfer->fail(configured ? "cannot start the transfer" : configured.error().message);
    ResponseCallback callback = transfer->take_callback();
    give_back_handle(easy);
    transfer.reset();
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    callback(std::move(response));
  }

  void complete_finished() {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode result = message->data.result;
      std::unique_ptr<CurlTransfer> transfer(owner_of(easy));
      curl_multi_remove_handle(multi_, easy);
      running_.erase(easy);
      OutboundResponse response = transfer->finish(result);
      ResponseCallback callback = transfer->take_callback();
      transfer.reset();
      give_back_handle(easy);
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      callback(std::move(response));
    }
  }

  // Ends every transfer still running, telling each caller.
  void abandon_all() {
    for (CURL* easy : running_) {
      std::unique_ptr<CurlTransfer> transfer(owner_of(easy));
      curl_multi_remove_handle(multi_, easy);
      OutboundResponse response = transfer->fail(kStopped);
      ResponseCallback callback = transfer->take_callback();
      transfer.reset();
      curl_easy_cleanup(easy);
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      callback(std::move(response));
    }
    running_.clear();
  }

  static CurlTransfer* owner_of(CURL* easy) {
    char* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    return reinterpret_cast<CurlTransfer*>(owner);
  }

  void finish_early(ResponseCallback callback, const char* error) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    OutboundResponse response;
    response.error = error;
    callback(std::move(response));
  }

  CURL* take_handle() {
    if (idle_handles_.empty()) return curl_easy_init();
    CURL* easy = idle_handles_.back();
    idle_handles_.pop_back();
    return easy;
  }

  // Keeps the handle for the next request (reset keeps its connection and DNS caches), or frees it.
  void give_back_handle(CURL* easy) {
    if (idle_handles_.size() >= kMaxIdleHandles) return curl_easy_cleanup(easy);
    curl_easy_reset(easy);
    idle_handles_.push_back(easy);
  }

  const HttpClientOptions options_;
  CURLM* const multi_;
  std::unique_ptr<CurlEventLoop> loop_;
  curl_slist* const resolve_;
  std::vector<CURL*> idle_handles_;    // client thread only
  std::unordered_set<CURL*> running_;  // client thread only

  std::mutex mutex_;
  std::deque<Submission> submitted_;
  bool stopping_ = false;
  std::atomic<std::size_t> in_flight_{0};
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace

core::Result<std::unique_ptr<HttpClient>> start_http_client(HttpClientOptions options) {
  static const CURLcode initialised = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (initialised != CURLE_OK) return core::internal_error("cannot initialise libcurl");

  curl_slist* resolve = nullptr;
  for (const std::string& entry : options.resolve_overrides) {
    curl_slist* grown = curl_slist_append(resolve, entry.c_str());
    if (!grown) {
      curl_slist_free_all(resolve);
      return core::internal_error("out of memory");
    }
    resolve = grown;
  }
  CURLM* multi = curl_multi_init();
  if (!multi) {
    curl_slist_free_all(resolve);
    return core::internal_error("cannot make a curl multi handle");
  }
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
  auto loop = CurlEventLoop::attach(multi);
  if (!loop) {
    curl_multi_cleanup(multi);
    curl_slist_free_all(resolve);
    return loop.error();
  }
  return std::unique_ptr<HttpClient>(new CurlHttpClient(std::move(options), multi, std::move(*loop), resolve));
}

}  // namespace repute::delivery
