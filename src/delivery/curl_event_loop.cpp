#include "delivery/curl_event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace repute::delivery {
namespace {

constexpr int kMaxEvents = 256;

std::uint32_t epoll_events(int what) {
  switch (what) {
    case CURL_POLL_IN:
      return EPOLLIN;
    case CURL_POLL_OUT:
      return EPOLLOUT;
    case CURL_POLL_INOUT:
      return EPOLLIN | EPOLLOUT;
    default:
      return 0;
  }
}

}  // namespace

core::Result<std::unique_ptr<CurlEventLoop>> CurlEventLoop::attach(CURLM* multi) {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return core::internal_error(std::string("epoll_create1: ") + std::strerror(errno));
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd;
  if (wake_fd < 0 || ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    const std::string why = std::strerror(errno);
    ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
    return core::internal_error("eventfd: " + why);
  }
  std::unique_ptr<CurlEventLoop> loop(new CurlEventLoop(multi, epoll_fd, wake_fd));
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &CurlEventLoop::on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, loop.get());
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &CurlEventLoop::on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, loop.get());
  return loop;
}

CurlEventLoop::CurlEventLoop(CURLM* multi, int epoll_fd, int wake_fd)
    : multi_(multi), epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

CurlEventLoop::~CurlEventLoop() {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void CurlEventLoop::wake() {
  if (wake_pending_.exchange(true)) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
}

int CurlEventLoop::on_socket(CURL*, curl_socket_t socket, int what, void* self, void*) {
  auto& loop = *static_cast<CurlEventLoop*>(self);
  if (what == CURL_POLL_REMOVE) {
    ::epoll_ctl(loop.epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = epoll_events(what);
  event.data.fd = socket;
  // A socket number curl reuses may or may not still be registered (epoll forgets closed sockets by itself).
  if (::epoll_ctl(loop.epoll_fd_, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT) {
    ::epoll_ctl(loop.epoll_fd_, EPOLL_CTL_ADD, socket, &event);
  }
  return 0;
}

int CurlEventLoop::on_timer(CURLM*, long timeout_ms, void* self) {
  auto& loop = *static_cast<CurlEventLoop*>(self);
  if (timeout_ms < 0) {
    loop.timer_due_.reset();
  } else {
    loop.timer_due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void CurlEventLoop::run_once(std::chrono::milliseconds max_wait) {
  using std::chrono::steady_clock;
  int wait_ms = static_cast<int>(max_wait.count());
  if (timer_due_) {
    const auto until = std::chrono::ceil<std::chrono::milliseconds>(*timer_due_ - steady_clock::now()).count();
    wait_ms = static_cast<int>(std::clamp<long long>(until, 0, wait_ms));
  }
  std::array<epoll_event, kMaxEvents> events;
  const int ready = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, wait_ms);
  int running = 0;
  for (int i = 0; i < ready; ++i) {
    const int fd = events[static_cast<std::size_t>(i)].data.fd;
    if (fd == wake_fd_) {
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &count, sizeof count);
      wake_pending_.store(false);
      continue;
    }
    const std::uint32_t flags = events[static_cast<std::size_t>(i)].events;
    int action = 0;
    if (flags & EPOLLIN) action |= CURL_CSELECT_IN;
    if (flags & EPOLLOUT) action |= CURL_CSELECT_OUT;
    if (flags & (EPOLLERR | EPOLLHUP)) action |= CURL_CSELECT_ERR;
    curl_multi_socket_action(multi_, fd, action, &running);
  }
  if (timer_due_ && steady_clock::now() >= *timer_due_) {
    timer_due_.reset();
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

}  // namespace repute::delivery
