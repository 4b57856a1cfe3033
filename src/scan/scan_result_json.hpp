#pragma once
// Reading a scan result (a push to /v1/accounts/{id}/scans, or an http source's answer) from JSON.
#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "core/field_errors.hpp"
#include "core/reputation.hpp"

namespace repute::scan {

// Checks and normalises a scan result: rating 0-5, acceptance_rate and ontime_rate 0-1 (numbers or decimal
// strings, stored as canonical strings; null or absent means unknown), achievements, metadata (an object).
// Problems go to errors, keyed by field; nullopt when there are any.
std::optional<core::ScanResult> read_scan_result(const boost::json::object& body, core::FieldErrors& errors);

// read_scan_result over raw text (strict JSON); one "detail" line when the text is not a JSON object.
std::optional<core::ScanResult> parse_scan_result(std::string_view text, core::FieldErrors& errors);

}  // namespace repute::scan
