// Receivers that misbehave at the TCP level, against the real binary: a subscription whose receiver answers 500,
// 429 or 503 (with and without Retry-After) or 410, resets the connection, never answers, answers a byte at a time,
// streams a body that never ends or is 50 MB, or answers bytes that are not HTTP. For each, the delivery log must
// record every attempt with the status code or a clear error, the retries must follow the (scaled) schedule, a
// healthy subscription on the same server must keep getting its deliveries promptly meanwhile, and the server's
// memory must stay flat.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness/faulty_receiver.hpp"
#include "integration/harness/http_client.hpp"
#include "integration/harness/receiver.hpp"
#include "integration/harness/repute_process.hpp"

namespace repute::itest {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The server's delivery settings: retries after 300 s, 600 s and 900 s scaled down 1000 times (0.3, 0.6 and 0.9 s,
// each ±20 %), so a delivery is failed after its 4th attempt; an attempt ends after 2 s.
constexpr double kTimeScale = 0.001;
const std::vector<double> kScheduleSeconds = {300, 600, 900};
constexpr milliseconds kAttemptTimeout = 2000ms;
constexpr double kJitter = 0.2;
// How late the engine may start a due retry (its timer, a claim commit), in the worst case seen plus a margin.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr milliseconds kStartSlack = 1500ms;
#else
constexpr milliseconds kStartSlack = 600ms;
#endif

// A healthy delivery must reach its receiver this soon after the event was created, whatever the faulty one does.
constexpr milliseconds kHealthyLatencyLimit = 2000ms;
constexpr int kHealthyEvents = 6;  // created while the faulty receiver misbehaves, one every kHealthySpacing
constexpr milliseconds kHealthySpacing = 250ms;

// VmRSS may grow this much over one case (the endless and 50 MB bodies are each cut off at 64 KiB).
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssLimitKib = 20 * 1024 + 320 * 1024;  // ASan keeps freed memory in a 256 MiB quarantine
#elif defined(__SANITIZE_THREAD__)
constexpr long kRssLimitKib = 20 * 1024 + 128 * 1024;  // TSan's shadow and history memory grow with use
#else
constexpr long kRssLimitKib = 20 * 1024;
#endif

constexpr std::size_t kHugeBodyBytes = 50UL * 1024 * 1024;

std::string text(const json::value& value) { return std::string(value.as_string()); }

// The resident set size of a process in KiB, read from /proc/PID/status (VmRSS); 0 when unreadable.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return 0;
}

// Microseconds since the epoch of an ISO 8601 UTC time with microseconds, as the API writes them.
long long micros_of(const std::string& time) {
  std::tm parts{};
  int micros = 0;
  if (std::sscanf(time.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &parts.tm_year, &parts.tm_mon, &parts.tm_mday, &parts.tm_hour,
                  &parts.tm_min, &parts.tm_sec, &micros) != 7) {
    throw std::runtime_error("not an API time: " + time);
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return static_cast<long long>(timegm(&parts)) * 1'000'000 + micros;
}

// What one fault must leave in the delivery log.
struct FaultCase {
  std::string name;
  Fault fault;
  std::optional<int> status;  // every attempt's status_code (nullopt: null)
  std::string error;          // a regex every attempt's error must match; "" when it must be null
  std::string state;          // the delivery's state once checked: "failed", "delivered", "pending" ("": not asserted)
  int attempts = 0;           // attempts recorded when checked ("pending": at least this many)
  std::optional<milliseconds> retry_after;  // each retry waits at least this long (the receiver's Retry-After)
};

void PrintTo(const FaultCase& fault_case, std::ostream* out) { *out << fault_case.name; }

class FaultyReceiverTest : public ::testing::Test {
 protected:
  void start() {
    std::string schedule;
    for (double seconds : kScheduleSeconds) schedule += (schedule.empty() ? "" : ",") + std::to_string(seconds);
    server_ = std::make_unique<ReputeProcess>(
        dev_options({"--retry-time-scale", std::to_string(kTimeScale), "--retry-schedule", schedule,
                     "--attempt-timeout", std::to_string(kAttemptTimeout.count() / 1000.0), "--delivery-lease",
                     std::to_string(kAttemptTimeout.count() / 1000.0 + 3)}));
    client_ = std::make_unique<HttpClient>(server_->port());
    auth_ = basic(server_->dev_key());
  }

  json::value ok(const std::string& method, const std::string& path, const std::string& body = "") {
    const Response response = client_->request(method, path, body, auth_);
    if (response.status / 100 != 2) throw std::runtime_error(method + " " + path + ": " + response.body);
    return response.json();
  }

  std::string subscribe(const std::string& url, const std::string& name) {
    const json::object body{{"events", json::array{"*"}}, {"name", name}, {"url", url}};
    return text(ok("POST", "/v1/webhooks", json::serialize(body)).at("id"));
  }

  // A new sandbox account; its initial scan emits reputations.added to every subscription.
  void create_account() {
    if (user_.empty()) user_ = text(ok("POST", "/v1/users", "{}").at("id"));
    ok("POST", "/v1/accounts", json::serialize(json::object{{"user", user_}, {"employer", "uber"}}));
  }

  // How long one event took to reach the healthy receiver: from the API request that made it, and from the API's
  // answer (its commit) on.
  struct Latency {
    milliseconds from_request{0};
    milliseconds from_commit{0};
  };

  // Creates an event and measures its trip to the healthy receiver (nullopt: it did not arrive within 5 s).
  std::optional<Latency> healthy_event() {
    const std::size_t before = healthy_.received("/healthy").size();
    const auto requested = Steady::now();
    create_account();
    const auto committed = Steady::now();
    if (!healthy_.wait_for("/healthy", before + 1, 5s)) return std::nullopt;
    const auto arrived = healthy_.received("/healthy").at(before).arrived;
    return Latency{std::chrono::duration_cast<milliseconds>(arrived - requested),
                   std::chrono::duration_cast<milliseconds>(arrived - committed)};
  }

  json::value delivery(const std::string& id) { return ok("GET", "/v1/deliveries/" + id); }
  json::value webhook(const std::string& id) { return ok("GET", "/v1/webhooks/" + id); }

  // Polls until condition holds; false after timeout.
  static bool eventually(const std::function<bool()>& condition, milliseconds timeout) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return condition();
  }

  // Checks the wait before each retry of a delivery's attempts against the schedule (or the Retry-After).
  static void expect_schedule_kept(const json::array& attempts, std::optional<milliseconds> retry_after) {
    for (std::size_t i = 0; i + 1 < attempts.size(); ++i) {
      const long long started = micros_of(text(attempts[i].at("attempted_at")));
      const auto duration = static_cast<long long>(attempts[i].at("duration_ms").to_number<double>() * 1000);
      const long long next = micros_of(text(attempts[i + 1].at("attempted_at")));
      const double gap_ms = static_cast<double>(next - (started + duration)) / 1000.0;
      const double delay_ms = kScheduleSeconds.at(i) * kTimeScale * 1000.0;
      double low = (1 - kJitter) * delay_ms;
      double high = (1 + kJitter) * delay_ms;
      if (retry_after) {
        low = std::max(low, static_cast<double>(retry_after->count()));
        high = std::max(high, static_cast<double>(retry_after->count()));
      }
      EXPECT_GE(gap_ms, low - 5) << "retry " << i + 1 << " came too soon";
      EXPECT_LE(gap_ms, high + static_cast<double>(kStartSlack.count())) << "retry " << i + 1 << " came too late";
      std::printf("[ faulty   ]   retry %zu after %.0f ms (schedule %.0f-%.0f ms)\n", i + 1, gap_ms, low, high);
    }
  }

  // Receivers first: they outlive the server, which then never sees them vanish mid-test.
  Receiver healthy_;
  std::unique_ptr<ReputeProcess> server_;
  std::unique_ptr<HttpClient> client_;
  Credentials auth_;
  std::string user_;
};

class EachFault : public FaultyReceiverTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(EachFault, IsLoggedRetriedOnScheduleAndStarvesNoOne) {
  const FaultCase& fault_case = GetParam();
  FaultyReceiver faulty(fault_case.fault);
  start();
  subscribe(healthy_.url("/healthy"), "healthy");
  ASSERT_TRUE(healthy_event()) << "warm-up delivery";
  const long rss_before = rss_kib(server_->pid());

  // The first event reaches the faulty receiver; more events follow while it misbehaves.
  const std::string hook = subscribe(faulty.url("/hook"), "faulty");
  std::vector<Latency> latencies;
  const auto first = healthy_event();
  ASSERT_TRUE(first) << "the healthy receiver got nothing";
  latencies.push_back(*first);
  ASSERT_TRUE(faulty.wait_for_connections(1, 5s));
  for (int i = 0; i < kHealthyEvents; ++i) {
    std::this_thread::sleep_for(kHealthySpacing);
    const auto latency = healthy_event();
    ASSERT_TRUE(latency) << "healthy event " << i << " never arrived";
    latencies.push_back(*latency);
  }
  const std::size_t open_meanwhile = faulty.open_connections();

  // The first delivery to the faulty receiver, by the webhook-id its first connection carried.
  const FaultyConnection first_connection = faulty.connections().at(0);
  ASSERT_TRUE(first_connection.request_read);
  const std::string id = first_connection.webhook_id;
  ASSERT_FALSE(id.empty());
  const auto settled = [&] {
    const json::value logged = delivery(id);
    const auto count = logged.at("attempt_count").as_int64();
    if (fault_case.state == "pending" || fault_case.state.empty()) return count >= fault_case.attempts;
    return text(logged.at("state")) == fault_case.state && count >= fault_case.attempts;
  };
  ASSERT_TRUE(eventually(settled, 20s)) << json::serialize(delivery(id));
  const json::value logged = delivery(id);
  const json::array attempts = logged.at("attempts").as_array();
  if (fault_case.state == "pending" || fault_case.state.empty()) {
    EXPECT_GE(attempts.size(), static_cast<std::size_t>(fault_case.attempts));
    if (!fault_case.state.empty()) {
      EXPECT_EQ(text(logged.at("state")), fault_case.state);
    }
  } else {
    EXPECT_EQ(text(logged.at("state")), fault_case.state);
    EXPECT_EQ(attempts.size(), static_cast<std::size_t>(fault_case.attempts));
  }
  const std::regex error_pattern(fault_case.error.empty() ? "^$" : fault_case.error, std::regex::icase);
  for (const json::value& attempt : attempts) {
    SCOPED_TRACE(json::serialize(attempt));
    if (fault_case.status) {
      EXPECT_EQ(attempt.at("status_code"), *fault_case.status);
    } else {
      EXPECT_TRUE(attempt.at("status_code").is_null());
    }
    if (fault_case.error.empty()) {
      EXPECT_TRUE(attempt.at("error").is_null());
    } else {
      ASSERT_TRUE(attempt.at("error").is_string());
      EXPECT_TRUE(std::regex_search(text(attempt.at("error")), error_pattern));
    }
  }
  // The log's summary agrees with the last attempt.
  const json::value& last = attempts.back();
  EXPECT_EQ(logged.at("last_status_code"), last.at("status_code"));
  EXPECT_EQ(logged.at("last_error"), last.at("error"));
  if (text(logged.at("state")) == "pending") {
    EXPECT_TRUE(logged.at("next_attempt_at").is_string());
  }
  std::printf("[ faulty   ] %s: %zu attempt(s), state %s, status %s, error %s\n", fault_case.name.c_str(),
              attempts.size(), text(logged.at("state")).c_str(), json::serialize(last.at("status_code")).c_str(),
              json::serialize(last.at("error")).c_str());
  expect_schedule_kept(attempts, fault_case.retry_after);

  // Every retry of the first delivery went out under its webhook-id, each on a connection of its own.
  std::size_t seen = 0;
  for (const FaultyConnection& connection : faulty.connections()) seen += connection.webhook_id == id;
  EXPECT_GE(seen, attempts.size());

  if (fault_case.fault.kind == FaultKind::kStatus && fault_case.fault.status == 410) {
    EXPECT_FALSE(webhook(hook).at("enabled").as_bool());
    EXPECT_EQ(webhook(hook).at("disabled_reason"), "gone");
    const std::size_t connections = faulty.connections().size();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(faulty.connections().size(), connections) << "a disabled subscription was sent more";
  }

  milliseconds worst{0};
  milliseconds worst_after_commit{0};
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    EXPECT_LT(latencies[i].from_request, kHealthyLatencyLimit) << "healthy event " << i;
    worst = std::max(worst, latencies[i].from_request);
    worst_after_commit = std::max(worst_after_commit, latencies[i].from_commit);
  }
  const long rss_after = rss_kib(server_->pid());
  EXPECT_LT(rss_after - rss_before, kRssLimitKib) << "VmRSS " << rss_before << " kB -> " << rss_after << " kB";
  std::size_t bytes_offered = 0;
  for (const FaultyConnection& connection : faulty.connections()) bytes_offered += connection.bytes_sent;
  std::printf(
      "[ faulty   ] %s: healthy latency worst %lld ms from the request, %lld ms from the commit, over %zu events "
      "(%zu faulty connections open meanwhile); VmRSS %ld -> %ld kB (%+ld kB); %zu connections, %zu response bytes "
      "taken by the kernel\n",
      fault_case.name.c_str(), static_cast<long long>(worst.count()),
      static_cast<long long>(worst_after_commit.count()), latencies.size(), open_meanwhile, rss_before, rss_after,
      rss_after - rss_before, faulty.connections().size(), bytes_offered);
}

const std::string kTimedOut = "timed out|timeout";

INSTANTIATE_TEST_SUITE_P(
    Faults, EachFault,
    ::testing::Values(
        FaultCase{"status_500", answer_status(500), 500, "", "failed", 4, std::nullopt},
        FaultCase{"status_429_retry_after", answer_status(429, "Retry-After: 1\r\n"), 429, "", "failed", 4, 1000ms},
        FaultCase{"status_503_retry_after", answer_status(503, "Retry-After: 1\r\n"), 503, "", "failed", 4, 1000ms},
        FaultCase{"status_503", answer_status(503), 503, "", "failed", 4, std::nullopt},
        FaultCase{"status_410", answer_status(410), 410, "", "failed", 1, std::nullopt},
        FaultCase{"reset", reset_after_request(), std::nullopt, "reset", "failed", 4, std::nullopt},
        FaultCase{"hang", never_answer(), std::nullopt, kTimedOut, "pending", 2, std::nullopt},
        // About 60 bytes at 10 ms each: done in 0.6 s, well within the 2 s attempt.
        FaultCase{"slow_within_timeout", answer_slowly(10ms), 200, "", "delivered", 1, std::nullopt},
        // At 150 ms a byte even the 17-byte status line takes 2.55 s: the attempt times out with no status.
        FaultCase{"slow_past_timeout", answer_slowly(150ms), std::nullopt, kTimedOut, "pending", 2, std::nullopt},
        // At 50 ms a byte the status line is in after 0.85 s but the whole answer would take 3 s:
        // the attempt records the 200 and the timeout. (Whether that counts as delivered is the engine's call:
        // today it does; docs/RELIABILITY.md, "Receiver faults".)
        FaultCase{"slow_status_then_timeout", answer_slowly(50ms), 200, kTimedOut, "", 1, std::nullopt},
        // A 2xx is success; only the first 64 KiB of its body is read, then the transfer is cut off.
        FaultCase{"endless_body", endless_body(), 200, "cut off after 65536 bytes", "delivered", 1, std::nullopt},
        FaultCase{"endless_chunked", endless_chunked_body(), 200, "cut off after 65536 bytes", "delivered", 1,
                  std::nullopt},
        FaultCase{"huge_body_50MB", huge_body(kHugeBodyBytes), 200, "cut off after 65536 bytes", "delivered", 1,
                  std::nullopt},
        FaultCase{"garbage", garbage(), std::nullopt, "the receiver.s answer is not HTTP", "failed", 4, std::nullopt}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

TEST_F(FaultyReceiverTest, AScriptOfFaultsEndsInOneDeliveryUnderOneId) {
  // Attempt 1 is reset, 2 gets garbage, 3 hangs until the attempt times out, 4 is answered 200.
  FaultyReceiver faulty({reset_after_request(), garbage(), never_answer()}, answer_status(200));
  start();
  subscribe(faulty.url("/hook"), "scripted");
  create_account();
  ASSERT_TRUE(faulty.wait_for_connections(4, 15s));
  const std::vector<FaultyConnection> connections = faulty.connections();
  const std::string id = connections[0].webhook_id;
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(eventually([&] { return text(delivery(id).at("state")) == "delivered"; }, 10s));
  const json::value logged = delivery(id);
  const json::array attempts = logged.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_TRUE(std::regex_search(text(attempts[0].at("error")), std::regex("reset", std::regex::icase)));
  EXPECT_TRUE(attempts[1].at("error").is_string());
  EXPECT_TRUE(std::regex_search(text(attempts[2].at("error")), std::regex(kTimedOut, std::regex::icase)));
  EXPECT_GE(attempts[2].at("duration_ms").to_number<double>(), 0.9 * static_cast<double>(kAttemptTimeout.count()));
  EXPECT_EQ(attempts[3].at("status_code"), 200);
  EXPECT_TRUE(attempts[3].at("error").is_null());
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(attempts[i].at("status_code").is_null()) << "attempt " << i + 1;
  expect_schedule_kept(attempts, std::nullopt);
  // Four connections, one per attempt, every one carrying the same webhook-id; nothing sent after the 200.
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(faulty.connections().size(), 4u);
  for (const FaultyConnection& connection : faulty.connections()) EXPECT_EQ(connection.webhook_id, id);
}

}  // namespace
}  // namespace repute::itest
