// The scan engine on the real SQLite store with a fake http fetch: initial scans at once, periodic scans on
// refresh_frequency, a schedule that survives a restart, the cap on concurrent fetches, the http outcomes,
// and a scheduler that sleeps rather than spins while work waits.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "scan/scan.hpp"
#include "unit/support/temp_dir.hpp"
#include "support/test_database.hpp"

namespace repute::scan {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr const char* kGoodAnswer =
    R"({"rating": "4.80", "acceptance_rate": 0.9, "ontime_rate": "0.97", "achievements": [], "metadata": {"via": "http"}})";

using repute::test_support::TempDir;

// The real clock, counting how often it is read: a scheduler that spins reads it without end.
class CountingClock final : public core::Clock {
 public:
  core::Micros now() const override {
    reads_.fetch_add(1, std::memory_order_relaxed);
    return core::system_clock().now();
  }
  std::int64_t reads() const { return reads_.load(); }

 private:
  mutable std::atomic<std::int64_t> reads_{0};
};

// Fake http sources: each fetch answers on a thread of its own after a delay (or once released), and the
// number of fetches in flight at once is recorded.
class FakeSources {
 public:
  using Answer = std::function<FetchResult(const std::string& url)>;

  FakeSources() : answer_([](const std::string&) { return FetchResult{200, kGoodAnswer, "", false}; }) {}
  ~FakeSources() {
    release();
    join();
  }

  Fetch fetch() {
    return [this](const std::string& url, std::function<void(FetchResult)> done) {
      std::lock_guard lock(mutex_);
      urls_.push_back(url);
      ++in_flight_;
      most_in_flight_ = std::max(most_in_flight_, in_flight_);
      threads_.emplace_back([this, url, done = std::move(done)] {
        std::chrono::milliseconds delay;
        {
          std::lock_guard lock(mutex_);
          delay = delay_;
        }
        std::this_thread::sleep_for(delay);
        Answer answer;
        {
          std::unique_lock lock(mutex_);
          released_.wait(lock, [this] { return !hold_; });
          answer = answer_;
        }
        FetchResult result = answer(url);
        {
          std::lock_guard lock(mutex_);
          --in_flight_;
        }
        done(std::move(result));
      });
    };
  }

  void answer_with(Answer answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }
  void set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }
  // Fetches wait until release().
  void hold() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    released_.notify_all();
  }
  int most_in_flight() {
    std::lock_guard lock(mutex_);
    return most_in_flight_;
  }
  int in_flight() {
    std::lock_guard lock(mutex_);
    return in_flight_;
  }
  std::vector<std::string> urls() {
    std::lock_guard lock(mutex_);
    return urls_;
  }
  // Joins every answering thread, including any started meanwhile.
  void join() {
    for (;;) {
      std::vector<std::thread> threads;
      {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
      }
      if (threads.empty()) return;
      for (std::thread& thread : threads) thread.join();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  Answer answer_;
  std::chrono::milliseconds delay_{0};
  bool hold_ = false;
  int in_flight_ = 0;
  int most_in_flight_ = 0;
  std::vector<std::string> urls_;
  std::vector<std::thread> threads_;
};

// Polls condition every 10 ms until it holds or timeout passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class ScanEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    open();
    must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto tenant = tx.ensure_tenant("acme", core::system_clock().now());
      if (!tenant) return tenant.error();
      tenant_ = tenant->id;
      core::User user{core::new_uuid(), tenant_, std::nullopt, "{}", core::system_clock().now()};
      user_ = user.id;
      return tx.insert_user(user);
    }));
  }

  void TearDown() override {
    stop_engine();
    if (store_) store_->close();
  }

  void open() {
    store::StoreOptions options;
    options.synchronous_full = false;
    auto opened = store::open_store(repute::testing::database_url((dir_.path() / "repute.db").string()), options);
    if (!opened) throw std::runtime_error(opened.error().message);
    store_ = std::move(*opened);
  }

  void start_engine(ScanOptions options = {}) {
    auto started = start_scan_engine(*store_, options, sources_.fetch(), clock_);
    if (!started) throw std::runtime_error(started.error().message);
    engine_ = std::move(*started);
    store_->set_work_listener([engine = engine_.get()](store::WorkKind kind) {
      if (kind == store::WorkKind::kScans) engine->wake();
    });
  }

  void stop_engine() {
    if (!engine_) return;
    engine_->stop();
    sources_.release();
    sources_.join();
    store_->set_work_listener(nullptr);
    engine_.reset();
  }

  // Closes the store and opens it again, as a restarted server does.
  void restart_store() {
    stop_engine();
    store_->close();
    store_.reset();
    open();
  }

  // An account made as the API makes it: its initial scan is due now (none for push).
  std::string make_account(const std::function<void(core::Account&)>& change = nullptr) {
    const core::Micros now = core::system_clock().now();
    core::Account account;
    account.id = core::new_uuid();
    account.tenant_id = tenant_;
    account.user_id = user_;
    account.employer = "uber";
    account.created_at = account.updated_at = account.connection_updated_at = now;
    if (change) change(account);
    if (account.source.type != core::Source::Type::kPush) account.next_scan_at = now;
    must(store_->write_and_wait([&](store::WriteTx& tx) { return tx.insert_account(account); }));
    return account.id;
  }

  static std::function<void(core::Account&)> http(const std::string& url, std::int64_t refresh = 3600) {
    return [url, refresh](core::Account& account) {
      account.source.type = core::Source::Type::kHttp;
      account.source.url = url;
      account.refresh_frequency = refresh;
    };
  }

  static std::function<void(core::Account&)> sandbox(std::int64_t refresh, double change_probability = 0.3) {
    return [refresh, change_probability](core::Account& account) {
      account.refresh_frequency = refresh;
      account.source.change_probability = change_probability;
    };
  }

  core::Account account(const std::string& id) {
    auto found = store_->find_account(tenant_, id);
    if (!found || !*found) throw std::runtime_error("no account " + id);
    return **found;
  }

  std::int64_t scan_count(const std::string& id) { return account(id).scan_count; }

  std::vector<core::Reputation> reputations_of(const std::string& account_id) {
    store::ReputationFilter filter;
    filter.account_id = account_id;
    auto page = store_->list_reputations(tenant_, filter, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    return page->items;
  }

  // The tenant's event types, oldest first.
  std::vector<std::string> event_types() {
    auto page = store_->list_events(tenant_, {}, {200, std::nullopt});
    if (!page) throw std::runtime_error(page.error().message);
    std::vector<std::string> types;
    for (auto it = page->items.rbegin(); it != page->items.rend(); ++it) types.push_back(it->type);
    return types;
  }

  static void must(const core::Status& status) {
    if (!status) throw std::runtime_error(status.error().message);
  }

  TempDir dir_;
  CountingClock clock_;
  FakeSources sources_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ScanEngine> engine_;
  std::string tenant_;
  std::string user_;
};

TEST_F(ScanEngineTest, ANewSandboxAccountHasItsReputationWithinASecond) {
  start_engine();
  const auto created = Steady::now();
  const std::string id = make_account();
  ASSERT_TRUE(eventually([&] { return !reputations_of(id).empty(); }, 1000ms));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - created);
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(event_types(), std::vector<std::string>{"reputations.added"});
  const core::Account scanned = account(id);
  EXPECT_EQ(scanned.connection_status, "connected");
  EXPECT_EQ(scanned.scan_count, 1);
  ASSERT_TRUE(scanned.next_scan_at);
  EXPECT_GT(*scanned.next_scan_at, *scanned.scanned_at + 5 * 3600 * core::kMicrosPerSecond) << "default 6 h ± jitter";
  EXPECT_TRUE(sources_.urls().empty()) << "the sandbox reads no URL";
}

TEST_F(ScanEngineTest, AccountsMadeBeforeTheEngineStartsAreScannedAtOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(make_account());
  start_engine();
  for (const std::string& id : ids) {
    EXPECT_TRUE(eventually([&] { return scan_count(id) == 1; }, 1000ms)) << id;
  }
  EXPECT_EQ(event_types().size(), 20u);
}

TEST_F(ScanEngineTest, PeriodicScansFollowTheRefreshFrequency) {
  start_engine();
  const std::string id = make_account(sandbox(1, 1.0));
  ASSERT_TRUE(eventually([&] { return scan_count(id) == 1; }, 1000ms));
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(scan_count(id), 1) << "the next scan waits for refresh_frequency (1 s, ±10 %)";
  ASSERT_TRUE(eventually([&] { return scan_count(id) >= 3; }, 3500ms)) << scan_count(id);
  const std::vector<std::string> types = event_types();
  ASSERT_GE(types.size(), 3u);
  EXPECT_EQ(types[0], "reputations.added");
  for (std::size_t i = 1; i < types.size(); ++i) EXPECT_EQ(types[i], "reputations.updated") << i;
  EXPECT_EQ(reputations_of(id).size(), 1u);
}

TEST_F(ScanEngineTest, PeriodicScansWithProbabilityZeroEmitNothingNew) {
  start_engine();
  const std::string id = make_account(sandbox(1, 0.0));
  ASSERT_TRUE(eventually([&] { return scan_count(id) >= 3; }, 4000ms)) << scan_count(id);
  EXPECT_EQ(event_types(), std::vector<std::string>{"reputations.added"});
}

TEST_F(ScanEngineTest, DisabledOngoingRefreshIsNotRescanned) {
  start_engine();
  const std::string id = make_account([](core::Account& account) {
    account.refresh_frequency = 1;
    account.ongoing_refresh = false;
  });
  ASSERT_TRUE(eventually([&] { return scan_count(id) == 1; }, 1000ms));
  std::this_thread::sleep_for(2000ms);
  EXPECT_EQ(scan_count(id), 1);
  EXPECT_EQ(account(id).next_scan_at, std::nullopt);
}

TEST_F(ScanEngineTest, ARestartKeepsEverySchedule) {
  start_engine();
  const std::string every_second = make_account(sandbox(1));
  const std::string hourly = make_account(sandbox(3600));
  ASSERT_TRUE(eventually([&] { return scan_count(every_second) >= 1 && scan_count(hourly) == 1; }, 1000ms));
  restart_store();
  const std::optional<core::Micros> hourly_next = account(hourly).next_scan_at;
  ASSERT_TRUE(hourly_next);
  const std::int64_t before = scan_count(every_second);
  // Made while no engine runs: due now, so the restarted engine must find it without being told.
  const std::string made_while_down = make_account();

  start_engine();
  EXPECT_TRUE(eventually([&] { return scan_count(made_while_down) == 1; }, 1000ms));
  EXPECT_TRUE(eventually([&] { return scan_count(every_second) >= before + 2; }, 3500ms))
      << "periodic scans go on after the restart";
  EXPECT_EQ(scan_count(hourly), 1) << "a scan not yet due is not run by a restart";
  EXPECT_EQ(account(hourly).next_scan_at, hourly_next);
}

// The engine relies on its claim: every account a claim returns is leased, so that no later claim returns it
// again while its scan is in progress.
TEST_F(ScanEngineTest, AClaimLeasesEveryAccountItReturns) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(make_account());
  const core::Micros now = core::system_clock().now();
  const core::Micros lease_until = now + 60 * core::kMicrosPerSecond;
  std::size_t claimed = 0;
  std::size_t claimed_again = 0;
  must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto due = tx.claim_due_scans(now, lease_until, 10);
    if (!due) return due.error();
    claimed = due->size();
    return core::ok_status();
  }));
  must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto due = tx.claim_due_scans(now, lease_until, 10);
    if (!due) return due.error();
    claimed_again = due->size();
    return core::ok_status();
  }));
  EXPECT_EQ(claimed, 3u);
  for (const std::string& id : ids) EXPECT_EQ(account(id).next_scan_at, lease_until) << id;
  EXPECT_EQ(claimed_again, 0u) << "leased accounts are not due";
}

TEST_F(ScanEngineTest, ConcurrentFetchesStayWithinTheCap) {
  ScanOptions options;
  options.max_concurrent_fetches = 3;
  sources_.set_delay(100ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(make_account(http("http://127.0.0.1:9/source/" + std::to_string(i))));
  start_engine(options);
  for (const std::string& id : ids) {
    EXPECT_TRUE(eventually([&] { return account(id).connection_status == "connected"; }, 5000ms)) << id;
  }
  EXPECT_EQ(sources_.urls().size(), 12u) << "each account is fetched once";
  EXPECT_LE(sources_.most_in_flight(), 3);
  EXPECT_EQ(sources_.most_in_flight(), 3) << "the cap is also used: fetches run side by side";
  EXPECT_EQ(event_types().size(), 12u);
}

TEST_F(ScanEngineTest, HttpSourcesAreFetchedAtTheirUrlAndTheAnswerApplied) {
  start_engine();
  const std::string id = make_account(http("http://127.0.0.1:9/worker/42"));
  ASSERT_TRUE(eventually([&] { return account(id).connection_status == "connected"; }, 1000ms));
  EXPECT_EQ(sources_.urls(), std::vector<std::string>{"http://127.0.0.1:9/worker/42"});
  const auto stored = reputations_of(id);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].content.rating, "4.8");
  EXPECT_EQ(stored[0].content.acceptance_rate, "0.9");
  EXPECT_EQ(stored[0].content.ontime_rate, "0.97");
  EXPECT_EQ(event_types(), std::vector<std::string>{"reputations.added"});
}

// Each failed answer of an http source, and the connection state it must leave.
struct FailedAnswer {
  const char* name;
  FetchResult fetched;
  const char* error_code;
  const char* message_part;
};

class HttpFailures : public ScanEngineTest, public ::testing::WithParamInterface<FailedAnswer> {};

TEST_P(HttpFailures, FailTheScanWithACodeAndKeepNoReputation) {
  ScanOptions options;
  options.max_source_bytes = 1024;
  const FetchResult fetched = GetParam().fetched;
  sources_.answer_with([fetched](const std::string&) { return fetched; });
  start_engine(options);
  const std::string id = make_account(http("http://127.0.0.1:9/source"));
  ASSERT_TRUE(eventually([&] { return scan_count(id) == 1; }, 1000ms));
  const core::Account scanned = account(id);
  EXPECT_EQ(scanned.connection_status, "error");
  EXPECT_EQ(scanned.connection_error_code, GetParam().error_code);
  ASSERT_TRUE(scanned.connection_error_message);
  EXPECT_NE(scanned.connection_error_message->find(GetParam().message_part), std::string::npos)
      << *scanned.connection_error_message;
  EXPECT_TRUE(reputations_of(id).empty());
  EXPECT_TRUE(event_types().empty());
  EXPECT_TRUE(scanned.next_scan_at) << "the next period tries again";
}

INSTANTIATE_TEST_SUITE_P(
    Answers, HttpFailures,
    ::testing::Values(
        FailedAnswer{"ServerError", {500, "oops", "", false}, "source_http_status", "HTTP 500"},
        FailedAnswer{"NotFound", {404, kGoodAnswer, "", false}, "source_http_status", "HTTP 404"},
        FailedAnswer{"Redirect", {302, "", "", false}, "source_http_status", "HTTP 302"},
        FailedAnswer{
            "Unreachable", {std::nullopt, "", "Connection refused", false}, "source_unreachable", "Connection refused"},
        FailedAnswer{"Timeout", {std::nullopt, "", "timeout after 10000 ms", false}, "source_unreachable", "timeout"},
        FailedAnswer{"CutOff",
                     {200, std::string(1024, ' '), "response body cut off", true},
                     "source_too_large",
                     "larger than 1024 bytes"},
        FailedAnswer{
            "TooLarge", {200, std::string(2000, ' ') + "{}", "", false}, "source_too_large", "larger than 1024 bytes"},
        FailedAnswer{"NotJson", {200, "<html>hello</html>", "", false}, "source_malformed", "not valid JSON"},
        FailedAnswer{"NotAnObject", {200, "[1, 2]", "", false}, "source_malformed", "not a JSON object"},
        FailedAnswer{"OutOfRange",
                     {200, R"({"rating": 7})", "", false},
                     "source_malformed",
                     "rating: Ensure this value is between 0 and 5."}),
    [](const ::testing::TestParamInfo<FailedAnswer>& info) { return std::string(info.param.name); });

// A 200 whose transfer then failed (the body stalled past the timeout, the connection was reset) is not an
// answer, even when the bytes that did arrive happen to parse.
TEST_F(ScanEngineTest, AnAnswerCutShortByATransferErrorFailsTheScan) {
  sources_.answer_with([](const std::string&) {
    return FetchResult{200, R"({"rating": 4.1})", "Operation timed out after 10000 milliseconds", false};
  });
  start_engine();
  const std::string id = make_account(http("http://127.0.0.1:9/source"));
  ASSERT_TRUE(eventually([&] { return scan_count(id) == 1; }, 1000ms));
  EXPECT_EQ(account(id).connection_status, "error");
  EXPECT_TRUE(reputations_of(id).empty());
  EXPECT_TRUE(event_types().empty());
}

TEST_F(ScanEngineTest, AFailingHttpSourceKeepsTheLastReputationAndRecoversNextPeriod) {
  start_engine();
  const std::string id = make_account(http("http://127.0.0.1:9/source", 1));
  ASSERT_TRUE(eventually([&] { return scan_count(id) == 1; }, 1000ms));
  ASSERT_EQ(account(id).connection_status, "connected");
  const core::Reputation first = reputations_of(id).at(0);

  sources_.answer_with([](const std::string&) { return FetchResult{503, "busy", "", false}; });
  ASSERT_TRUE(eventually([&] { return account(id).connection_status == "error"; }, 2500ms));
  EXPECT_EQ(account(id).connection_error_code, "source_http_status");
  EXPECT_EQ(reputations_of(id).at(0).content, first.content);
  EXPECT_EQ(reputations_of(id).at(0).updated_at, first.updated_at);
  EXPECT_EQ(event_types(), std::vector<std::string>{"reputations.added"});

  sources_.answer_with([](const std::string&) { return FetchResult{200, kGoodAnswer, "", false}; });
  ASSERT_TRUE(eventually([&] { return account(id).connection_status == "connected"; }, 2500ms));
  EXPECT_EQ(account(id).connection_error_code, std::nullopt);
  EXPECT_EQ(event_types(), std::vector<std::string>{"reputations.added"}) << "the same answer again is nothing new";

  sources_.answer_with([](const std::string&) { return FetchResult{200, R"({"rating": 3.9})", "", false}; });
  ASSERT_TRUE(eventually([&] { return event_types().size() == 2; }, 2500ms));
  EXPECT_EQ(event_types().back(), "reputations.updated");
  EXPECT_EQ(reputations_of(id).at(0).content.rating, "3.9");
}

TEST_F(ScanEngineTest, APushAccountFallingDueOnlyLosesItsSchedule) {
  start_engine();
  const std::string id = make_account([](core::Account& account) { account.source.type = core::Source::Type::kPush; });
  must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto found = tx.find_account(tenant_, id);
    if (!found || !*found) return core::internal_error("no account");
    (*found)->next_scan_at = core::system_clock().now();
    return tx.update_account(**found);
  }));
  ASSERT_TRUE(eventually([&] { return !account(id).next_scan_at; }, 5000ms));
  EXPECT_EQ(account(id).scan_count, 0);
  EXPECT_EQ(account(id).connection_status, "connecting");
  EXPECT_TRUE(reputations_of(id).empty());
  EXPECT_TRUE(sources_.urls().empty());
}

TEST_F(ScanEngineTest, AnAccountDeletedDuringItsFetchIsSkipped) {
  sources_.hold();
  start_engine();
  const std::string id = make_account(http("http://127.0.0.1:9/source"));
  ASSERT_TRUE(eventually([&] { return sources_.in_flight() == 1; }, 1000ms));
  must(store_->write_and_wait([&](store::WriteTx& tx) -> core::Status {
    auto deleted = tx.delete_account(tenant_, id);
    return deleted ? core::ok_status() : core::Status(deleted.error());
  }));
  sources_.release();
  ASSERT_TRUE(eventually([&] { return sources_.in_flight() == 0; }, 1000ms));
  engine_->stop();
  EXPECT_TRUE(reputations_of(id).empty());
  EXPECT_TRUE(event_types().empty());
  EXPECT_FALSE(store_->find_account(tenant_, id)->has_value());
}

TEST_F(ScanEngineTest, StopWaitsForTheScansInProgress) {
  sources_.set_delay(300ms);
  start_engine();
  const std::string id = make_account(http("http://127.0.0.1:9/source"));
  ASSERT_TRUE(eventually([&] { return sources_.in_flight() == 1; }, 1000ms));
  engine_->stop();
  EXPECT_EQ(account(id).connection_status, "connected") << "the fetch in flight was applied before stop returned";
  EXPECT_EQ(event_types(), std::vector<std::string>{"reputations.added"});
}

// While http scans wait for a fetch slot and more scans are due, the scheduler must wait for a slot to free
// up, not loop: a loop reads the clock (and the database) as fast as it can.
TEST_F(ScanEngineTest, TheSchedulerDoesNotSpinWhileScansWaitForAFetchSlot) {
  ScanOptions options;
  options.claim_batch = 2;
  options.max_concurrent_fetches = 1;
  sources_.set_delay(200ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(make_account(http("http://127.0.0.1:9/source/" + std::to_string(i))));
  const std::int64_t reads_before = clock_.reads();
  start_engine(options);
  for (const std::string& id : ids) {
    ASSERT_TRUE(eventually([&] { return account(id).connection_status == "connected"; }, 5000ms)) << id;
  }
  // Five fetches of 200 ms, one at a time: about a second of work. An idle-polling scheduler reads the
  // clock a few times per scan; thousands of reads mean it was spinning.
  EXPECT_LT(clock_.reads() - reads_before, 500) << "clock reads during one second of queued fetches";
  EXPECT_LE(sources_.most_in_flight(), 1);
}

// Due sandbox scans are applied in batches, one unit of work each; a scan that cannot be written must not hold
// up the others of its batch (nor those after it), and is itself applied once it can be.
TEST_F(ScanEngineTest, OneScanThatCannotBeAppliedHoldsUpOnlyItself) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(make_account());
  const std::string poisoned = ids[7];
  sqlite3* side = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_.path() / "repute.db").c_str(), &side, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(side, 5000);
  const auto exec = [side](const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(side, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(side);
  };
  exec("CREATE TRIGGER poisoned BEFORE UPDATE OF scan_count ON accounts WHEN OLD.id = '" + poisoned +
       "' BEGIN SELECT RAISE(ABORT, 'injected'); END");

  ScanOptions options;
  options.claim_batch = 8;
  options.lease = core::kMicrosPerSecond;
  start_engine(options);
  for (const std::string& id : ids) {
    if (id == poisoned) continue;
    EXPECT_TRUE(eventually([&] { return scan_count(id) == 1; }, 5000ms)) << id;
  }
  EXPECT_EQ(scan_count(poisoned), 0);
  EXPECT_TRUE(reputations_of(poisoned).empty());
  EXPECT_EQ(event_types().size(), 19u) << "nothing of the failed scan was kept, nothing else was lost";

  exec("DROP TRIGGER poisoned");
  sqlite3_close(side);
  EXPECT_TRUE(eventually([&] { return scan_count(poisoned) == 1; }, 5000ms)) << "applied once it can be";
  EXPECT_EQ(event_types().size(), 20u);
  for (const std::string& id : ids) EXPECT_EQ(scan_count(id), 1) << "each scanned once: " << id;
}

// An http scan that waited for a fetch slot until its lease ran low is not fetched on that claim: its lease runs out
// and it is claimed again, so it is never fetched twice at once nor applied twice.
TEST_F(ScanEngineTest, AScanWhoseLeaseRanLowWaitingForASlotIsClaimedAgainNotFetchedTwice) {
  ScanOptions options;
  options.max_concurrent_fetches = 1;
  options.lease = core::kMicrosPerSecond;
  sources_.set_delay(400ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(make_account(http("http://127.0.0.1:9/source/" + std::to_string(i))));
  start_engine(options);
  for (const std::string& id : ids) {
    EXPECT_TRUE(eventually([&] { return account(id).connection_status == "connected"; }, 8000ms)) << id;
  }
  std::this_thread::sleep_for(1500ms);  // past every lease: a second fetch would have been applied by now
  for (const std::string& id : ids) EXPECT_EQ(scan_count(id), 1) << id;
  const auto urls = sources_.urls();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(std::count(urls.begin(), urls.end(), "http://127.0.0.1:9/source/" + std::to_string(i)), 1) << i;
  }
}

TEST(StartScanEngine, RefusesNonsenseOptions) {
  TempDir dir;
  store::StoreOptions store_options;
  store_options.synchronous_full = false;
  auto store = store::open_store(repute::testing::database_url((dir.path() / "repute.db").string()), store_options);
  ASSERT_TRUE(store);
  const Fetch fetch = [](const std::string&, std::function<void(FetchResult)> done) { done({}); };
  ScanOptions no_batch;
  no_batch.claim_batch = 0;
  EXPECT_FALSE(start_scan_engine(**store, no_batch, fetch));
  ScanOptions no_fetches;
  no_fetches.max_concurrent_fetches = 0;
  EXPECT_FALSE(start_scan_engine(**store, no_fetches, fetch));
  EXPECT_FALSE(start_scan_engine(**store, {}, nullptr));
}

}  // namespace
}  // namespace repute::scan
