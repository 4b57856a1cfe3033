// The HTTP server as a client meets it: health and metrics, routing errors, limits, malformed
// input, keep-alive, stalled clients, graceful shutdown, durability across kill -9, and the logs.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "integration/harness/http_client.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

json::value parse(std::string_view text) { return json::parse(text); }

json::object valid_webhook(const std::string& name = "orders") {
  return {{"events", json::array{"reputations.added"}}, {"name", name}, {"url", "https://hooks.example.com/repute"}};
}

// A raw HTTP/1.1 request with the given head lines and body (Content-Length added when there is a body).
std::string raw_request(const std::string& request_line, const std::vector<std::string>& head = {},
                        const std::string& body = "") {
  std::string out = request_line + "\r\nHost: 127.0.0.1\r\n";
  for (const std::string& line : head) out += line + "\r\n";
  if (!body.empty()) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

// One sample of a Prometheus text exposition: name, labels, value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parse_samples(const std::string& exposition) {
  std::vector<Sample> samples;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() == '#') continue;
    Sample sample;
    const std::size_t brace = line.find('{');
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    if (brace != std::string::npos && brace < space) {
      sample.name = line.substr(0, brace);
      const std::string labels = line.substr(brace + 1, line.rfind('}') - brace - 1);
      std::size_t at = 0;
      while (at < labels.size()) {
        const std::size_t equals = labels.find("=\"", at);
        const std::size_t close = labels.find('"', equals + 2);
        sample.labels[labels.substr(at, equals - at)] = labels.substr(equals + 2, close - equals - 2);
        at = close + 2;  // past the quote and the comma
      }
    } else {
      sample.name = line.substr(0, space);
    }
    sample.value = std::stod(line.substr(space + 1));
    samples.push_back(std::move(sample));
  }
  return samples;
}

// The value of the series name{labels}, or 0 when it does not exist yet.
double sample_value(const std::string& exposition, const std::string& name,
                    const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : parse_samples(exposition)) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return 0;
}

class ServerTest : public ::testing::Test {
 protected:
  Response get(const std::string& path) { return client_.request("GET", path); }

  ReputeProcess server_;
  HttpClient client_{server_.port()};
  Credentials auth_ = basic(server_.dev_key());
};

const char* const kNotFound = R"({"detail": "Not found."})";

// --- health and metrics ----------------------------------------------------------------------------

TEST_F(ServerTest, HealthAndReadinessNeedNoAuth) {
  for (const Headers& headers : {Headers{}, Headers{"Authorization: Basic Z2FyYmFnZQ=="}}) {
    Response response = client_.request("GET", "/healthz", "", std::nullopt, headers);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(response.json(), parse(R"({"status": "ok"})"));
    response = client_.request("GET", "/readyz", "", std::nullopt, headers);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.json(), parse(R"({"status": "ready"})"));
  }
}

TEST_F(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  const Response before = get("/metrics");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");

  for (int i = 0; i < 3; ++i) ASSERT_EQ(get("/healthz").status, 200);
  ASSERT_EQ(client_.request("GET", "/v1/webhooks").status, 401);
  ASSERT_EQ(client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), auth_).status, 201);
  ASSERT_EQ(client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), auth_).status, 201);
  ASSERT_EQ(client_.request("GET", "/v1/webhooks/0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b", "", auth_).status, 404);
  ASSERT_EQ(get("/no/such/route").status, 404);

  const Response after = get("/metrics");
  ASSERT_EQ(after.status, 200);
  EXPECT_NE(after.body.find("# TYPE repute_http_requests_total counter\n"), std::string::npos) << after.body;
  auto delta = [&](const std::string& method, const std::string& route, const std::string& status) {
    const std::map<std::string, std::string> labels = {{"method", method}, {"route", route}, {"status", status}};
    return sample_value(after.body, "repute_http_requests_total", labels) -
           sample_value(before.body, "repute_http_requests_total", labels);
  };
  EXPECT_EQ(delta("GET", "/healthz", "200"), 3);
  EXPECT_EQ(delta("GET", "/v1/webhooks", "401"), 1);
  EXPECT_EQ(delta("POST", "/v1/webhooks", "201"), 2);
  EXPECT_EQ(delta("GET", "/v1/webhooks/{id}", "404"), 1);
  EXPECT_EQ(delta("GET", "/metrics", "200"), 1);
  EXPECT_GE(delta("GET", "unmatched", "404"), 1);

  // Latency histograms, well-formed: cumulative buckets ending in +Inf equal to _count.
  const std::map<std::string, std::string> healthz = {{"method", "GET"}, {"route", "/healthz"}};
  std::map<std::string, std::string> infinite = healthz;
  infinite["le"] = "+Inf";
  const double count = sample_value(after.body, "repute_http_request_duration_seconds_count", healthz);
  EXPECT_GE(count, 3);
  EXPECT_EQ(sample_value(after.body, "repute_http_request_duration_seconds_bucket", infinite), count);
  EXPECT_NE(after.body.find("# TYPE repute_http_request_duration_seconds histogram\n"), std::string::npos);
  for (const Sample& sample : parse_samples(after.body)) {
    EXPECT_EQ(sample.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
              std::string::npos)
        << sample.name;
  }
}

// --- routing errors --------------------------------------------------------------------------------

TEST_F(ServerTest, UnknownRoutesAre404Json) {
  for (const std::string path :
       {"/", "/nope", "/v1", "/v2/webhooks", "/v1/webhooks/0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b/x", "/healthz/x",
        "/v1//webhooks"}) {
    SCOPED_TRACE(path);
    const Response response = client_.request("GET", path, "", auth_);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(response.json(), parse(kNotFound));
  }
}

TEST_F(ServerTest, WrongMethodsAre405JsonWithAllow) {
  struct Case {
    std::string method, path;
    std::set<std::string> allowed;
  };
  const std::vector<Case> cases = {
      {"PUT", "/v1/webhooks", {"GET", "POST"}},
      {"DELETE", "/v1/webhooks", {"GET", "POST"}},
      {"POST", "/v1/webhooks/0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b", {"GET", "PATCH", "DELETE"}},
      {"PUT", "/v1/webhooks/0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9b", {"GET", "PATCH", "DELETE"}},
      {"POST", "/healthz", {"GET"}},
      {"DELETE", "/metrics", {"GET"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    const Response response = client_.request(c.method, c.path, c.method == "DELETE" ? "" : "{}", auth_);
    EXPECT_EQ(response.status, 405);
    EXPECT_EQ(response.json(), (json::value{{"detail", "Method \"" + c.method + "\" not allowed."}}));
    std::set<std::string> allowed;
    std::istringstream list(response.header("Allow").value_or(""));
    for (std::string item; std::getline(list, item, ',');) {
      item.erase(0, item.find_first_not_of(' '));
      allowed.insert(item);
    }
    EXPECT_EQ(allowed, c.allowed) << response.header("Allow").value_or("<no Allow header>");
  }
}

TEST_F(ServerTest, HeadOfAGetRouteIsAnsweredWithoutABody) {
  // A HEAD answer must have no body (RFC 9110 9.3.2), or the next answer on the connection is corrupted.
  RawConnection connection(server_.port());
  ASSERT_TRUE(connection.send(raw_request("HEAD /healthz HTTP/1.1") + raw_request("GET /readyz HTTP/1.1")));
  const auto head = connection.read_response(milliseconds(3000), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200) << "GET and HEAD are the two methods every server must support";
  const auto next = connection.read_response(milliseconds(3000));
  ASSERT_TRUE(next) << "the bytes after the HEAD answer are not a response: it carried a body";
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, R"({"status":"ready"})");
}

TEST_F(ServerTest, NoContentAnswerHasNoContentLength) {
  const Response created = client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), auth_);
  ASSERT_EQ(created.status, 201);
  const Response deleted =
      client_.request("DELETE", "/v1/webhooks/" + std::string(created.json().at("id").as_string()), "", auth_);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.body, "");
  // RFC 9110 8.6: a server MUST NOT send Content-Length in a 204 response.
  EXPECT_FALSE(deleted.header("Content-Length")) << *deleted.header("Content-Length");
}

// --- limits ----------------------------------------------------------------------------------------

const char* const kTooLarge = R"({"detail": "Request body is too large."})";

TEST_F(ServerTest, BodyOverOneMebibyteIs413) {
  const std::string body = json::serialize(valid_webhook(std::string((1 << 20) + 1, 'n')));
  const Response response = client_.request("POST", "/v1/webhooks", body, auth_);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(response.json(), parse(kTooLarge));
  EXPECT_EQ(client_.request("GET", "/v1/webhooks", "", auth_).json().at("results"), json::array{});
}

TEST_F(ServerTest, DeclaredHugeBodyIs413BeforeItIsSent) {
  RawConnection connection(server_.port());
  ASSERT_TRUE(connection.send(
      raw_request("POST /v1/webhooks HTTP/1.1",
                  {authorization_header(auth_), "Content-Type: application/json", "Content-Length: 5000000000"})));
  const auto response = connection.read_response(milliseconds(3000));
  ASSERT_TRUE(response) << "no answer without the body being sent";
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(parse(response->body), parse(kTooLarge));
  EXPECT_EQ(response->header("Connection").value_or(""), "close");
}

TEST_F(ServerTest, ChunkedBodyOverOneMebibyteIs413) {
  RawConnection connection(server_.port());
  ASSERT_TRUE(connection.send(
      raw_request("POST /v1/webhooks HTTP/1.1",
                  {authorization_header(auth_), "Content-Type: application/json", "Transfer-Encoding: chunked"})));
  const std::string chunk(64 * 1024, ' ');
  std::ostringstream size;
  size << std::hex << chunk.size();
  for (int i = 0; i < 24; ++i) {  // 1.5 MiB, or until the server stops listening
    if (!connection.send(size.str() + "\r\n" + chunk + "\r\n")) break;
  }
  connection.send("0\r\n\r\n");
  const auto response = connection.read_response(milliseconds(5000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(parse(response->body), parse(kTooLarge));
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(ServerTest, BodyOfExactlyOneMebibyteIsRead) {
  const std::size_t base = json::serialize(valid_webhook("")).size();
  const std::string body = json::serialize(valid_webhook(std::string((1 << 20) - base, 'n')));
  ASSERT_EQ(body.size(), std::size_t{1} << 20);
  const Response response = client_.request("POST", "/v1/webhooks", body, auth_);
  EXPECT_EQ(response.status, 400) << "read and validated, not refused for its size";
  EXPECT_EQ(response.json(), parse(R"({"name": ["Ensure this field has no more than 255 characters."]})"));

  // Chunked, a small body is read whole.
  RawConnection connection(server_.port());
  const std::string small = json::serialize(valid_webhook("chunked"));
  std::ostringstream chunks;
  chunks << std::hex << 10 << "\r\n"
         << small.substr(0, 10) << "\r\n"
         << small.size() - 10 << "\r\n"
         << small.substr(10) << "\r\n0\r\n\r\n";
  ASSERT_TRUE(connection.send(
      raw_request("POST /v1/webhooks HTTP/1.1",
                  {authorization_header(auth_), "Content-Type: application/json", "Transfer-Encoding: chunked"}) +
      chunks.str()));
  const auto chunked = connection.read_response();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 201) << chunked->body;
}

TEST_F(ServerTest, HugeHeadersAre431) {
  const std::vector<std::string> one_big = {"X-Big: " + std::string(20000, 'a')};
  std::vector<std::string> many_small;
  for (int i = 0; i < 400; ++i) many_small.push_back("X-Header-" + std::to_string(i) + ": " + std::string(60, 'b'));
  for (const auto& head : {one_big, many_small}) {
    RawConnection connection(server_.port());
    connection.send(raw_request("GET /healthz HTTP/1.1", head));
    const auto response = connection.read_response(milliseconds(3000));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 431);
    EXPECT_EQ(parse(response->body), parse(R"({"detail": "Request header fields are too large."})"));
  }
  const Response via_curl = client_.request("GET", "/healthz", "", std::nullopt, one_big);
  EXPECT_EQ(via_curl.status, 431);
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(ServerTest, MalformedRequestsAre400AndTheConnectionCloses) {
  const std::vector<std::string> requests = {
      "HELLO\r\n\r\n",
      "GET\r\n\r\n",
      "GET /healthz HTTP/1.1 extra\r\n\r\n",
      "GET /healthz HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST /v1/webhooks HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      std::string("\x00\x01\x02\xff\r\n\r\n", 8),
      "G(T /healthz HTTP/1.1\r\n\r\n",
  };
  for (const std::string& request : requests) {
    SCOPED_TRACE(request);
    RawConnection connection(server_.port());
    connection.send(request);
    const auto response = connection.read_response(milliseconds(3000));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_EQ(parse(response->body), parse(R"({"detail": "Malformed HTTP request."})"));
    EXPECT_TRUE(connection.closed_by_peer(milliseconds(3000)));
  }
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(ServerTest, AbsoluteFormTargetIsAccepted) {
  // RFC 9112 3.2.2: a server MUST accept the absolute form of the request target.
  RawConnection connection(server_.port());
  connection.send(raw_request("GET http://127.0.0.1:" + std::to_string(server_.port()) + "/healthz HTTP/1.1"));
  const auto response = connection.read_response(milliseconds(3000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body;
}

// --- connections -----------------------------------------------------------------------------------

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(get("/healthz").status, 200);
    ASSERT_EQ(client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), auth_).status, 201);
    ASSERT_EQ(client_.request("GET", "/v1/webhooks?limit=1", "", auth_).status, 200);
    ASSERT_EQ(client_.request("GET", "/v1/webhooks/nope", "", auth_).status, 404);
    ASSERT_EQ(client_.request("POST", "/v1/webhooks", "{}", auth_).status, 400);
  }
  EXPECT_EQ(client_.connections_opened(), 1);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(server_.port());
  const std::string body = json::serialize(valid_webhook("pipelined"));
  ASSERT_TRUE(connection.send(
      raw_request("GET /healthz HTTP/1.1") +
      raw_request("POST /v1/webhooks HTTP/1.1", {authorization_header(auth_), "Content-Type: application/json"}, body) +
      raw_request("GET /nope HTTP/1.1") + raw_request("GET /readyz HTTP/1.1", {"Connection: close"})));
  const std::vector<int> expected = {200, 201, 404, 200};
  for (int status : expected) {
    const auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, status) << response->body;
  }
  EXPECT_TRUE(connection.closed_by_peer(milliseconds(3000))) << "Connection: close is honoured";
}

TEST_F(ServerTest, Http10ClientGetsItsAnswerAndTheConnectionCloses) {
  RawConnection connection(server_.port());
  connection.send("GET /healthz HTTP/1.0\r\n\r\n");
  const auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(connection.closed_by_peer(milliseconds(3000)));
}

TEST_F(ServerTest, ExpectContinueIsHonoured) {
  const Response response =
      client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), auth_, {"Expect: 100-continue"});
  EXPECT_EQ(response.status, 201) << response.body;
}

TEST_F(ServerTest, SilentAndStalledClientsDoNotBlockOthers) {
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 20; ++i) stalled.push_back(std::make_unique<RawConnection>(server_.port()));
  for (int i = 0; i < 5; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(server_.port()));
    stalled.back()->send("POST /v1/webhooks HTTP/1.1\r\nHost: x\r\nContent-Le");
  }
  for (int i = 0; i < 5; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(server_.port()));
    stalled.back()->send(
        raw_request("POST /v1/webhooks HTTP/1.1", {authorization_header(auth_), "Content-Length: 100"}) + "{\"na");
  }
  const auto started = Clock::now();
  for (int i = 0; i < 20; ++i) {
    HttpClient fresh(server_.port(), milliseconds(2000));
    ASSERT_EQ(fresh.request("GET", "/healthz").status, 200);
    ASSERT_EQ(fresh.request("POST", "/v1/webhooks", json::serialize(valid_webhook()), auth_).status, 201);
  }
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
}

// --- lifecycle -------------------------------------------------------------------------------------

TEST_F(ServerTest, SigtermExitsZero) {
  ASSERT_EQ(get("/healthz").status, 200);  // leaves an idle keep-alive connection open
  RawConnection idle(server_.port());
  ASSERT_TRUE(idle.send(raw_request("GET /healthz HTTP/1.1")));
  ASSERT_TRUE(idle.read_response());              // accepted and served: now an idle keep-alive connection
  std::this_thread::sleep_for(milliseconds(50));  // the server is done writing both answers
  const auto started = Clock::now();
  EXPECT_EQ(server_.stop(), 0) << server_.stderr_text();
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3)) << "idle connections must not hold up the stop";
  EXPECT_FALSE(client_.try_request("GET", "/healthz")) << "nothing listens after the stop";
}

TEST_F(ServerTest, SigtermWhileClientsConnectStopsPromptly) {
  // Connections that arrive as the stop begins must not hold it up until the drain timeout.
  std::vector<std::unique_ptr<RawConnection>> arriving;
  for (int i = 0; i < 50; ++i) arriving.push_back(std::make_unique<RawConnection>(server_.port()));
  const auto started = Clock::now();
  server_.send_sigterm();
  const auto code = server_.wait_exit(std::chrono::seconds(4));
  if (!code) server_.kill9();
  EXPECT_EQ(code, std::optional<int>(0)) << "still running 4 s after SIGTERM with only idle connections";
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
}

// Bytes queued in the kernel for a loopback TCP connection, from /proc/net/tcp: what the side bound to
// local_port has not had acknowledged yet (tx) and has received but not read yet (rx).
struct Queues {
  std::size_t tx = 0;
  std::size_t rx = 0;
};

Queues kernel_queues(std::uint16_t local_port, std::uint16_t remote_port) {
  std::ifstream table("/proc/net/tcp");
  char wanted[32];
  std::snprintf(wanted, sizeof wanted, "0100007F:%04X 0100007F:%04X", local_port, remote_port);
  for (std::string line; std::getline(table, line);) {
    const std::size_t at = line.find(wanted);
    if (at == std::string::npos) continue;
    std::istringstream fields(line.substr(at + std::strlen(wanted)));
    std::string state, queues;
    fields >> state >> queues;
    const std::size_t colon = queues.find(':');
    return {std::stoul(queues.substr(0, colon), nullptr, 16), std::stoul(queues.substr(colon + 1), nullptr, 16)};
  }
  return {};
}

TEST(ServerDrain, SigtermWhileAnAnswerIsBeingWrittenClosesThatConnection) {
  ReputeProcess server(dev_options({"--synchronous", "normal"}));
  const Credentials auth = basic(server.dev_key());
  {
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&] {
        HttpClient client(server.port());
        json::object body = valid_webhook(std::string(255, 'n'));
        body["url"] = "https://hooks.example.com/" + std::string(2000, 'a');
        body["secret"] = std::string(1024, 's');
        for (int i = 0; i < 50; ++i) client.request("POST", "/v1/webhooks", json::serialize(body), auth);
      });
    }
    for (auto& writer : writers) writer.join();
  }
  const std::string list =
      "GET /v1/webhooks?limit=200 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + authorization_header(auth) + "\r\n";
  std::size_t answer_size = 0;  // the bytes of one whole answer on a keep-alive connection
  {
    RawConnection probe(server.port());
    probe.send(list + "Connection: close\r\n\r\n");
    answer_size = probe.read_until_close().size() - std::strlen("Connection: close\r\n");
  }
  ASSERT_GT(answer_size, 500000u);

  // Pipeline list requests, without reading, until the server's write of the latest answer backs up.
  RawConnection connection(server.port());
  connection.shrink_receive_buffer(256 * 1024);
  const std::uint16_t client_port = connection.local_port();
  int sent = 0;
  bool backed_up = false;
  while (!backed_up && sent < 40) {
    connection.send(list + "\r\n");
    ++sent;
    std::size_t handed_over = 0;
    int unchanged = 0;
    while (unchanged < 10) {
      std::this_thread::sleep_for(milliseconds(10));
      const std::size_t now =
          kernel_queues(server.port(), client_port).tx + kernel_queues(client_port, server.port()).rx;
      unchanged = now == handed_over ? unchanged + 1 : 0;
      handed_over = now;
      if (handed_over == sent * answer_size) break;
    }
    backed_up = handed_over < sent * answer_size;
  }
  ASSERT_TRUE(backed_up) << "the server's writes never backed up";
  SCOPED_TRACE(std::to_string(sent) + " answers asked for, the last one still being written");

  // The stop begins while the last answer asked for is still being written.
  server.send_sigterm();
  std::this_thread::sleep_for(milliseconds(200));
  for (int i = 0; i < sent; ++i) {
    const auto response = connection.read_response(milliseconds(5000));
    ASSERT_TRUE(response) << "answer " << i;
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_TRUE(connection.closed_by_peer(milliseconds(1500)))
      << "the connection stays open after its last answer although the server is stopping";
  const auto code = server.wait_exit(std::chrono::seconds(2));
  if (!code) server.kill9();
  EXPECT_EQ(code, std::optional<int>(0)) << "the stop waits out its drain timeout";
}

TEST_F(ServerTest, SigtermLetsARequestInFlightFinish) {
  const std::string body = json::serialize(valid_webhook("in flight"));
  RawConnection connection(server_.port());
  const std::string head =
      raw_request("POST /v1/webhooks HTTP/1.1", {authorization_header(auth_), "Content-Type: application/json",
                                                 "Content-Length: " + std::to_string(body.size())});
  ASSERT_TRUE(connection.send(head + body.substr(0, 10)));
  std::this_thread::sleep_for(milliseconds(200));  // the server has read the head: the request is in flight

  server_.send_sigterm();
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(server_.running()) << "the server waits for the request in flight";
  HttpClient latecomer(server_.port(), milliseconds(1000));
  EXPECT_FALSE(latecomer.try_request("GET", "/healthz")) << "no new connections once stopping";

  ASSERT_TRUE(connection.send(body.substr(10)));
  const auto response = connection.read_response(milliseconds(3000));
  if (!response) {
    server_.kill9();  // do not wait out the server's drain timeout
    FAIL() << "the request in flight got no answer before the server stopped";
  }
  EXPECT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(response->header("Connection").value_or(""), "close");
  EXPECT_EQ(server_.wait_exit(std::chrono::seconds(10)), std::optional<int>(0)) << server_.stderr_text();

  // What it answered 201 for was committed before the exit.
  server_.restart();
  HttpClient client(server_.port());
  const std::string id(parse(response->body).at("id").as_string());
  const Response found = client.request("GET", "/v1/webhooks/" + id, "", basic(server_.dev_key()));
  EXPECT_EQ(found.status, 200);
  EXPECT_EQ(found.json(), parse(response->body));
}

TEST_F(ServerTest, CreatedWebhooksSurviveKill9AndRestart) {
  std::vector<json::value> created;
  for (int i = 0; i < 5; ++i) {
    const Response response =
        client_.request("POST", "/v1/webhooks", json::serialize(valid_webhook("durable " + std::to_string(i))), auth_);
    ASSERT_EQ(response.status, 201);
    created.insert(created.begin(), response.json());
  }
  server_.kill9();
  EXPECT_EQ(server_.last_exit_code(), 128 + SIGKILL);

  server_.restart();
  EXPECT_EQ(server_.dev_key().id, auth_.user) << "the same dev key after a restart";
  HttpClient client(server_.port());
  const Response list = client.request("GET", "/v1/webhooks", "", auth_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json().at("results"), json::value(json::array(created.begin(), created.end())));
}

TEST(ServerLogs, AreJsonLinesWithoutSecrets) {
  ReputeProcess server(dev_options({"--log-level", "debug"}));
  const ApiKey made = server.create_key("logged");
  HttpClient client(server.port());
  const std::string webhook_secret = "whsec_bG9nZ2VkLXdlYmhvb2stc2VjcmV0";
  const std::string wrong_password = "wrong-password-that-must-not-be-logged";
  json::object body = valid_webhook();
  body["secret"] = webhook_secret;
  ASSERT_EQ(client.request("POST", "/v1/webhooks", json::serialize(body), basic(server.dev_key())).status, 201);
  ASSERT_EQ(client.request("POST", "/v1/webhooks", json::serialize(body), basic(made)).status, 201);
  ASSERT_EQ(client.request("GET", "/v1/webhooks", "", Credentials{made.id, wrong_password}).status, 401);
  ASSERT_EQ(client.request("POST", "/v1/webhooks", "{bad", basic(made)).status, 400);
  const std::string id(
      client.request("GET", "/v1/webhooks", "", basic(made)).json().at("results").at(0).at("id").as_string());
  ASSERT_EQ(client.request("PATCH", "/v1/webhooks/" + id, R"({"secret": "patched-secret-value"})", basic(made)).status,
            200);
  ASSERT_EQ(server.stop(), 0);

  const std::string logs = server.stderr_text();
  std::istringstream lines(logs);
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    ++count;
    boost::json::error_code ec;
    const json::value entry = json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    ASSERT_TRUE(entry.is_object()) << line;
    EXPECT_TRUE(entry.as_object().contains("time") && entry.as_object().contains("level") &&
                entry.as_object().contains("msg"))
        << line;
  }
  EXPECT_GE(count, 2) << "at least the start and the stop are logged";
  for (const std::string& secret :
       {server.dev_key().secret, made.secret, webhook_secret, wrong_password, std::string("patched-secret-value")}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << "a secret is in the log: " << secret;
  }
}

}  // namespace
}  // namespace repute::itest
