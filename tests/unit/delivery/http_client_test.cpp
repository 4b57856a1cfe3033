// The outbound HTTP client against a loopback server started in the test: what goes on the wire, keep-alive
// reuse, no redirects, bounded bodies, timeouts, and the SSRF guard on the dialled address. Guard tests map names
// to private addresses with CURLOPT_RESOLVE; the guard refuses them before a socket exists, so no packet ever
// leaves for a non-loopback address.
#include "delivery/http_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "unit/delivery/loopback_server.hpp"

namespace repute::delivery {
namespace {

using testing::http_reply;
using testing::LoopbackServer;
using testing::ReceivedRequest;
using testing::Reply;
using namespace std::chrono_literals;

constexpr core::Micros kMillis = 1000;

core::AddressPolicy loopback_allowed() { return core::AddressPolicy({}, true); }

std::unique_ptr<HttpClient> make_client(HttpClientOptions options = {}) {
  if (options.address_policy.check(*core::parse_ip_literal("127.0.0.1")).ok() == false &&
      options.resolve_overrides.empty()) {
    options.address_policy = loopback_allowed();
  }
  auto client = start_http_client(std::move(options));
  EXPECT_TRUE(client.ok());
  return std::move(*client);
}

// Sends and waits for the answer.
OutboundResponse exchange(HttpClient& client, OutboundRequest request) {
  std::promise<OutboundResponse> answered;
  auto future = answered.get_future();
  client.send(std::move(request), [&answered](OutboundResponse response) { answered.set_value(std::move(response)); });
  EXPECT_EQ(future.wait_for(30s), std::future_status::ready);
  return future.get();
}

OutboundRequest post(const std::string& url, std::string body = "{}") {
  OutboundRequest request;
  request.url = url;
  request.body = std::move(body);
  request.headers = {{"Content-Type", "application/json"}, {"webhook-id", "abc"}};
  return request;
}

TEST(HttpClient, SendsMethodHeadersAndBodyExactly) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(200, "thanks", "X-Reply: yes\r\n"); });
  auto client = make_client();
  const std::string body = R"({"event":"reputations.added","name":"n","data":{"account":"a"}})";
  OutboundResponse response = exchange(*client, post(server.url("/hooks?x=1"), body));

  ASSERT_EQ(response.status, 200) << response.error.value_or("");
  EXPECT_FALSE(response.error);
  EXPECT_EQ(response.body, "thanks");
  EXPECT_EQ(response.header("x-reply"), "yes");
  EXPECT_GT(response.duration, 0);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/hooks?x=1");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].header("content-type"), "application/json");
  EXPECT_EQ(requests[0].header("webhook-id"), "abc");
  EXPECT_EQ(requests[0].header("user-agent"), "repute/0.1");
  EXPECT_FALSE(requests[0].header("expect"));
}

TEST(HttpClient, GetSendsNoBody) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(200, R"({"rating":"4.5"})"); });
  auto client = make_client();
  OutboundRequest request;
  request.method = "GET";
  request.url = server.url("/source");
  OutboundResponse response = exchange(*client, request);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"rating":"4.5"})");
  EXPECT_EQ(server.requests().at(0).method, "GET");
  EXPECT_EQ(server.requests().at(0).body, "");
}

TEST(HttpClient, ReusesKeepAliveConnections) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(204); });
  auto client = make_client();
  for (int i = 0; i < 5; ++i) {
    OutboundResponse response = exchange(*client, post(server.url()));
    ASSERT_EQ(response.status, 204);
    EXPECT_EQ(response.reused_connection, i > 0);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, DoesNotFollowRedirects) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(302, "", "Location: /elsewhere\r\n"); });
  auto client = make_client();
  OutboundResponse response = exchange(*client, post(server.url("/start")));
  EXPECT_EQ(response.status, 302);
  EXPECT_FALSE(response.error);
  ASSERT_TRUE(server.wait_for_requests(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, CutsOffLongBodiesAndClosesTheConnection) {
  const std::string big(200 * 1024, 'b');
  LoopbackServer server([&big](const ReceivedRequest&) { return http_reply(200, big); });
  HttpClientOptions options;
  options.max_response_bytes = 64 * 1024;
  auto client = make_client(options);
  OutboundResponse response = exchange(*client, post(server.url()));
  EXPECT_EQ(response.status, 200);  // the status line decides
  EXPECT_TRUE(response.body_cut_off);
  EXPECT_EQ(response.body.size(), 64u * 1024);
  EXPECT_EQ(response.error, "response body cut off after 65536 bytes");
  // The rest was never read, so that connection cannot carry the next request.
  ASSERT_EQ(exchange(*client, post(server.url())).status, 200);
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClient, CutsOffEndlessBodies) {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply;
    reply.raw = "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n";
    reply.endless = true;  // not even valid chunks: the client must stop reading anyway
    return reply;
  });
  auto client = make_client();
  OutboundRequest request = post(server.url());
  request.max_response_bytes = 1000;
  OutboundResponse response = exchange(*client, request);
  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(response.error);
  EXPECT_LE(response.body.size(), 1000u);
  EXPECT_LT(response.duration, 5 * core::kMicrosPerSecond);
}

TEST(HttpClient, TimesOutAHangingReceiver) {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply;
    reply.hang = true;
    return reply;
  });
  auto client = make_client();
  OutboundRequest request = post(server.url());
  request.timeout = 300 * kMillis;
  OutboundResponse response = exchange(*client, request);
  EXPECT_FALSE(response.status);
  ASSERT_TRUE(response.error);
  EXPECT_NE(response.error->find("timed out"), std::string::npos) << *response.error;
  EXPECT_GE(response.duration, 290 * kMillis);
  EXPECT_LT(response.duration, 3 * core::kMicrosPerSecond);
}

TEST(HttpClient, ReportsARefusedConnection) {
  std::uint16_t port;
  {
    LoopbackServer gone([](const ReceivedRequest&) { return http_reply(200); });
    port = gone.port();
  }
  auto client = make_client();
  OutboundResponse response = exchange(*client, post("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_FALSE(response.status);
  EXPECT_TRUE(response.error);
  EXPECT_FALSE(response.refused_by_guard);
}

TEST(HttpClient, ManyRequestsAtOnceOnOneThread) {
  LoopbackServer server([](const ReceivedRequest& request) { return http_reply(200, request.body); });
  auto client = make_client();
  constexpr int kRequests = 300;
  std::mutex mutex;
  std::condition_variable done;
  int answered = 0;
  int matched = 0;
  for (int i = 0; i < kRequests; ++i) {
    const std::string body = "request " + std::to_string(i);
    client->send(post(server.url(), body), [&, body](OutboundResponse response) {
      std::lock_guard lock(mutex);
      ++answered;
      if (response.status == 200 && response.body == body) ++matched;
      done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, 30s, [&] { return answered == kRequests; }));
  EXPECT_EQ(matched, kRequests);
  EXPECT_EQ(client->in_flight(), 0u);
}

TEST(HttpClient, StopAnswersWhatIsInFlightAndLaterSends) {
  LoopbackServer server([](const ReceivedRequest&) {
    Reply reply;
    reply.hang = true;
    return reply;
  });
  auto client = make_client();
  std::promise<OutboundResponse> answered;
  client->send(post(server.url()), [&answered](OutboundResponse response) { answered.set_value(std::move(response)); });
  ASSERT_TRUE(server.wait_for_requests(1));
  client->stop();
  auto future = answered.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(future.get().error, "the HTTP client stopped");
  bool called = false;
  client->send(post(server.url()), [&called](OutboundResponse response) {
    called = true;
    EXPECT_EQ(response.error, "the HTTP client stopped");
  });
  EXPECT_TRUE(called);
}

TEST(HttpClient, RefusesHeaderInjection) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(200); });
  auto client = make_client();
  OutboundRequest request = post(server.url());
  request.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
  OutboundResponse response = exchange(*client, request);
  EXPECT_FALSE(response.status);
  EXPECT_TRUE(response.error);
  EXPECT_TRUE(server.requests().empty());
}

// The guard, through an injected resolver: each name maps to a refused address.
// (the dialled address, the refusal); strings rather than pointers so that test names stay the same across builds.
class GuardTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(GuardTest, RefusesTheDialledAddressBeforeAnyPacket) {
  const auto [address, reason] = GetParam();
  HttpClientOptions options;  // strict: public addresses only
  options.resolve_overrides = {"hooks.example.com:80:" + address};
  auto client = start_http_client(options);
  ASSERT_TRUE(client.ok());
  OutboundRequest request = post("http://hooks.example.com/receive");
  request.timeout = 2 * core::kMicrosPerSecond;
  OutboundResponse response = exchange(**client, request);
  EXPECT_FALSE(response.status);
  EXPECT_TRUE(response.refused_by_guard);
  ASSERT_TRUE(response.error);
  EXPECT_EQ(*response.error, "address refused by SSRF guard: " + reason);
}

INSTANTIATE_TEST_SUITE_P(
    PrivateTargets, GuardTest,
    ::testing::Values(std::pair<std::string, std::string>("10.0.0.1", "10.0.0.1 is a private address"),
                      std::pair<std::string, std::string>("169.254.169.254", "169.254.169.254 is a link-local address"),
                      std::pair<std::string, std::string>("192.168.1.1", "192.168.1.1 is a private address"),
                      std::pair<std::string, std::string>("100.64.0.1",
                                                          "100.64.0.1 is a carrier-grade NAT (CGNAT) address"),
                      std::pair<std::string, std::string>("127.0.0.1", "127.0.0.1 is a loopback address"),
                      std::pair<std::string, std::string>("[::ffff:10.0.0.1]", "::ffff:10.0.0.1 is a private address"),
                      std::pair<std::string, std::string>("[fd00::1]", "fd00::1 is a private address")));

TEST(HttpClientGuard, RefusesLiteralLoopbackUnlessAllowed) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(200); });
  auto strict = start_http_client({});
  ASSERT_TRUE(strict.ok());
  OutboundResponse refused = exchange(**strict, post(server.url()));
  EXPECT_TRUE(refused.refused_by_guard);
  EXPECT_EQ(server.connections(), 0);

  auto allowed = make_client();
  EXPECT_EQ(exchange(*allowed, post(server.url())).status, 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientGuard, InjectedNameReachesAnAllowedAddress) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(200); });
  HttpClientOptions options;
  options.address_policy = core::AddressPolicy({*core::parse_cidr("127.0.0.0/8")}, false);
  options.resolve_overrides = {"hooks.example.com:" + std::to_string(server.port()) + ":127.0.0.1"};
  auto client = start_http_client(options);
  ASSERT_TRUE(client.ok());
  OutboundResponse response =
      exchange(**client, post("http://hooks.example.com:" + std::to_string(server.port()) + "/x"));
  EXPECT_EQ(response.status, 200) << response.error.value_or("");
  EXPECT_EQ(server.requests().at(0).header("host"), "hooks.example.com:" + std::to_string(server.port()));
}

TEST(HttpClientGuard, ChecksEachAddressOfANameAndDialsOnlyAllowedOnes) {
  LoopbackServer server([](const ReceivedRequest&) { return http_reply(200); });
  HttpClientOptions options;
  options.address_policy = core::AddressPolicy({}, true);  // loopback allowed, private refused
  const std::string port = std::to_string(server.port());
  options.resolve_overrides = {"mixed.example.com:" + port + ":10.0.0.1,127.0.0.1"};
  auto client = start_http_client(options);
  ASSERT_TRUE(client.ok());
  OutboundResponse response = exchange(**client, post("http://mixed.example.com:" + port + "/"));
  EXPECT_EQ(response.status, 200) << response.error.value_or("");
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace repute::delivery
