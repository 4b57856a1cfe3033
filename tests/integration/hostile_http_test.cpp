// Hostile input over HTTP, against the real binary: malformed request lines, huge headers, bad chunking, bytes
// that are not HTTP, invalid UTF-8, deep nesting, huge numbers, duplicate keys, wrong types, nulls, oversized
// bodies, bad query strings, slow clients and many connections. Each must get a 4xx JSON answer (or, for bytes
// that are not HTTP at all, a clean close), never a 5xx, a crash or a hang; afterwards the server still answers
// /healthz, every list still reads, and its memory (VmRSS) stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "integration/harness/http_client.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kAnswerTimeout{5000};
#if defined(__SANITIZE_ADDRESS__)
// Under ASan freed memory waits in a quarantine (256 MiB by default) before reuse, so RSS grows by that much.
constexpr long kSanitizerSlackKib = 320 * 1024;
#else
constexpr long kSanitizerSlackKib = 0;
#endif
constexpr long kRssGrowthLimitKib = 128 * 1024 + kSanitizerSlackKib;  // over a category, against the start
constexpr long kRssFlatLimitKib = 24 * 1024 + kSanitizerSlackKib;     // a warm-up round, then two more rounds

// The resident set size of a process in KiB, read from /proc/PID/status (VmRSS); 0 when unreadable.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return 0;
}

// bytes with anything outside printable ASCII shown as \xNN, cut to a readable length.
std::string printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 200)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return bytes.size() > 200 ? out + "...(" + std::to_string(bytes.size()) + " bytes)" : out;
}

// "" when the answer is a 4xx (or, with any_below_500, any non-5xx) JSON object; else what is wrong with it.
std::string judge(const Response& response, bool any_below_500 = false) {
  const bool status_ok = any_below_500 ? response.status < 500 : (response.status >= 400 && response.status < 500);
  if (!status_ok) return "status " + std::to_string(response.status) + ": " + printable(response.body);
  if (response.status == 204) return "";
  if (response.header("Content-Type").value_or("") != "application/json") {
    return "Content-Type " + response.header("Content-Type").value_or("<none>");
  }
  boost::json::error_code ec;
  const json::value body = json::parse(response.body, ec);  // also refuses invalid UTF-8
  if (ec) return "the body is not valid JSON (" + ec.message() + "): " + printable(response.body);
  if (!body.is_object()) return "the body is not a JSON object: " + printable(response.body);
  return "";
}

// --- raw requests ------------------------------------------------------------------------------------

// Bytes sent on a fresh connection, and what they may get back.
struct RawCase {
  std::string name;
  std::string bytes;
  bool cut_short = false;       // half-close after sending: the request ends early
  bool may_just_close = false;  // not HTTP at all: a close without an answer is fine too
};

// "" when the server answered the bytes with a 4xx JSON object (or closed, where allowed) in time; with
// only_no_5xx, any answer below 500 will do.
std::string send_raw(std::uint16_t port, const RawCase& raw, bool only_no_5xx) {
  RawConnection connection(port);
  connection.send(raw.bytes);  // the server may stop reading early (431, 413): the answer still counts
  if (raw.cut_short) connection.shutdown_write();
  const auto response = connection.read_response(kAnswerTimeout);
  if (response && only_no_5xx) return response->status < 500 ? "" : "status " + std::to_string(response->status);
  if (response) return judge(*response);
  if (!connection.closed_by_peer(milliseconds(50))) return "no answer within 5 s: the connection hangs";
  if (!raw.may_just_close) return "the connection closed without an answer";
  return "";
}

std::string request_head(const std::string& request_line, const std::vector<std::string>& lines = {}) {
  std::string out = request_line + "\r\nHost: 127.0.0.1\r\n";
  for (const std::string& line : lines) out += line + "\r\n";
  return out + "\r\n";
}

std::vector<RawCase> malformed_request_lines() {
  const std::string end = "\r\nHost: x\r\n\r\n";
  return {
      {"not HTTP", "HELLO\r\n\r\n"},
      {"method only", "GET\r\n\r\n"},
      {"HTTP/0.9", "GET /healthz\r\n\r\n"},
      {"extra token", "GET /healthz HTTP/1.1 extra" + end},
      {"unknown version", "GET /healthz HTTP/9.9" + end},
      {"two-digit minor", "GET /healthz HTTP/1.10" + end},
      {"wrong protocol", "GET /healthz HTTPS/1.1" + end},
      {"leading space", " GET /healthz HTTP/1.1" + end},
      {"double space", "GET  /healthz HTTP/1.1" + end},
      {"tabs", "GET\t/healthz\tHTTP/1.1" + end},
      {"NUL in method", std::string("G\0T /healthz HTTP/1.1", 21) + end},
      {"DEL in target", "GET /he\x7flthz HTTP/1.1" + end},
      {"obs-text in target", "GET /h\xffz HTTP/1.1" + end},
      {"asterisk form", "GET * HTTP/1.1" + end},
      {"bad percent escape", "GET /%zz HTTP/1.1" + end},
      {"broken absolute form", "GET http://[::1 HTTP/1.1" + end},
      {"bare LF", "GET /healthz HTTP/1.1\n\n"},
      {"leading empty lines", "\r\n\r\nGET /healthz HTTP/1.1" + end},
      {"64 KiB target", "GET /" + std::string(64 << 10, 'a') + " HTTP/1.1" + end},
      {"20 KB method", std::string(20000, 'A') + " / HTTP/1.1" + end},
  };
}

std::vector<RawCase> huge_headers() {
  std::string many_small, tiny;
  for (int i = 0; i < 400; ++i) many_small += "X-Header-" + std::to_string(i) + ": " + std::string(60, 'b') + "\r\n";
  for (int i = 0; i < 10000; ++i) tiny += "a: b\r\n";
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  return {
      {"one 20 KB value", get + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n"},
      {"one 20 KB name", get + std::string(20000, 'X') + ": v\r\n\r\n"},
      {"400 headers of 80 bytes", get + many_small + "\r\n"},
      {"10,000 tiny headers", get + tiny + "\r\n"},
      {"1 MiB of header", get + "X-Big: " + std::string(1 << 20, 'c') + "\r\n\r\n"},
      {"NUL in a value", get + std::string("X-A: a\0b\r\n\r\n", 12)},
      {"no colon", get + "No colon here\r\n\r\n"},
      {"space before colon", get + "X-A : v\r\n\r\n"},
      {"negative Content-Length", get + "Content-Length: -1\r\n\r\n"},
      {"hex Content-Length", get + "Content-Length: 0x10\r\n\r\n"},
      {"signed Content-Length", get + "Content-Length: +5\r\n\r\n"},
      {"overflowing Content-Length", get + "Content-Length: 99999999999999999999999\r\n\r\n"},
      {"Content-Length list", get + "Content-Length: 1, 2\r\n\r\n"},
      {"two Content-Lengths", get + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n"},
  };
}

std::vector<RawCase> bad_chunking(const std::string& authorization) {
  const std::string post_with =
      "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + authorization + "\r\n";
  const std::string post = post_with + "Transfer-Encoding: chunked\r\n\r\n";
  return {
      {"size not hex", post + "zz\r\n{}\r\n0\r\n\r\n"},
      {"negative size", post + "-1\r\n{}\r\n0\r\n\r\n"},
      {"overflowing size", post + "fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"},
      {"data longer than its size", post + "1\r\n{}\r\n0\r\n\r\n"},
      {"no CRLF after data", post + "2\r\n{}0\r\n\r\n"},
      {"control byte in extension", post + "2;\x01=x\r\n{}\r\n0\r\n\r\n"},
      {"bad trailer", post + "2\r\n{}\r\n0\r\nbad trailer\r\n\r\n"},
      {"space before size", post + " 2\r\n{}\r\n0\r\n\r\n"},
      {"empty size line", post + "\r\n{}\r\n0\r\n\r\n"},
      {"bare LF framing", post + "2\n{}\n0\n\n", true},
      {"no last chunk", post + "2\r\n{}\r\n", true},
      {"chunked and Content-Length", post_with + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"chunked twice",
       post_with + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      // RFC 9112 6.3: a request whose last transfer coding is not chunked has no knowable length: 400 and close.
      {"gzip without chunked", post_with + "Transfer-Encoding: gzip\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"chunked then identity", post_with + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
  };
}

std::vector<RawCase> not_http() {
  std::mt19937 random(20261127);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(random() & 0xff);
  const char tls_hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03";
  return {
      {"TLS ClientHello", std::string(tls_hello, sizeof tls_hello - 1) + std::string(100, '\0'), false, true},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, true},
      {"SSH banner", "SSH-2.0-OpenSSH_9.0\r\n", true, true},
      {"1000 NULs", std::string(1000, '\0'), true, true},
      {"only CRLFs", std::string(20, '\n'), true, true},
      {"4 KiB of noise", noise, true, true},
      {"head cut short", "GET /healthz HTTP/1.1\r\nHost: x\r\n", true, true},
      {"body cut short", "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na", true, true},
  };
}

// --- JSON bodies ---------------------------------------------------------------------------------------

// One request body field and the JSON kinds it accepts.
struct Field {
  std::string name;
  std::vector<json::kind> kinds;
};

// An endpoint that reads a JSON object: a body it accepts, and its fields.
struct Endpoint {
  std::string method;
  std::string path;
  json::object valid;
  std::vector<Field> fields;
};

// A request with a JSON body, and whether any non-5xx answer will do (the body may be acceptable).
struct BodyCase {
  std::string name;
  const Endpoint* endpoint;
  std::string body;
  bool may_succeed = false;
  std::string content_type = "application/json";
};

// One value of every JSON kind, as text.
const std::vector<std::pair<json::kind, std::string>>& sample_values() {
  static const std::vector<std::pair<json::kind, std::string>> values = {
      {json::kind::null, "null"},   {json::kind::bool_, "true"},      {json::kind::int64, "7"},
      {json::kind::double_, "2.5"}, {json::kind::string, "\"text\""}, {json::kind::array, "[]"},
      {json::kind::object, "{}"},
  };
  return values;
}

bool accepts(const Field& field, json::kind kind) {
  return std::find(field.kinds.begin(), field.kinds.end(), kind) != field.kinds.end();
}

// The endpoint's valid body with field set to the raw JSON text value (added first, or in place).
std::string with_field(const Endpoint& endpoint, const std::string& field, const std::string& value) {
  json::object rest = endpoint.valid;
  rest.erase(field);
  std::string text = json::serialize(rest);
  const std::string member = json::serialize(json::value(field)) + ":" + value;
  return "{" + member + (rest.empty() ? "" : "," + text.substr(1));
}

// The text of a JSON value nested depth levels deep, as arrays or as objects.
std::string nested(std::size_t depth, bool objects) {
  if (!objects) return std::string(depth, '[') + std::string(depth, ']');
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) out += "{\"a\":";
  return out + "1" + std::string(depth, '}');
}

class HostileHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every URL stays on loopback: a refused port, so deliveries and fetches never leave the machine.
    user_id_ = create("/v1/users", "{}");
    account_id_ = create("/v1/accounts", R"({"user":")" + user_id_ + R"(","employer":"e","source":{"type":"push"}})");
    webhook_id_ = create("/v1/webhooks", R"({"events":["*"],"name":"n","url":"http://127.0.0.1:1/hook"})");
    const json::array events = {"reputations.added"};
    const std::vector<json::kind> decimal = {json::kind::int64, json::kind::uint64, json::kind::double_,
                                             json::kind::string, json::kind::null};
    endpoints_ = {
        {"POST",
         "/v1/webhooks",
         {{"events", events}, {"name", "n"}, {"url", "http://127.0.0.1:1/hook"}},
         {{"events", {json::kind::array}},
          {"name", {json::kind::string}},
          {"url", {json::kind::string}},
          {"secret", {json::kind::string, json::kind::null}},
          {"config", {json::kind::object}}}},
        {"PATCH",
         "/v1/webhooks/" + webhook_id_,
         {{"name", "renamed"}},
         {{"events", {json::kind::array}},
          {"name", {json::kind::string}},
          {"url", {json::kind::string}},
          {"secret", {json::kind::string, json::kind::null}},
          {"config", {json::kind::object}},
          {"enabled", {json::kind::bool_}}}},
        {"POST",
         "/v1/users",
         {{"external_id", "x"}},
         {{"external_id", {json::kind::string, json::kind::null}},
          {"metadata", {json::kind::object, json::kind::null}}}},
        {"POST",
         "/v1/accounts",
         {{"user", user_id_}, {"employer", "e"}, {"source", json::object{{"type", "push"}}}},
         {{"user", {json::kind::string}},
          {"employer", {json::kind::string}},
          {"source", {json::kind::object}},
          {"refresh_frequency", {json::kind::int64, json::kind::uint64}},
          {"ongoing_refresh", {json::kind::string, json::kind::object}}}},
        {"PATCH",
         "/v1/accounts/" + account_id_,
         {{"refresh_frequency", 3600}},
         {{"refresh_frequency", {json::kind::int64, json::kind::uint64}},
          {"ongoing_refresh", {json::kind::string, json::kind::object}}}},
        {"POST",
         "/v1/accounts/" + account_id_ + "/scans",
         {{"rating", 4.5}},
         {{"rating", decimal},
          {"acceptance_rate", decimal},
          {"ontime_rate", decimal},
          {"achievements", {json::kind::array, json::kind::null}},
          {"metadata", {json::kind::object, json::kind::null}}}},
        {"POST",
         "/v1/webhooks/" + webhook_id_ + "/recover",
         {{"since", "2026-01-01T00:00:00Z"}},
         {{"since", {json::kind::string}}}},
    };
    start_rss_kib_ = rss_kib(server_.pid());
  }

  std::string create(const std::string& path, const std::string& body) {
    const Response response = client_.request("POST", path, body, auth_);
    EXPECT_EQ(response.status, 201) << path << ": " << response.body;
    return std::string(response.json().at("id").as_string());
  }

  // Sends every raw case on its own connection; stops at the first the server does not survive.
  void expect_refused(const std::vector<RawCase>& cases) {
    cases_planned_ += static_cast<int>(cases.size());
    for (const RawCase& raw : cases) {
      SCOPED_TRACE(raw.name + ": " + printable(raw.bytes));
      EXPECT_EQ(send_raw(server_.port(), raw, only_no_5xx_), "");
      ++cases_sent_;
      if (!server_.running()) FAIL() << "the server died:\n" << server_.stderr_text();
    }
  }

  // Sends every body case; stops at the first the server does not survive.
  void expect_refused(const std::vector<BodyCase>& cases) {
    cases_planned_ += static_cast<int>(cases.size());
    for (const BodyCase& body : cases) {
      SCOPED_TRACE(body.endpoint->method + " " + body.endpoint->path + " " + body.name + ": " + printable(body.body));
      const auto response = client_.try_request(body.endpoint->method, body.endpoint->path, body.body, auth_,
                                                {"Content-Type: " + body.content_type});
      if (!response) {
        ADD_FAILURE() << "no answer (crash or hang?)";
      } else if (only_no_5xx_) {
        EXPECT_LT(response->status, 500) << printable(response->body);
      } else {
        EXPECT_EQ(judge(*response, body.may_succeed), "");
      }
      ++cases_sent_;
      if (!server_.running()) FAIL() << "the server died:\n" << server_.stderr_text();
    }
  }

  // After a category: alive, /healthz answers at once, every list still reads, memory bounded.
  void expect_still_healthy(const char* category) {
    std::printf("[hostile] %s: %d of %d cases sent\n", category, cases_sent_, cases_planned_);
    RecordProperty("cases", cases_sent_);
    ASSERT_TRUE(server_.running()) << server_.stderr_text();
    HttpClient fresh(server_.port(), milliseconds(2000));
    const auto started = Clock::now();
    const auto health = fresh.try_request("GET", "/healthz");
    ASSERT_TRUE(health && health->status == 200) << "/healthz does not answer";
    EXPECT_LT(Clock::now() - started, milliseconds(1000));
    for (const char* list : {"/v1/users", "/v1/accounts", "/v1/webhooks", "/v1/reputations", "/v1/events"}) {
      SCOPED_TRACE(list);
      const auto response = fresh.try_request("GET", list, "", auth_);
      ASSERT_TRUE(response) << "no answer: " << server_.stderr_text();
      EXPECT_EQ(response->status, 200);
      EXPECT_EQ(judge(*response, true), "");
    }
    const long rss = rss_kib(server_.pid());
    EXPECT_LT(rss - start_rss_kib_, kRssGrowthLimitKib) << "VmRSS " << start_rss_kib_ << " kB -> " << rss << " kB";
  }

  std::vector<BodyCase> invalid_utf8() const {
    const std::vector<std::string> bad = {"\xff",
                                          "\xc0\xaf",
                                          "\xed\xa0\x80",
                                          "\xe2\x82",
                                          "\xf4\x90\x80\x80",
                                          "\x80",
                                          "a\xfe"
                                          "b"};
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      for (const std::string& bytes : bad) {
        const std::string& field = endpoint.fields.front().name;
        cases.push_back({"in a value", &endpoint, with_field(endpoint, field, "\"x" + bytes + "\"")});
        cases.push_back({"in a key", &endpoint, with_field(endpoint, "k" + bytes, "1")});
      }
      cases.push_back({"escaped lone surrogate", &endpoint, R"({"k\ud800":1})"});
      cases.push_back({"UTF-16 body", &endpoint, std::string("\xff\xfe{\0}\0", 6)});
    }
    return cases;
  }

  std::vector<BodyCase> deep_nesting() const {
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      for (bool objects : {false, true}) {
        cases.push_back({"body nested 10,000 deep", &endpoint, objects ? nested(10000, true) : nested(10000, false)});
        for (const Field& field : endpoint.fields) {
          cases.push_back({field.name + " nested 10,000 deep", &endpoint,
                           with_field(endpoint, field.name, nested(10000, objects))});
          cases.push_back(
              {field.name + " nested 40 deep", &endpoint, with_field(endpoint, field.name, nested(40, objects))});
        }
      }
      cases.push_back({"10,000 open brackets", &endpoint, std::string(10000, '[')});
    }
    return cases;
  }

  std::vector<BodyCase> huge_numbers() const {
    // Numbers a double cannot hold must be refused: stored, they would be written back as non-JSON.
    const std::vector<std::string> overflowing = {"1e400", "-1e400", "1.7976931348623157e309", std::string(10000, '9')};
    const std::vector<std::string> extreme = {
        "1e-400", "123456789012345678901234567890", "18446744073709551616", "-9223372036854775809", "0e999999999", "-0",
        "1E308"};
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      for (const Field& field : endpoint.fields) {
        for (const std::string& number : overflowing) {
          cases.push_back(
              {field.name + " = " + number.substr(0, 24), &endpoint, with_field(endpoint, field.name, number)});
          cases.push_back({field.name + " holds " + number.substr(0, 24), &endpoint,
                           with_field(endpoint, field.name, "{\"n\":" + number + "}")});
          cases.push_back({field.name + " lists " + number.substr(0, 24), &endpoint,
                           with_field(endpoint, field.name, "[" + number + "]")});
        }
        for (const std::string& number : extreme) {
          cases.push_back({field.name + " = " + number, &endpoint, with_field(endpoint, field.name, number), true});
          cases.push_back({field.name + " holds " + number, &endpoint,
                           with_field(endpoint, field.name, "{\"n\":" + number + "}"), true});
        }
      }
    }
    return cases;
  }

  std::vector<BodyCase> duplicate_keys() const {
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      for (const Field& field : endpoint.fields) {
        const std::string key = json::serialize(json::value(field.name));
        const std::string body = with_field(endpoint, field.name, "null");
        cases.push_back({field.name + " twice", &endpoint, "{" + key + ":1," + body.substr(1)});
        cases.push_back({field.name + " holds a key twice", &endpoint,
                         with_field(endpoint, field.name, R"({"type":"push","type":"push"})")});
      }
      cases.push_back({"unknown key twice", &endpoint, "{\"zz\":2," + with_field(endpoint, "zz", "1").substr(1)});
    }
    return cases;
  }

  std::vector<BodyCase> wrong_types() const {
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      for (const Field& field : endpoint.fields) {
        for (const auto& [kind, value] : sample_values()) {
          if (accepts(field, kind) || (kind == json::kind::int64 && accepts(field, json::kind::double_))) continue;
          cases.push_back({field.name + " = " + value, &endpoint, with_field(endpoint, field.name, value)});
        }
      }
      for (const char* body : {"[]", "\"text\"", "7", "true", "null", "[{}]"})
        cases.push_back({"body", &endpoint, body});
    }
    return cases;
  }

  std::vector<BodyCase> nulls() const {
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      json::object all_null;
      bool all_accept_null = true;
      for (const Field& field : endpoint.fields) {
        const bool accepted = accepts(field, json::kind::null);
        cases.push_back({field.name + " = null", &endpoint, with_field(endpoint, field.name, "null"), accepted});
        all_null[field.name] = nullptr;
        all_accept_null = all_accept_null && accepted;
      }
      cases.push_back({"every field null", &endpoint, json::serialize(all_null), all_accept_null});
    }
    return cases;
  }

  std::vector<BodyCase> content_types() const {
    std::vector<BodyCase> cases;
    for (const Endpoint& endpoint : endpoints_) {
      const std::string body = json::serialize(endpoint.valid);
      for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                               "application/xml", "application/jsonx", "text/\xe9t\xe9"}) {
        cases.push_back({std::string("Content-Type ") + type, &endpoint, body, false, type});
      }
    }
    return cases;
  }

  std::vector<RawCase> bad_queries() const {
    const std::string authorization = authorization_header(auth_);
    std::vector<RawCase> cases;
    for (const char* list : {"/v1/webhooks", "/v1/users", "/v1/accounts", "/v1/reputations", "/v1/events"}) {
      for (const char* query : {"limit=0", "limit=-1", "limit=abc", "limit=201", "limit=99999999999999999999",
                                "limit=1e3", "limit=", "limit=%00", "cursor=!!!", "cursor=%ff%fe",
                                "cursor=", "cursor=YTotMQ", "cursor=ejox", "cursor=YTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk"}) {
        cases.push_back({std::string(list) + "?" + query,
                         request_head("GET " + std::string(list) + "?" + query + " HTTP/1.1", {authorization})});
      }
    }
    for (const char* query :
         {"user=not-a-uuid", "account=%ff%fe", "user=%c0%af", "user=0b6f1a4e-3c1d-4e8f-9a7b-2c5d6e7f8a9%ff"}) {
      cases.push_back({std::string("/v1/reputations?") + query,
                       request_head("GET /v1/reputations?" + std::string(query) + " HTTP/1.1", {authorization})});
    }
    return cases;
  }

  std::vector<BodyCase> oversized() const {
    const Endpoint& users = endpoints_[2];
    return {
        {"1 MiB + 1 of JSON", &users, R"({"metadata":{"a":")" + std::string((1 << 20) - 17, 'a') + "\"}}"},
        {"8 MiB of JSON", &users, R"({"external_id":")" + std::string(8 << 20, 'x') + "\"}"},
    };
  }

  ReputeProcess server_;
  HttpClient client_{server_.port()};
  Credentials auth_ = basic(server_.dev_key());
  std::string user_id_, account_id_, webhook_id_;
  std::vector<Endpoint> endpoints_;
  long start_rss_kib_ = 0;
  int cases_planned_ = 0;
  int cases_sent_ = 0;
  bool only_no_5xx_ = false;  // answers are judged by their category's test; here only crashes and 5xx count
};

TEST_F(HostileHttpTest, MalformedRequestLines) {
  expect_refused(malformed_request_lines());
  expect_still_healthy("malformed request lines");
}

TEST_F(HostileHttpTest, HugeAndBrokenHeaders) {
  expect_refused(huge_headers());
  expect_still_healthy("huge and broken headers");
}

TEST_F(HostileHttpTest, BadChunkedEncoding) {
  expect_refused(bad_chunking(authorization_header(auth_)));
  expect_still_healthy("bad chunked encoding");
}

TEST_F(HostileHttpTest, BytesThatAreNotHttp) {
  expect_refused(not_http());
  expect_still_healthy("bytes that are not HTTP");
}

TEST_F(HostileHttpTest, InvalidUtf8InJson) {
  expect_refused(invalid_utf8());
  expect_still_healthy("invalid UTF-8 in JSON");
}

TEST_F(HostileHttpTest, DeeplyNestedJson) {
  expect_refused(deep_nesting());
  expect_still_healthy("deeply nested JSON");
}

TEST_F(HostileHttpTest, HugeNumbers) {
  expect_refused(huge_numbers());
  expect_still_healthy("huge numbers");
}

TEST_F(HostileHttpTest, DuplicateKeys) {
  expect_refused(duplicate_keys());
  expect_still_healthy("duplicate keys");
}

TEST_F(HostileHttpTest, WrongTypes) {
  expect_refused(wrong_types());
  expect_still_healthy("wrong types");
}

TEST_F(HostileHttpTest, NullsForEveryField) {
  expect_refused(nulls());
  expect_still_healthy("nulls");
}

TEST_F(HostileHttpTest, UnsupportedContentTypes) {
  expect_refused(content_types());
  expect_still_healthy("content types");
}

TEST_F(HostileHttpTest, BadQueryStrings) {
  expect_refused(bad_queries());
  expect_still_healthy("bad query strings");
}

TEST_F(HostileHttpTest, OversizedBodies) {
  expect_refused(oversized());
  const std::string authorization = authorization_header(auth_);
  const std::string head =
      "POST /v1/users HTTP/1.1\r\nHost: x\r\n" + authorization + "\r\nContent-Type: application/json\r\n";
  std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 24; ++i) chunked += "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  expect_refused(std::vector<RawCase>{
      {"declared 5 GB", head + "Content-Length: 5000000000\r\n\r\n"},
      {"declared 16 MiB, sent", head + "Content-Length: 16777216\r\n\r\n" + std::string(16 << 20, ' ')},
      {"1.5 MiB chunked", chunked + "0\r\n\r\n"},
  });
  expect_still_healthy("oversized bodies");
}

TEST_F(HostileHttpTest, SlowLorisDoesNotBlockOthers) {
  // Each slow client sends one byte a second of a request; meanwhile everyone else is served at once.
  const std::string request =
      request_head("POST /v1/users HTTP/1.1",
                   {authorization_header(auth_), "Content-Type: application/json", "Content-Length: 2"}) +
      "{}";
  constexpr int kSlowClients = 16;
  constexpr int kSeconds = 6;
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < kSlowClients; ++i) slow.push_back(std::make_unique<RawConnection>(server_.port()));
  std::atomic<bool> dripping = true;
  std::thread drip([&] {
    for (int second = 0; second < kSeconds; ++second) {
      for (auto& connection : slow) connection->send(request.substr(static_cast<std::size_t>(second), 1));
      std::this_thread::sleep_for(milliseconds(1000));
    }
    dripping = false;
  });
  int served = 0;
  int refused = 0;
  Clock::duration slowest{};
  while (dripping) {
    HttpClient fresh(server_.port(), milliseconds(2000));
    const auto started = Clock::now();
    const auto health = fresh.try_request("GET", "/healthz");
    const auto created = fresh.try_request("POST", "/v1/users", "{}", auth_);
    slowest = std::max(slowest, Clock::now() - started);
    const bool ok = health && health->status == 200 && created && created->status == 201;
    ok ? ++served : ++refused;
    std::this_thread::sleep_for(milliseconds(20));
  }
  drip.join();
  EXPECT_EQ(refused, 0) << "others were refused or timed out while slow clients dripped";
  std::printf("[hostile] slow loris: %d slow clients for %d s; %d others served, slowest %lld ms\n", kSlowClients,
              kSeconds, served, static_cast<long long>(std::chrono::duration_cast<milliseconds>(slowest).count()));
  EXPECT_GT(served, 20);
  EXPECT_LT(slowest, milliseconds(1500));
  cases_planned_ = cases_sent_ = kSlowClients;
  expect_still_healthy("slow loris");
}

TEST_F(HostileHttpTest, FiveHundredConnectionsAtOnce) {
  constexpr int kConnections = 500;
  const auto opening = Clock::now();
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < kConnections; ++i) connections.push_back(std::make_unique<RawConnection>(server_.port()));
  std::printf("[hostile] 500 connections: opened in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(Clock::now() - opening).count()));
  // Every other connection sends garbage; all are written before any answer is read.
  for (int i = 0; i < kConnections; ++i) {
    connections[static_cast<std::size_t>(i)]->send(i % 2 ? request_head("GET /healthz HTTP/1.1") : "HELLO\r\n\r\n");
  }
  const auto sent = Clock::now();
  int answered = 0;
  for (int i = 0; i < kConnections; ++i) {
    const auto response = connections[static_cast<std::size_t>(i)]->read_response(kAnswerTimeout);
    ASSERT_TRUE(response) << "connection " << i << " got no answer";
    EXPECT_EQ(response->status, i % 2 ? 200 : 400);
    ++answered;
  }
  EXPECT_EQ(answered, kConnections);
  std::printf("[hostile] 500 connections: all answered in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(Clock::now() - sent).count()));
  cases_planned_ = cases_sent_ = kConnections;
  expect_still_healthy("500 connections at once");
}

TEST_F(HostileHttpTest, MemoryStaysFlatOverRepeatedRounds) {
  // One warm-up round of the whole corpus, then two more: the server must not keep anything per bad request.
  only_no_5xx_ = true;
  auto round = [&] {
    expect_refused(malformed_request_lines());
    expect_refused(huge_headers());
    expect_refused(bad_chunking(authorization_header(auth_)));
    expect_refused(not_http());
    expect_refused(invalid_utf8());
    expect_refused(deep_nesting());
    expect_refused(duplicate_keys());
    expect_refused(wrong_types());
    expect_refused(nulls());
    expect_refused(bad_queries());
  };
  round();
  const long warm = rss_kib(server_.pid());
  round();
  round();
  const long after = rss_kib(server_.pid());
  std::printf("[hostile] memory: VmRSS %ld kB at start, %ld kB after warm-up, %ld kB after two more rounds\n",
              start_rss_kib_, warm, after);
  EXPECT_LT(after - warm, kRssFlatLimitKib) << "VmRSS " << warm << " kB -> " << after << " kB";
  expect_still_healthy("three rounds of the corpus");
}

}  // namespace
}  // namespace repute::itest
