#pragma once
// Reading and checking an account's fields from a request body (POST and PATCH).
#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "core/account.hpp"
#include "core/address_policy.hpp"
#include "core/field_errors.hpp"

namespace repute::api {

inline constexpr std::int64_t kMinRefreshSeconds = 1;
inline constexpr std::int64_t kMaxRefreshSeconds = 30LL * 24 * 3600;

// The fields a request sets; absent ones keep their value (or default, when creating).
struct AccountChanges {
  std::optional<std::string> user_id;
  std::optional<std::string> employer;
  std::optional<core::Source> source;
  std::optional<std::int64_t> refresh_frequency;
  std::optional<bool> ongoing_refresh;
};

// Checks body; creating requires user and employer, while PATCH may only change ongoing_refresh and
// refresh_frequency. Problems go to errors, keyed by field.
AccountChanges read_account_changes(const boost::json::object& body, bool creating, const core::AddressPolicy& policy,
                                    core::FieldErrors& errors);

// Applies changes as of now and reschedules: a newly enabled refresh or a new frequency counts from the last
// scan; a disabled refresh (or a push source) has no scheduled scan.
void apply_account_changes(core::Account& account, const AccountChanges& changes, core::Micros now);

}  // namespace repute::api
