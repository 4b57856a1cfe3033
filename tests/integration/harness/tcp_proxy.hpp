#pragma once
// A TCP relay on loopback that a test can cut and restore, to play a network cut or a database server restart
// between repute and what it talks to: cut() closes every relayed connection and stops listening (new connections
// are refused), restore() listens again on the same port.
#include <cstdint>
#include <memory>
#include <string>

namespace repute::itest {

class TcpProxy {
 public:
  // Relays 127.0.0.1:port() to 127.0.0.1:target_port; throws std::runtime_error when it cannot listen.
  explicit TcpProxy(std::uint16_t target_port);
  // Closes everything and stops the relay's thread.
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The loopback port the relay listens on.
  std::uint16_t port() const;
  // Drops every relayed connection and refuses new ones until restore(); returns once done.
  void cut();
  // Accepts connections again, on the same port; returns once listening.
  void restore();
  // Connections accepted so far.
  int accepted() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace repute::itest
