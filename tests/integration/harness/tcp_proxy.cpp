#include "integration/harness/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace repute::itest {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

// A listening socket on 127.0.0.1:port (0: any free port), or -1.
int listen_on(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  const sockaddr_in address = loopback(port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 || listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace

struct TcpProxy::State {
  struct Pair {
    int client = -1;
    int server = -1;
  };

  std::uint16_t target = 0;
  std::uint16_t port = 0;
  int listener = -1;
  int wake[2] = {-1, -1};
  std::vector<Pair> pairs;
  std::atomic<int> accepted{0};
  std::atomic<bool> stopping{false};

  std::mutex mutex;
  std::condition_variable done;
  enum class Request { kNone, kCut, kRestore } request = Request::kNone;
  std::thread thread;

  void close_pairs() {
    for (Pair& pair : pairs) {
      close(pair.client);
      close(pair.server);
    }
    pairs.clear();
  }

  void serve_request() {
    char drained[64];
    while (read(wake[0], drained, sizeof drained) > 0) {
    }
    std::lock_guard lock(mutex);
    if (request == Request::kCut) {
      close_pairs();
      if (listener >= 0) close(listener);
      listener = -1;
    } else if (request == Request::kRestore && listener < 0) {
      listener = listen_on(port);
    }
    request = Request::kNone;
    done.notify_all();
  }

  void accept_one() {
    const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    ++accepted;
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = loopback(target);
    if (server < 0 || connect(server, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      if (server >= 0) close(server);
      close(client);
      return;
    }
    pairs.push_back({client, server});
  }

  void run() {
    std::vector<char> buffer(64 * 1024);
    while (!stopping) {
      std::vector<pollfd> fds{{wake[0], POLLIN, 0}};
      if (listener >= 0) fds.push_back({listener, POLLIN, 0});
      const std::size_t first_pair = fds.size();
      for (const Pair& pair : pairs) {
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.server, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 200) <= 0) continue;
      if (fds[0].revents) {
        serve_request();
        continue;  // the pairs may be gone
      }
      if (listener >= 0 && fds[1].revents) accept_one();
      std::vector<bool> dead(pairs.size(), false);
      for (std::size_t i = first_pair; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        const std::size_t index = (i - first_pair) / 2;
        if (dead[index]) continue;
        const Pair& pair = pairs[index];
        const bool from_client = (i - first_pair) % 2 == 0;
        const ssize_t got = recv(fds[i].fd, buffer.data(), buffer.size(), 0);
        if (got <= 0 || !send_all(from_client ? pair.server : pair.client, buffer.data(), static_cast<std::size_t>(got))) {
          dead[index] = true;
        }
      }
      std::vector<Pair> alive;
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        if (dead[i]) {
          close(pairs[i].client);
          close(pairs[i].server);
        } else {
          alive.push_back(pairs[i]);
        }
      }
      pairs.swap(alive);
    }
    close_pairs();
    if (listener >= 0) close(listener);
  }

  void ask(Request what) {
    std::unique_lock lock(mutex);
    request = what;
    const char byte = 1;
    if (write(wake[1], &byte, 1) != 1) throw std::runtime_error("tcp proxy: cannot wake its thread");
    done.wait(lock, [this] { return request == Request::kNone; });
  }
};

TcpProxy::TcpProxy(std::uint16_t target_port) : state_(std::make_unique<State>()) {
  state_->target = target_port;
  state_->listener = listen_on(0);
  if (state_->listener < 0) throw std::runtime_error("tcp proxy: cannot listen on loopback");
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(state_->listener, reinterpret_cast<sockaddr*>(&address), &length);
  state_->port = ntohs(address.sin_port);
  if (pipe2(state_->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(state_->listener);
    throw std::runtime_error("tcp proxy: pipe failed");
  }
  state_->thread = std::thread([state = state_.get()] { state->run(); });
}

TcpProxy::~TcpProxy() {
  state_->stopping = true;
  const char byte = 1;
  (void)!write(state_->wake[1], &byte, 1);
  state_->thread.join();
  close(state_->wake[0]);
  close(state_->wake[1]);
}

std::uint16_t TcpProxy::port() const { return state_->port; }
void TcpProxy::cut() { state_->ask(State::Request::kCut); }
void TcpProxy::restore() { state_->ask(State::Request::kRestore); }
int TcpProxy::accepted() const { return state_->accepted; }

}  // namespace repute::itest
