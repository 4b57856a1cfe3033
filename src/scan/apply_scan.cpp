#include "scan/apply_scan.hpp"

#include <cmath>

#include "core/events.hpp"
#include "core/ids.hpp"
#include "scan/outbox.hpp"

namespace repute::scan {
namespace {

std::optional<core::Micros> next_scan_time(const core::Account& account, core::Micros now, double jitter) {
  if (account.source.type == core::Source::Type::kPush || !account.ongoing_refresh) return std::nullopt;
  const double period = static_cast<double>(account.refresh_frequency) * core::kMicrosPerSecond * (1.0 + jitter);
  return now + std::max<core::Micros>(core::kMicrosPerSecond / 10, static_cast<core::Micros>(std::llround(period)));
}

void set_connection(core::Account& account, const char* status, const ScanOutcome& outcome, core::Micros now) {
  const bool changed = account.connection_status != status ||
                       account.connection_error_code.value_or("") != outcome.error_code ||
                       account.connection_error_message.value_or("") != outcome.error_message;
  account.connection_status = status;
  account.connection_error_code = outcome.error_code.empty() ? std::nullopt : std::optional(outcome.error_code);
  account.connection_error_message =
      outcome.error_message.empty() ? std::nullopt : std::optional(outcome.error_message);
  if (changed) account.connection_updated_at = now;
}

// Writes what every finished scan changes in its account: scanned now, one more scan, the next one scheduled.
core::Status record_finished(store::WriteTx& tx, core::Account& account, core::Micros now, double jitter) {
  account.scanned_at = now;
  account.scan_count += 1;
  account.next_scan_at = next_scan_time(account, now, jitter);
  account.updated_at = now;
  return tx.record_scan(account);
}

}  // namespace

core::Result<Applied> apply_scan(store::WriteTx& tx, const std::string& tenant_id, const std::string& account_id,
                                 const ReadSource& read_source, core::Micros now, double jitter) {
  auto found = tx.find_account(tenant_id, account_id);
  if (!found) return found.error();
  if (!*found) return Applied{};
  Subscribers subscribers;
  return apply_scan_to(tx, **found, read_source, now, jitter, subscribers);
}

core::Result<Applied> apply_scan_to(store::WriteTx& tx, core::Account& account, const ReadSource& read_source,
                                    core::Micros now, double jitter, Subscribers& subscribers) {
  Applied applied;
  applied.account_found = true;
  auto existing = tx.find_reputation_by_account(account.id);
  if (!existing) return existing.error();

  const ScanOutcome outcome = read_source(account, *existing);
  if (outcome.result) {
    if (!*existing) {
      core::Reputation reputation{core::new_uuid(), account.tenant_id, account.id, account.user_id,
                                  account.employer, *outcome.result,   now,        now};
      if (auto inserted = tx.insert_reputation(reputation); !inserted) return inserted.error();
      auto event = emit_event(tx, core::kReputationsAdded, reputation, now, subscribers);
      if (!event) return event.error();
      applied.event = std::move(*event);
    } else if ((*existing)->content != *outcome.result) {
      core::Reputation reputation = std::move(**existing);
      reputation.content = *outcome.result;
      reputation.updated_at = now;
      if (auto updated = tx.update_reputation(reputation); !updated) return updated.error();
      auto event = emit_event(tx, core::kReputationsUpdated, reputation, now, subscribers);
      if (!event) return event.error();
      applied.event = std::move(*event);
    }
    set_connection(account, core::kConnected, outcome, now);
  } else {
    set_connection(account, core::kConnectionError, outcome, now);
  }
  if (auto recorded = record_finished(tx, account, now, jitter); !recorded) return recorded.error();
  return applied;
}

core::Status record_unchanged_scan(store::WriteTx& tx, core::Account& account, core::Micros now, double jitter) {
  set_connection(account, core::kConnected, ScanOutcome{}, now);
  return record_finished(tx, account, now, jitter);
}

}  // namespace repute::scan
