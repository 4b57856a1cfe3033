#include "api/account_input.hpp"

#include "core/http_url.hpp"
#include "core/ids.hpp"
#include "core/utf8.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxEmployer = 255;

std::optional<core::Source> read_source(const json::value& value, const core::AddressPolicy& policy,
                                        core::FieldErrors& errors) {
  if (!value.is_object()) {
    errors["source"].push_back("Expected a dictionary of items.");
    return std::nullopt;
  }
  const json::object& object = value.as_object();
  core::Source source;
  auto& problems = errors["source"];
  const std::size_t before = problems.size();
  const json::value* type = object.if_contains("type");
  if (!type || !type->is_string() || !core::parse_source_type(type->as_string())) {
    problems.push_back("type must be one of \"sandbox\", \"http\", \"push\".");
  } else {
    source.type = *core::parse_source_type(type->as_string());
  }
  for (const auto& [key, item] : object) {
    if (key == "type") continue;
    if (key == "url" && source.type == core::Source::Type::kHttp) {
      if (!item.is_string()) {
        problems.push_back("url: Not a valid string.");
        continue;
      }
      auto url = core::parse_http_url(item.as_string());
      if (!url) {
        problems.push_back("url: " + url.error().message);
      } else if (auto allowed = policy.check_host(url->host); !allowed) {
        problems.push_back("url: This URL is not allowed: " + allowed.error().message + ".");
      } else {
        source.url = std::string(item.as_string());
      }
    } else if (key == "change_probability" && source.type == core::Source::Type::kSandbox) {
      if (!item.is_number() || item.to_number<double>() < 0 || item.to_number<double>() > 1) {
        problems.push_back("change_probability: Ensure this value is a number between 0 and 1.");
      } else {
        source.change_probability = item.to_number<double>();
      }
    } else {
      problems.push_back("Unknown key \"" + std::string(key) + "\" for this source type.");
    }
  }
  if (source.type == core::Source::Type::kHttp && !object.contains("url")) problems.push_back("url: This field is required.");
  if (problems.size() > before) return std::nullopt;
  if (problems.empty()) errors.erase("source");
  return source;
}

std::optional<bool> read_ongoing_refresh(const json::value& value, core::FieldErrors& errors) {
  const json::value* status = &value;
  if (value.is_object()) {
    status = value.as_object().if_contains("status");
    if (!status || value.as_object().size() != 1) status = nullptr;
  }
  if (status && status->is_string()) {
    if (status->as_string() == "enabled") return true;
    if (status->as_string() == "disabled") return false;
  }
  errors["ongoing_refresh"].push_back("Must be \"enabled\" or \"disabled\" (or {\"status\": ...}).");
  return std::nullopt;
}

}  // namespace

AccountChanges read_account_changes(const json::object& body, bool creating, const core::AddressPolicy& policy,
                                    core::FieldErrors& errors) {
  AccountChanges changes;
  for (const auto& [key, value] : body) {
    if (key == "user" && creating) {
      if (!value.is_string() || !core::is_uuid(value.as_string())) {
        errors["user"].push_back("Must be a valid UUID.");
      } else {
        std::string id(value.as_string());
        for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        changes.user_id = id;
      }
    } else if (key == "employer" && creating) {
      if (!value.is_string()) errors["employer"].push_back("Not a valid string.");
      else if (value.as_string().find_first_not_of(" \t\r\n") == json::string::npos) {
        errors["employer"].push_back("This field may not be blank.");
      } else if (core::utf8_length(value.as_string()) > kMaxEmployer) {
        errors["employer"].push_back("Ensure this field has no more than 255 characters.");
      } else {
        changes.employer = std::string(value.as_string());
      }
    } else if (key == "source" && creating) {
      changes.source = read_source(value, policy, errors);
    } else if (key == "refresh_frequency") {
      if (!value.is_int64() || value.as_int64() < kMinRefreshSeconds || value.as_int64() > kMaxRefreshSeconds) {
        errors["refresh_frequency"].push_back("Ensure this value is an integer number of seconds between " +
                                              std::to_string(kMinRefreshSeconds) + " and " +
                                              std::to_string(kMaxRefreshSeconds) + ".");
      } else {
        changes.refresh_frequency = value.as_int64();
      }
    } else if (key == "ongoing_refresh") {
      changes.ongoing_refresh = read_ongoing_refresh(value, errors);
    } else {
      errors[std::string(key)].push_back(creating || (key != "user" && key != "employer" && key != "source")
                                             ? "Unknown field."
                                             : "This field cannot be changed.");
    }
  }
  if (creating) {
    for (const char* field : {"user", "employer"}) {
      if (!body.contains(field)) errors[field].push_back("This field is required.");
    }
  }
  return changes;
}

void apply_account_changes(core::Account& account, const AccountChanges& changes, core::Micros now) {
  if (changes.user_id) account.user_id = *changes.user_id;
  if (changes.employer) account.employer = *changes.employer;
  if (changes.source) account.source = *changes.source;
  const bool reschedule = changes.refresh_frequency || changes.ongoing_refresh;
  if (changes.refresh_frequency) account.refresh_frequency = *changes.refresh_frequency;
  if (changes.ongoing_refresh) account.ongoing_refresh = *changes.ongoing_refresh;
  // Before the first scan the initial scan stays scheduled; after it, the next periodic scan follows the rules.
  if (reschedule && account.scanned_at) {
    if (!account.ongoing_refresh || account.source.type == core::Source::Type::kPush) {
      account.next_scan_at.reset();
    } else {
      account.next_scan_at = std::max(now, *account.scanned_at + account.refresh_frequency * core::kMicrosPerSecond);
    }
  }
  account.updated_at = now;
}

}  // namespace repute::api
