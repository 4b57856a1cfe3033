// Request bodies: strict JSON, the JSON-object check of every POST/PATCH, and the webhook and account validators
// over the parsed object, in both create and update mode, under a strict and a --dev address policy.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

#include "api/account_input.hpp"
#include "api/json_body.hpp"
#include "api/responses.hpp"
#include "api/webhook_input.hpp"
#include "core/http_url.hpp"
#include "core/ids.hpp"
#include "core/strict_json.hpp"

namespace {

namespace json = boost::json;
using namespace repute;

// A broken invariant: report it and abort, so libFuzzer keeps the input.
void check(bool holds, const char* what, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// What a client reads: any answer the server sends must be a JSON object (valid UTF-8, so strictly parsed).
void check_json_answer(const api::HttpResponse& response, int status_low, int status_high) {
  check(response.status >= status_low && response.status <= status_high, "answer status out of range",
        std::to_string(response.status));
  check(response.content_type == "application/json", "answer is not JSON", response.content_type);
  auto parsed = core::parse_strict_json(response.body);
  check(parsed.ok() && parsed->is_object(), "answer body is not a JSON object", response.body);
}

std::string serialized(const json::value& value) { return json::serialize(value); }

// True when every number in value is finite: Infinity and NaN have no JSON spelling, so they cannot be written back.
bool all_finite(const json::value& value) {
  if (value.is_double()) return std::isfinite(value.get_double());
  if (value.is_array()) {
    for (const json::value& item : value.get_array()) {
      if (!all_finite(item)) return false;
    }
  }
  if (value.is_object()) {
    for (const auto& [key, item] : value.get_object()) {
      if (!all_finite(item)) return false;
    }
  }
  return true;
}

// Equal, except that doubles may differ in their last bits: Boost.JSON 1.81 does not round every long mantissa
// correctly when it parses, so a double written out can read back an ulp away.
bool nearly_equal(const json::value& a, const json::value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y ||
           std::fabs(x - y) <= 4 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.is_array()) {
    const json::array& left = a.get_array();
    const json::array& right = b.get_array();
    if (left.size() != right.size()) return false;
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (!nearly_equal(left[i], right[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const json::object& left = a.get_object();
    const json::object& right = b.get_object();
    if (left.size() != right.size()) return false;
    for (const auto& [key, item] : left) {
      const json::value* other = right.if_contains(key);
      if (other == nullptr || !nearly_equal(item, *other)) return false;
    }
    return true;
  }
  return a == b;
}

void check_strict_json(std::string_view text) {
  auto strict = core::parse_strict_json(text);
  json::error_code ec;
  json::parse_options options;
  options.max_depth = core::kMaxJsonDepth;
  const json::value lenient = json::parse(text, ec, {}, options);
  if (!strict) {
    // Strict refuses only what the lenient parser refuses, a repeated key, or a number with no finite value.
    check(ec || strict.error().message.starts_with("duplicate key") ||
              (strict.error().message == "a number is out of range" && !all_finite(lenient)),
          "strict parse refused valid JSON", strict.error().message);
    return;
  }
  check(!ec, "strict parse accepted what boost::json refuses");
  check(all_finite(*strict), "strict parse accepted a number that is not finite (it cannot be written back)", text);
  check(*strict == lenient, "strict and lenient parses differ");
  // What we parsed we can write, and read back to the same value.
  const std::string text_again = serialized(*strict);
  auto again = core::parse_strict_json(text_again);
  check(again.ok(), "serialized JSON does not parse again", text_again);
  check(nearly_equal(*again, *strict), "JSON round trip changed the value", text_again);
}

void check_webhook_changes(const json::object& body, bool creating, const core::AddressPolicy& policy) {
  api::FieldErrors errors;
  const api::WebhookChanges changes = api::read_webhook_changes(body, creating, policy, errors);
  if (!errors.empty()) {
    check_json_answer(api::field_errors_response(errors), 400, 400);
    for (const auto& [field, messages] : errors) {
      check(!messages.empty(), "a field error without a message", field);
      const bool named = body.contains(field) || field == "events" || field == "name" || field == "url";
      check(named, "an error for a field the body does not have", field);
    }
    return;
  }
  if (creating) check(changes.events && changes.name && changes.url, "created without a required field");
  if (changes.events) check(!changes.events->empty(), "accepted an empty event list");
  if (changes.name) {
    check(changes.name->size() <= api::kMaxNameLength, "accepted a name that is too long");
    check(changes.name->find_first_not_of(" \t\r\n") != std::string::npos, "accepted a blank name");
  }
  if (changes.url) {
    auto url = core::parse_http_url(*changes.url);
    check(url.ok(), "accepted a URL that does not parse", *changes.url);
    check(url->scheme == "http" || url->scheme == "https", "accepted a URL that is not http(s)", *changes.url);
    check(policy.check_host(url->host).ok(), "accepted a URL the address policy refuses", *changes.url);
  }
  if (changes.secret && *changes.secret) {
    check(!(*changes.secret)->empty() && (*changes.secret)->size() <= api::kMaxSecretLength, "bad secret accepted");
  }
  // The accepted subscription renders as valid JSON.
  core::Webhook webhook;
  api::apply_webhook_changes(webhook, changes, 0);
  check_json_answer(api::json_response(201, api::webhook_json(webhook)), 201, 201);
}

void check_account_changes(const json::object& body, bool creating, const core::AddressPolicy& policy) {
  core::FieldErrors errors;
  const api::AccountChanges changes = api::read_account_changes(body, creating, policy, errors);
  if (!errors.empty()) {
    check_json_answer(api::field_errors_response(errors), 400, 400);
    for (const auto& [field, messages] : errors) check(!messages.empty(), "a field error without a message", field);
    return;
  }
  if (creating) check(changes.user_id && changes.employer, "created without a required field");
  if (!creating) check(!changes.user_id && !changes.employer && !changes.source, "PATCH changed a fixed field");
  if (changes.user_id) {
    check(core::is_uuid(*changes.user_id), "accepted a user that is not a UUID", *changes.user_id);
    for (char c : *changes.user_id) check(!(c >= 'A' && c <= 'Z'), "user id not lowercased", *changes.user_id);
  }
  if (changes.refresh_frequency) {
    check(
        *changes.refresh_frequency >= api::kMinRefreshSeconds && *changes.refresh_frequency <= api::kMaxRefreshSeconds,
        "refresh_frequency out of range");
  }
  if (changes.source) {
    const core::Source& source = *changes.source;
    check(source.change_probability >= 0 && source.change_probability <= 1, "change_probability out of range");
    if (source.type == core::Source::Type::kHttp) {
      check(source.url.has_value(), "http source without a URL");
      auto url = core::parse_http_url(*source.url);
      check(url.ok() && policy.check_host(url->host).ok(), "http source URL the policy refuses", *source.url);
    } else {
      check(!source.url.has_value(), "a URL on a source that is not http");
    }
  }
  core::Account account;
  api::apply_account_changes(account, changes, 0);
}

void check_request_body(std::string_view text, const std::string& content_type) {
  api::HttpRequest request;
  request.method = "POST";
  request.content_type = content_type;
  request.body = std::string(text);
  auto parsed = api::parse_json_object(request);
  if (auto* refused = std::get_if<api::HttpResponse>(&parsed)) {
    check_json_answer(*refused, 400, 415);
    return;
  }
  const json::object& body = std::get<json::object>(parsed);
  const core::AddressPolicy strict;
  const core::AddressPolicy dev({}, true);
  for (const core::AddressPolicy* policy : {&strict, &dev}) {
    for (bool creating : {true, false}) {
      check_webhook_changes(body, creating, *policy);
      check_account_changes(body, creating, *policy);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_strict_json(text);
  check_request_body(text, "application/json");
  // The same bytes as a Content-Type header, over a body that is fine: 415 or read as JSON, never a crash. Only
  // bytes an HTTP parser lets into a field value are kept (no control characters but tab; obs-text stays).
  api::HttpRequest typed;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 0x20 && byte != 0x7f) || c == '\t') typed.content_type.push_back(c);
  }
  typed.body = "{}";
  auto typed_answer = api::parse_json_object(typed);
  if (auto* refused = std::get_if<api::HttpResponse>(&typed_answer)) check_json_answer(*refused, 415, 415);
  return 0;
}
