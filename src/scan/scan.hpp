#pragma once
// scan: finds reputations. The engine runs each account's initial scan at once and its periodic scans on
// schedule (found through the store's index on next_scan_at), reads the account's source, and applies
// the result: a new or changed reputation is written with its event and deliveries in one transaction.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"
#include "store/store.hpp"

namespace repute::scan {

// What an http source answered: a status and a body, or an error (timeout, refused, too large...).
struct FetchResult {
  std::optional<int> status;
  std::string body;
  std::string error;  // empty unless the request failed before a status line
  bool truncated = false;
};

// GETs url and calls back once with the answer; the engine stays free of any HTTP library.
using Fetch = std::function<void(const std::string& url, std::function<void(FetchResult)> done)>;

// Scheduling knobs.
struct ScanOptions {
  int claim_batch = 512;                             // most scans claimed (and applied) in one unit of work
  int max_concurrent_fetches = 64;                   // http sources read at once
  core::Micros lease = 60 * core::kMicrosPerSecond;  // an http scan is ours this long (queued, fetching)
  core::Micros idle_poll = core::kMicrosPerSecond;   // the longest sleep between looks at the schedule
  double jitter = 0.1;                               // ±10 % on each refresh period
  std::size_t max_source_bytes = 256 * 1024;         // larger http source answers fail the scan
};

// The running scheduler.
class ScanEngine {
 public:
  virtual ~ScanEngine() = default;
  // Looks at the schedule now (a commit made scans due).
  virtual void wake() = 0;
  // Stops claiming and waits for scans in progress.
  virtual void stop() = 0;
};

// Starts the scheduler. fetch reads http sources; store must outlive the engine.
core::Result<std::unique_ptr<ScanEngine>> start_scan_engine(store::Store& store, ScanOptions options, Fetch fetch,
                                                            const core::Clock& clock = core::system_clock());

}  // namespace repute::scan
