#pragma once
// The sandbox source: realistic reputations generated from the account id, so integrators can make both
// events happen on demand.
#include <cstdint>
#include <optional>

#include "core/account.hpp"
#include "core/reputation.hpp"

namespace repute::scan {

// What the sandbox reports for scan number scan_index (0: the initial scan) of account. The first scan's
// values depend only on the account id and employer; each later scan changes one thing with the source's
// change_probability, decided by (account id, scan_index), starting from previous.
core::ScanResult sandbox_scan(const core::Account& account, std::int64_t scan_index,
                              const std::optional<core::ScanResult>& previous);

// Whether scan number scan_index (0: the initial scan, which is never a change) would change what the account's
// previous scan reported: when it would not, sandbox_scan returns previous as it is, so the scan can be recorded
// without reading the reputation.
bool sandbox_scan_changes(const core::Account& account, std::int64_t scan_index);

}  // namespace repute::scan
