// The only translation unit that includes Boost.Beast: everything else sees api/http.hpp.
#include "api/server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "obs/log.hpp"

namespace repute::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Server;

// One client connection: reads requests one after another and answers each in order.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server);
  ~Session();

  void start();
  // Asks the connection to close once its current request (if any) is answered.
  void drain();

 private:
  void read_header();
  void on_header(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void handle();
  void write(HttpResponse response, bool close_after);
  void on_write(beast::error_code ec, bool keep_alive);
  void fail_request(beast::error_code ec);
  // Half-closes, then reads what the client still sends for a moment, so our answer is not lost to a reset.
  void linger_close();
  void linger_read();
  void close();

  beast::tcp_stream stream_;
  Server& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false;
  bool draining_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  std::array<char, 4096> scratch_{};
};

class Server final : public HttpServer {
 public:
  Server(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)), acceptor_(net::make_strand(io_)) {}
  ~Server() override { stop(); }

  core::Status listen() {
    beast::error_code ec;
    const auto address = net::ip::make_address(options_.host, ec);
    if (ec) return core::invalid("cannot listen on \"" + options_.host + "\": not an IP address");
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return core::Error{core::ErrorCode::kUnavailable, "cannot listen on " + options_.host + ":" +
                                                            std::to_string(options_.port) + ": " + ec.message()};
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    // Keeps the worker threads running while a handler waits for the store and no socket operation is pending.
    work_.emplace(io_.get_executor());
    const int threads =
        options_.threads > 0 ? options_.threads : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
    return core::ok_status();
  }

  std::uint16_t port() const override { return port_; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    // From here on no session is added (see add_session): those accepted just before the acceptor closes are
    // turned away instead of living on undrained until the timeout.
    for (auto& session : live_sessions(/*begin_draining=*/true)) session->drain();
    const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
    while (session_count_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    work_.reset();
    io_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }

  // False once stop() has begun draining: the caller drops the session, which closes its connection.
  bool add_session(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(sessions_mutex_);
    if (draining_) return false;
    sessions_[session.get()] = session;
    return true;
  }
  void remove_session(Session* session) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session);
    --session_count_;
  }

 private:
  std::vector<std::shared_ptr<Session>> live_sessions(bool begin_draining) {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard lock(sessions_mutex_);
    draining_ = draining_ || begin_draining;
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    return live;
  }

  void accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        if (session_count_.load() >= static_cast<int>(options_.max_connections)) {
          obs::log_warn("connection refused: too many connections",
                        {{"limit", std::int64_t(options_.max_connections)}});
          socket.close(ec);
        } else {
          socket.set_option(tcp::no_delay(true), ec);
          ++session_count_;
          auto session = std::make_shared<Session>(std::move(socket), *this);
          if (add_session(session)) session->start();
        }
      }
      accept();
    });
  }

  ServerOptions options_;
  Handler handler_;
  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> session_count_{0};
  std::mutex sessions_mutex_;
  bool draining_ = false;  // under sessions_mutex_
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

std::string error_json(std::string_view detail) { return "{\"detail\":\"" + std::string(detail) + "\"}"; }

Session::Session(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {}

Session::~Session() { server_.remove_session(this); }

void Session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Session::drain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->draining_ = true;
    if (!self->busy_) self->close();
  });
}

void Session::read_header() {
  head_ = false;
  parser_.emplace();
  parser_->body_limit(server_.options().body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(server_.options().header_limit));
  stream_.expires_after(server_.options().idle_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(beast::error_code ec) {
  if (ec) return fail_request(ec);
  busy_ = true;
  stream_.expires_after(server_.options().request_timeout);
  const auto& request = parser_->get();
  // Only chunked framing is understood; any other transfer coding would leave the body's end unknown and
  // let its bytes pass for a next request.
  if (request.count(http::field::transfer_encoding) && !parser_->chunked()) {
    return write({400, error_json("Unsupported Transfer-Encoding: only chunked is accepted."), "application/json", {}},
                 true);
  }
  if (const auto length = parser_->content_length(); length && *length > server_.options().body_limit) {
    return write({413, error_json("Request body is too large."), "application/json", {}}, true);
  }
  const auto expect = request[http::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, request.version());
    http::async_write(stream_, *interim, [self = shared_from_this(), interim](beast::error_code write_ec, std::size_t) {
      if (write_ec) return self->close();
      self->read_body();
    });
    return;
  }
  read_body();
}

void Session::read_body() {
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void Session::on_body(beast::error_code ec) {
  if (ec) return fail_request(ec);
  handle();
}

void Session::fail_request(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout ||
      ec == net::error::eof || ec == net::error::connection_reset) {
    return close();
  }
  busy_ = true;
  if (ec == http::error::body_limit)
    return write({413, error_json("Request body is too large."), "application/json", {}}, true);
  if (ec == http::error::header_limit) {
    return write({431, error_json("Request header fields are too large."), "application/json", {}}, true);
  }
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return write({400, error_json("Malformed HTTP request."), "application/json", {}}, true);
  }
  close();
}

void Session::handle() {
  auto& message = parser_->get();
  keep_alive_ = message.keep_alive();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.host = std::string(message[http::field::host]);
  request.authorization = std::string(message[http::field::authorization]);
  request.content_type = std::string(message[http::field::content_type]);
  for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
  request.body = std::move(message.body());
  // HEAD is served as GET whose body is left out of the answer.
  head_ = request.method == "HEAD";
  if (head_) request.method = "GET";
  // The origin form "/path?query", or the absolute form "http://host/path?query" that proxies send.
  auto target = boost::urls::parse_origin_form(message.target());
  if (!target) target = boost::urls::parse_absolute_uri(message.target());
  if (!target) return write({400, error_json("Malformed request target."), "application/json", {}}, true);
  request.path = target->encoded_path().empty() ? "/" : std::string(target->encoded_path());
  for (const auto& param : target->params()) request.query.emplace_back(param.key, param.value);

  // The respond callback keeps the session alive until the answer is written, however late it comes.
  server_.handler()(std::move(request), [self = shared_from_this()](HttpResponse response) {
    auto executor = self->stream_.get_executor();
    net::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
      self->write(std::move(response), false);
    });
  });
}

void Session::write(HttpResponse response, bool close_after) {
  auto message = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
  message->set(http::field::server, "repute");
  // 204 and 304 carry no body and so no Content-Type or Content-Length (RFC 9110 §8.6).
  const bool bodiless = response.status == 204 || response.status == 304;
  if (!bodiless) {
    message->set(http::field::content_type, response.content_type);
    message->content_length(response.body.size());
    // A HEAD answer says how long the GET body would be, and sends none.
    if (!head_) message->body() = std::move(response.body);
  }
  for (const auto& [name, value] : response.headers) message->set(name, value);
  message->keep_alive(keep_alive_ && !draining_ && !close_after);
  stream_.expires_after(server_.options().request_timeout);
  http::async_write(stream_, *message,
                    [self = shared_from_this(), message, close_after](beast::error_code ec, std::size_t) {
                      if (!ec && close_after) return self->linger_close();
                      self->on_write(ec, message->keep_alive());
                    });
}

void Session::on_write(beast::error_code ec, bool keep_alive) {
  busy_ = false;
  if (ec || !keep_alive || draining_) return close();
  read_header();
}

void Session::linger_close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(2));
  linger_read();
}

void Session::linger_read() {
  stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->close();
    self->linger_read();
  });
}

void Session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

}  // namespace

core::Result<std::unique_ptr<HttpServer>> start_http_server(const ServerOptions& options, Handler handler) {
  auto server = std::make_unique<Server>(options, std::move(handler));
  if (auto listening = server->listen(); !listening) return listening.error();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace repute::api
