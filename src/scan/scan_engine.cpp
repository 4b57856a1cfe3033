#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "core/events.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "scan/apply_scan.hpp"
#include "scan/sandbox_source.hpp"
#include "scan/scan.hpp"
#include "scan/scan_result_json.hpp"

namespace repute::scan {
namespace {

constexpr const char* kScansMetric = "repute_scans_total";
// Units of work of due scans queued at the store's writer at once.
constexpr int kBatchesAhead = 4;

// The outcome of reading an http source's answer.
ScanOutcome http_outcome(const FetchResult& fetched, std::size_t max_bytes) {
  ScanOutcome outcome;
  if (!fetched.status) {
    outcome.error_code = "source_unreachable";
    outcome.error_message = "the source could not be read: " + fetched.error;
  } else if (*fetched.status < 200 || *fetched.status > 299) {
    outcome.error_code = "source_http_status";
    outcome.error_message = "the source answered HTTP " + std::to_string(*fetched.status);
  } else if (fetched.truncated || fetched.body.size() > max_bytes) {
    outcome.error_code = "source_too_large";
    outcome.error_message = "the source's answer is larger than " + std::to_string(max_bytes) + " bytes";
  } else if (!fetched.error.empty()) {
    // A status line arrived but the body did not, whole: a partial answer is no answer.
    outcome.error_code = "source_unreachable";
    outcome.error_message = "the source's answer did not arrive whole: " + fetched.error;
  } else {
    core::FieldErrors errors;
    outcome.result = parse_scan_result(fetched.body, errors);
    if (!outcome.result) {
      outcome.error_code = "source_malformed";
      std::string message;
      for (const auto& [field, problems] : errors) {
        for (const auto& problem : problems)
          message += (message.empty() ? "" : "; ") + (field == "detail" ? problem : field + ": " + problem);
      }
      outcome.error_message = "the source's answer is not a valid scan result: " + message;
    }
  }
  return outcome;
}

// A sandbox account's scan: deterministic values from the account, changed on some periodic scans.
ScanOutcome read_sandbox(const core::Account& account, const std::optional<core::Reputation>& existing) {
  ScanOutcome outcome;
  outcome.result =
      sandbox_scan(account, account.scan_count, existing ? std::optional(existing->content) : std::nullopt);
  return outcome;
}

// The outcome label of repute_scans_total for an applied scan.
std::string outcome_label(const Applied& applied) {
  if (!applied.event) return "unchanged";
  return applied.event->type == core::kReputationsAdded ? "added" : "updated";
}

class Engine final : public ScanEngine {
 public:
  Engine(store::Store& store, ScanOptions options, Fetch fetch, const core::Clock& clock)
      : store_(store), options_(options), fetch_(std::move(fetch)), clock_(clock), random_(std::random_device{}()) {
    obs::metrics().describe_counter(kScansMetric, "Scans finished, by source and outcome");
    thread_ = std::thread([this] { run(); });
  }
  ~Engine() override { stop(); }

  void wake() override {
    std::lock_guard lock(mutex_);
    woken_ = true;
    wake_.notify_one();
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      wake_.notify_all();
    }
    thread_.join();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::seconds(15), [this] { return in_progress_ == 0; });
    // Fetches still running are about to be cut off by the HTTP client's stop: such an ending is no answer from
    // the source, so it is not applied; the account's lease runs out and it is scanned again after the restart.
    abandoning_ = true;
  }

 private:
  void run() {
    while (true) {
      {
        std::unique_lock lock(mutex_);
        if (stopping_) return;
      }
      const bool full_batch = claim_and_start();
      if (full_batch) continue;
      sleep_until_due();
    }
  }

  // Waits until the next scan is due, a wake, or the idle poll, whichever comes first.
  void sleep_until_due() {
    bool waiting_for_fetch_slot;
    {
      std::lock_guard lock(mutex_);
      waiting_for_fetch_slot = !pending_fetches_.empty();
    }
    core::Micros wait = options_.idle_poll;
    // While claimed http scans wait for a fetch slot, due work is already in hand: only a finished fetch
    // (which wakes us) or the idle poll is worth waking for.
    if (!waiting_for_fetch_slot) {
      const core::Micros now = clock_.now();
      if (auto due = store_.next_scan_due(); due && *due) wait = std::clamp<core::Micros>(**due - now, 0, wait);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::microseconds(wait), [this] { return woken_ || stopping_; });
    woken_ = false;
  }

  // What one unit of work of due scans did.
  struct Batch {
    int claimed = 0;
    std::vector<std::pair<const char*, std::string>> counted;  // (source, outcome) of each scan applied
    std::vector<core::Account> to_fetch;                       // http accounts, leased, to be read outside the store
  };

  // Claims due scans and starts them; true when the last claim was full (more may be due at once).
  bool claim_and_start() {
    if (waiting_for_fetch_slots()) return false;
    if (one_by_one_) {
      one_by_one_ = false;
      return claim_each();
    }
    // Several units of work wait at the writer at once, so that it has the next ones in hand while it commits
    // (they share its commits). Units run in order on the writer, each seeing what the ones before it wrote, so
    // none takes a scan another applied. Claiming stops at the first unit that was not full. After a round that
    // leased http scans, one unit at a time: more would only lease scans that wait for a fetch slot.
    std::deque<std::future<core::Result<Batch>>> queued;
    const int ahead = leased_fetches_ ? 1 : kBatchesAhead;
    leased_fetches_ = false;
    for (int i = 0; i < ahead; ++i) queued.push_back(queue_batch());
    bool full = true;
    while (!queued.empty()) {
      const bool this_full = finish_batch(queued.front().get());
      queued.pop_front();
      full = full && this_full;
      if (full && !stopping() && !waiting_for_fetch_slots()) queued.push_back(queue_batch());
    }
    return full && !stopping();
  }

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Claimed http scans wait for a fetch slot: claiming more would only make them wait longer.
  bool waiting_for_fetch_slots() {
    std::lock_guard lock(mutex_);
    return !pending_fetches_.empty();
  }

  // Queues one unit of work that takes up to claim_batch due scans and does at once what can be done in the
  // store: sandbox scans are read and applied (events and deliveries included), due push accounts have their
  // schedule cleared, http accounts are leased for their fetch. No lease is written for what is applied: the
  // new schedule commits with the scan, or nothing does.
  std::future<core::Result<Batch>> queue_batch() {
    const core::Micros now = clock_.now();
    std::vector<double> jitters(static_cast<std::size_t>(options_.claim_batch));
    {
      std::lock_guard lock(mutex_);
      for (double& jitter : jitters)
        jitter = options_.jitter * std::uniform_real_distribution<double>(-1.0, 1.0)(random_);
    }
    auto promise = std::make_shared<std::promise<core::Result<Batch>>>();
    auto batch = std::make_shared<Batch>();
    auto future = promise->get_future();
    store_.write(
        [this, now, jitters = std::move(jitters), batch](store::WriteTx& tx) -> core::Status {
          *batch = {};
          auto due = tx.find_due_scans(now, options_.claim_batch);
          if (!due) return due.error();
          batch->claimed = static_cast<int>(due->size());
          Subscribers subscribers;
          for (std::size_t i = 0; i < due->size(); ++i) {
            core::Account& account = (*due)[i];
            switch (account.source.type) {
              case core::Source::Type::kSandbox: {
                // After its first scan a sandbox account has a reputation (its source cannot be changed, and a
                // sandbox scan never fails), and the sandbox says without reading it whether this scan changes it:
                // most periodic scans are recorded without that read.
                if (account.scan_count > 0 && !sandbox_scan_changes(account, account.scan_count)) {
                  if (auto recorded = record_unchanged_scan(tx, account, now, jitters[i]); !recorded) return recorded;
                  batch->counted.emplace_back("sandbox", "unchanged");
                  break;
                }
                auto applied = apply_scan_to(tx, account, read_sandbox, now, jitters[i], subscribers);
                if (!applied) return applied.error();
                batch->counted.emplace_back("sandbox", outcome_label(*applied));
                break;
              }
              case core::Source::Type::kPush:
                if (auto cleared = clear_push_schedule(tx, account); !cleared) return cleared;
                batch->counted.emplace_back("push", "ok");
                break;
              case core::Source::Type::kHttp:
                if (auto leased = tx.lease_scan(account, now + options_.lease); !leased) return leased;
                account.next_scan_at = now + options_.lease;
                batch->to_fetch.push_back(std::move(account));
                break;
            }
          }
          return core::ok_status();
        },
        [promise, batch](core::Status status) {
          if (status) {
            promise->set_value(std::move(*batch));
          } else {
            promise->set_value(status.error());
          }
        });
    return future;
  }

  // Counts a committed batch's scans and starts its fetches; true when it was full.
  bool finish_batch(core::Result<Batch> batch) {
    if (!batch) {
      // Nothing of it was written. The next round takes due scans one unit of work each, so that one scan that
      // cannot be applied holds up only itself.
      obs::log_warn("cannot apply a batch of due scans; trying them one by one", {{"error", batch.error().message}});
      one_by_one_ = true;
      return false;
    }
    for (const auto& [source, outcome] : batch->counted) {
      obs::metrics().add(kScansMetric, {{"source", source}, {"outcome", outcome}});
    }
    leased_fetches_ = leased_fetches_ || !batch->to_fetch.empty();
    for (core::Account& account : batch->to_fetch) start(std::move(account));
    return batch->claimed == options_.claim_batch;
  }

  // Claims due scans with a lease each and applies every scan in its own unit of work.
  bool claim_each() {
    const core::Micros now = clock_.now();
    std::vector<core::Account> claimed;
    auto status = store_.write_and_wait([&](store::WriteTx& tx) -> core::Status {
      auto due = tx.claim_due_scans(now, now + options_.lease, options_.claim_batch);
      if (!due) return due.error();
      claimed = std::move(*due);
      return core::ok_status();
    });
    if (!status) {
      obs::log_warn("cannot claim due scans", {{"error", status.error().message}});
      return false;
    }
    for (core::Account& account : claimed) start(std::move(account));
    return static_cast<int>(claimed.size()) == options_.claim_batch;
  }

  void start(core::Account account) {
    switch (account.source.type) {
      case core::Source::Type::kHttp: {
        std::lock_guard lock(mutex_);
        pending_fetches_.push_back(std::move(account));
        break;
      }
      case core::Source::Type::kSandbox:
        apply(account, read_sandbox);
        return;
      case core::Source::Type::kPush:
        // Pushed results arrive through the API; a due push account only has its schedule cleared.
        apply(account, nullptr);
        return;
    }
    start_fetches();
  }

  // Starts queued http fetches while there are free slots.
  void start_fetches() {
    while (true) {
      core::Account account;
      {
        std::lock_guard lock(mutex_);
        if (stopping_ || pending_fetches_.empty() || fetches_in_flight_ >= options_.max_concurrent_fetches) return;
        account = std::move(pending_fetches_.front());
        pending_fetches_.pop_front();
        // A fetch starts only while half its lease is left: one that waited longer for a slot is dropped, and
        // claimed again once its lease runs out, so that no account is ever fetched twice at once.
        if (clock_.now() > account.next_scan_at.value_or(0) - options_.lease / 2) {
          obs::log_debug("scan dropped: its lease ran low while it waited for a fetch slot", {{"account", account.id}});
          continue;
        }
        ++fetches_in_flight_;
        ++in_progress_;
      }
      const std::string url = account.source.url.value_or("");
      fetch_(url, [this, account = std::move(account)](FetchResult fetched) {
        bool abandoned;
        {
          std::lock_guard lock(mutex_);
          abandoned = abandoning_ && !fetched.status;
        }
        if (!abandoned) {
          ScanOutcome outcome = http_outcome(fetched, options_.max_source_bytes);
          apply(account, [outcome](const core::Account&, const std::optional<core::Reputation>&) { return outcome; });
        }
        {
          std::lock_guard lock(mutex_);
          --fetches_in_flight_;
        }
        start_fetches();
        // The last touch of the engine, under its lock: stop() cannot see in_progress_ reach zero (and let
        // the engine be destroyed) before this callback is done with it.
        std::lock_guard lock(mutex_);
        --in_progress_;
        woken_ = true;
        wake_.notify_all();
      });
    }
  }

  // Queues the unit of work that applies one scan; read_source null means "nothing was read".
  void apply(const core::Account& account, ReadSource read_source) {
    const core::Micros now = clock_.now();
    double jitter;
    {
      std::lock_guard lock(mutex_);
      jitter = options_.jitter * std::uniform_real_distribution<double>(-1.0, 1.0)(random_);
      ++in_progress_;
    }
    const std::string source = core::to_string(account.source.type);
    auto label = std::make_shared<std::string>("ok");
    store_.write(
        [this, tenant = account.tenant_id, id = account.id, read_source = std::move(read_source), now, jitter,
         label](store::WriteTx& tx) -> core::Status {
          if (!read_source) {
            return apply_push_schedule(tx, tenant, id);
          }
          auto applied = apply_scan(tx, tenant, id, read_source, now, jitter);
          if (!applied) return applied.error();
          *label = outcome_label(*applied);
          return core::ok_status();
        },
        [this, source, label, id = account.id](core::Status status) {
          if (!status) {
            obs::log_warn("scan not applied; it is retried when its lease runs out",
                          {{"account", id}, {"error", status.error().message}});
            *label = "error";
          }
          obs::metrics().add(kScansMetric, {{"source", source}, {"outcome", *label}});
          std::lock_guard lock(mutex_);
          --in_progress_;
          wake_.notify_all();
        });
  }

  static core::Status apply_push_schedule(store::WriteTx& tx, const std::string& tenant, const std::string& id) {
    auto found = tx.find_account(tenant, id);
    if (!found) return found.error();
    if (!*found) return core::ok_status();
    return clear_push_schedule(tx, **found);
  }

  // Pushed results arrive through the API; a due push account only has its schedule cleared.
  static core::Status clear_push_schedule(store::WriteTx& tx, core::Account& account) {
    account.next_scan_at.reset();
    return tx.record_scan(account);
  }

  store::Store& store_;
  ScanOptions options_;
  Fetch fetch_;
  const core::Clock& clock_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  int in_progress_ = 0;
  int fetches_in_flight_ = 0;
  // Engine thread only: the last batch failed (the next round applies scans one unit of work each); the last round
  // leased http scans (the next one queues a single unit).
  bool one_by_one_ = false;
  bool leased_fetches_ = false;
  bool abandoning_ = false;  // stop() gave up waiting: fetches cut off from now on are not applied
  std::deque<core::Account> pending_fetches_;
  std::mt19937_64 random_;
  std::thread thread_;
};

}  // namespace

core::Result<std::unique_ptr<ScanEngine>> start_scan_engine(store::Store& store, ScanOptions options, Fetch fetch,
                                                            const core::Clock& clock) {
  if (options.claim_batch < 1 || options.max_concurrent_fetches < 1) {
    return core::invalid("scan options: claim_batch and max_concurrent_fetches must be at least 1");
  }
  if (!fetch) return core::invalid("scan options: no way to fetch http sources");
  return std::unique_ptr<ScanEngine>(new Engine(store, options, std::move(fetch), clock));
}

}  // namespace repute::scan
