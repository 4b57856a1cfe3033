#pragma once
// Applying a finished scan to its account: the reputation, its event, the connection state, the next scan.
#include <functional>
#include <optional>
#include <string>

#include "core/account.hpp"
#include "core/reputation.hpp"
#include "scan/outbox.hpp"
#include "store/store.hpp"

namespace repute::scan {

// What a scan read: the content, or why it failed.
struct ScanOutcome {
  std::optional<core::ScanResult> result;
  std::string error_code;     // set when result is absent, e.g. "source_http_status"
  std::string error_message;  // for people
};

// Produces the outcome inside the transaction, from the account and its current reputation (if any).
using ReadSource = std::function<ScanOutcome(const core::Account&, const std::optional<core::Reputation>&)>;

// What applying a scan did.
struct Applied {
  bool account_found = false;
  std::optional<core::Event> event;  // reputations.added or reputations.updated, when one was emitted
};

// Applies one scan of account_id (re-read inside tx, so a deleted account is skipped): creates the reputation
// on the first result (reputations.added), updates it when the content differs (reputations.updated), emits
// nothing otherwise; records the connection state; schedules the next periodic scan at
// now + refresh_frequency × (1 + jitter), jitter in [-1, 1] × the engine's jitter fraction, unless the
// account's source is push or its ongoing refresh is disabled.
core::Result<Applied> apply_scan(store::WriteTx& tx, const std::string& tenant_id, const std::string& account_id,
                                 const ReadSource& read_source, core::Micros now, double jitter);

// Records a finished scan of an account already read inside tx that is known to bring nothing new (the sandbox
// can tell without the reputation): connected, scanned now, next scan scheduled as apply_scan does; no reputation
// is read or written and nothing is emitted.
core::Status record_unchanged_scan(store::WriteTx& tx, core::Account& account, core::Micros now, double jitter);

// The same for an account already read inside tx (as find_due_scans gives it); its scan columns are written
// back by seq, and events fan out to the subscriptions cached in subscribers.
core::Result<Applied> apply_scan_to(store::WriteTx& tx, core::Account& account, const ReadSource& read_source,
                                    core::Micros now, double jitter, Subscribers& subscribers);

}  // namespace repute::scan
