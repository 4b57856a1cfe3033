// Webhook fields from a request body: the message for every way each field can be wrong, creating
// versus patching, and what applying the changes does to a stored subscription.
#include "api/webhook_input.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;
using Messages = std::vector<std::string>;

constexpr core::Micros kCreated = 1'795'773'600'000'000;  // 2026-11-27T10:00:00Z
constexpr core::Micros kLater = kCreated + 90'000'000;

const core::AddressPolicy kStrict;

std::string print(const FieldErrors& errors) {
  std::string out;
  for (const auto& [field, messages] : errors) {
    out += field + ": [";
    for (const auto& message : messages) out += "\"" + message + "\" ";
    out += "] ";
  }
  return out;
}

// A body that creates a valid subscription, with one field replaced (or removed when value is absent).
json::object valid_body() {
  return json::parse(R"({"events":["reputations.added"],"name":"My hook","url":"https://hooks.example.com/in",
                         "secret":"whsec_1","config":{"include_resource":true}})")
      .as_object();
}

struct Read {
  WebhookChanges changes;
  FieldErrors errors;
};

Read read(const json::object& body, bool creating, const core::AddressPolicy& policy = kStrict) {
  Read out;
  out.changes = read_webhook_changes(body, creating, policy, out.errors);
  return out;
}

Read read_text(const std::string& text, bool creating) { return read(json::parse(text).as_object(), creating); }

// The messages for field when body (a JSON object text) is read for a PATCH, which requires nothing.
Messages patch_errors(const std::string& text, const std::string& field) {
  const Read got = read_text(text, false);
  auto found = got.errors.find(field);
  EXPECT_EQ(got.errors.size(), found == got.errors.end() ? 0u : 1u) << "other fields failed too: " << print(got.errors);
  return found == got.errors.end() ? Messages{} : found->second;
}

TEST(ReadWebhookChanges, ReadsAValidCreation) {
  const Read got = read(valid_body(), true);
  EXPECT_TRUE(got.errors.empty()) << print(got.errors);
  EXPECT_EQ(got.changes.events, std::optional<Messages>(Messages{"reputations.added"}));
  EXPECT_EQ(got.changes.name, std::optional<std::string>("My hook"));
  EXPECT_EQ(got.changes.url, std::optional<std::string>("https://hooks.example.com/in"));
  ASSERT_TRUE(got.changes.secret.has_value());
  EXPECT_EQ(*got.changes.secret, std::optional<std::string>("whsec_1"));
  EXPECT_EQ(got.changes.include_resource, std::optional<bool>(true));
  EXPECT_FALSE(got.changes.enabled.has_value());
}

TEST(ReadWebhookChanges, CreatingRequiresEventsNameAndUrl) {
  const Read got = read_text("{}", true);
  EXPECT_EQ(got.errors, (FieldErrors{{"events", {"This field is required."}},
                                     {"name", {"This field is required."}},
                                     {"url", {"This field is required."}}}))
      << print(got.errors);
  for (const char* field : {"events", "name", "url"}) {
    json::object body = valid_body();
    body.erase(field);
    EXPECT_EQ(read(body, true).errors, (FieldErrors{{field, {"This field is required."}}})) << field;
  }
}

TEST(ReadWebhookChanges, CreatingNeedsNoSecretOrConfig) {
  const Read got = read_text(R"({"events":["*"],"name":"n","url":"http://example.com/"})", true);
  EXPECT_TRUE(got.errors.empty()) << print(got.errors);
  EXPECT_FALSE(got.changes.secret.has_value());
  EXPECT_FALSE(got.changes.include_resource.has_value());
}

TEST(ReadWebhookChanges, PatchingRequiresNothingAndChangesNothingUnasked) {
  const Read got = read_text("{}", false);
  EXPECT_TRUE(got.errors.empty()) << print(got.errors);
  EXPECT_FALSE(got.changes.events || got.changes.name || got.changes.url || got.changes.secret ||
               got.changes.include_resource || got.changes.enabled);
}

TEST(ReadWebhookChanges, EnabledIsOnlyForPatching) {
  json::object body = valid_body();
  body["enabled"] = false;
  EXPECT_EQ(read(body, true).errors, (FieldErrors{{"enabled", {"Unknown field."}}}));

  const Read off = read_text(R"({"enabled":false})", false);
  EXPECT_TRUE(off.errors.empty()) << print(off.errors);
  EXPECT_EQ(off.changes.enabled, std::optional<bool>(false));
  EXPECT_EQ(read_text(R"({"enabled":true})", false).changes.enabled, std::optional<bool>(true));

  for (const char* value : {"\"true\"", "1", "0", "null", "[]", "{}"}) {
    EXPECT_EQ(patch_errors(std::string(R"({"enabled":)") + value + "}", "enabled"),
              Messages{"Must be a valid boolean."})
        << value;
  }
}

TEST(ReadWebhookChanges, RefusesUnknownFields) {
  EXPECT_EQ(patch_errors(R"({"colour":"blue"})", "colour"), Messages{"Unknown field."});
  json::object body = valid_body();
  body["id"] = "00000000-0000-4000-8000-000000000000";
  body["created_at"] = "2026-11-27T10:00:00.000000Z";
  EXPECT_EQ(read(body, true).errors, (FieldErrors{{"created_at", {"Unknown field."}}, {"id", {"Unknown field."}}}));
}

TEST(ReadWebhookChanges, ReportsEveryBadFieldAtOnce) {
  const Read got = read_text(R"({"events":[],"name":"","url":"ftp://x","secret":5,"config":[],"extra":1})", true);
  EXPECT_EQ(got.errors, (FieldErrors{{"events", {"This list may not be empty."}},
                                     {"name", {"This field may not be blank."}},
                                     {"url", {"Enter a valid URL: the scheme must be http or https."}},
                                     {"secret", {"Not a valid string."}},
                                     {"config", {"Expected a dictionary of items but got type \"array\"."}},
                                     {"extra", {"Unknown field."}}}))
      << print(got.errors);
}

// ---- events ----

TEST(ReadWebhookChanges, EventsMustBeAList) {
  EXPECT_EQ(patch_errors(R"({"events":"reputations.added"})", "events"),
            Messages{"Expected a list of items but got type \"string\"."});
  EXPECT_EQ(patch_errors(R"({"events":{"a":1}})", "events"),
            Messages{"Expected a list of items but got type \"object\"."});
  EXPECT_EQ(patch_errors(R"({"events":null})", "events"), Messages{"Expected a list of items but got type \"null\"."});
}

TEST(ReadWebhookChanges, EventsMayNotBeEmpty) {
  EXPECT_EQ(patch_errors(R"({"events":[]})", "events"), Messages{"This list may not be empty."});
}

TEST(ReadWebhookChanges, EveryEventMustBeAKnownName) {
  EXPECT_EQ(patch_errors(R"({"events":["reputations.deleted"]})", "events"),
            Messages{"\"reputations.deleted\" is not a valid choice."});
  EXPECT_EQ(patch_errors(R"({"events":[1]})", "events"), Messages{"Each event must be a string."});
  // One message per bad item, in order; good items among them do not hide the bad ones.
  EXPECT_EQ(patch_errors(R"({"events":["reputations.added","x",null,"Reputations.updated"]})", "events"),
            (Messages{"\"x\" is not a valid choice.", "Each event must be a string.",
                      "\"Reputations.updated\" is not a valid choice."}));
  const Read got = read_text(R"({"events":["reputations.added","x"]})", false);
  EXPECT_FALSE(got.changes.events.has_value()) << "a half-valid list was taken";
}

TEST(ReadWebhookChanges, AcceptsEveryEventAndTheStar) {
  EXPECT_EQ(read_text(R"({"events":["*"]})", false).changes.events, std::optional<Messages>(Messages{"*"}));
  EXPECT_EQ(read_text(R"({"events":["reputations.updated","reputations.added"]})", false).changes.events,
            std::optional<Messages>((Messages{"reputations.updated", "reputations.added"})));
}

TEST(ReadWebhookChanges, DropsRepeatedEvents) {
  EXPECT_EQ(read_text(R"({"events":["reputations.added","reputations.added","*","*"]})", false).changes.events,
            std::optional<Messages>((Messages{"reputations.added", "*"})));
}

// ---- name ----

TEST(ReadWebhookChanges, NameMustBeAString) {
  for (const char* value : {"1", "null", "true", "[\"n\"]", "{}"}) {
    EXPECT_EQ(patch_errors(std::string(R"({"name":)") + value + "}", "name"), Messages{"Not a valid string."}) << value;
  }
}

TEST(ReadWebhookChanges, NameMayNotBeBlank) {
  for (const char* value : {"\"\"", "\" \"", "\"\\t\\r\\n  \""}) {
    EXPECT_EQ(patch_errors(std::string(R"({"name":)") + value + "}", "name"), Messages{"This field may not be blank."})
        << value;
  }
}

TEST(ReadWebhookChanges, NameHasAtMost255Characters) {
  const std::string longest(255, 'n');
  EXPECT_EQ(read(json::object{{"name", longest}}, false).changes.name, std::optional<std::string>(longest));
  EXPECT_EQ(read(json::object{{"name", longest + "n"}}, false).errors,
            (FieldErrors{{"name", {"Ensure this field has no more than 255 characters."}}}));
}

// The limit is in characters, as the message says, not in UTF-8 bytes: 255 "é" are 510 bytes.
TEST(ReadWebhookChanges, NameLengthCountsCharactersNotBytes) {
  std::string accented;
  for (int i = 0; i < 255; ++i) accented += "\xc3\xa9";
  const Read got = read(json::object{{"name", accented}}, false);
  EXPECT_TRUE(got.errors.empty()) << "255 characters (" << accented.size() << " bytes): " << print(got.errors);
  EXPECT_TRUE(got.changes.name.has_value());
}

TEST(ReadWebhookChanges, NameKeepsItsSpacesAsGiven) {
  EXPECT_EQ(read_text(R"({"name":"  My hook "})", false).changes.name, std::optional<std::string>("  My hook "));
}

// ---- url ----

TEST(ReadWebhookChanges, UrlMustBeAString) {
  EXPECT_EQ(patch_errors(R"({"url":42})", "url"), Messages{"Not a valid string."});
  EXPECT_EQ(patch_errors(R"({"url":null})", "url"), Messages{"Not a valid string."});
}

TEST(ReadWebhookChanges, UrlMustBeAnHttpUrl) {
  EXPECT_EQ(patch_errors(R"({"url":"not a url"})", "url"), Messages{"Enter a valid URL."});
  EXPECT_EQ(patch_errors(R"({"url":""})", "url"), Messages{"Enter a valid URL."});
  EXPECT_EQ(patch_errors(R"({"url":"ftp://example.com/"})", "url"),
            Messages{"Enter a valid URL: the scheme must be http or https."});
  EXPECT_EQ(patch_errors(R"({"url":"http:///nohost"})", "url"), Messages{"Enter a valid URL: it has no host."});
  EXPECT_EQ(patch_errors(R"({"url":"http://example.com:0/"})", "url"),
            Messages{"Enter a valid URL: the port is not valid."});
  const std::string too_long = "https://example.com/" + std::string(2100, 'a');
  EXPECT_EQ(read(json::object{{"url", too_long}}, false).errors,
            (FieldErrors{{"url", {"Ensure this field has no more than 2048 characters."}}}));
}

TEST(ReadWebhookChanges, UrlMustPassTheAddressPolicy) {
  for (const char* host : {"127.0.0.1", "10.0.0.5", "169.254.169.254", "[::1]", "localhost"}) {
    const std::string url = std::string("http://") + host + ":8080/hook";
    const Read got = read(json::object{{"url", url}}, false);
    std::string bare = host;
    if (bare.front() == '[') bare = bare.substr(1, bare.size() - 2);
    const std::string reason = kStrict.check_host(bare).ok() ? "(allowed?)" : kStrict.check_host(bare).error().message;
    EXPECT_EQ(got.errors, (FieldErrors{{"url", {"This URL is not allowed: " + reason + "."}}})) << url;
    EXPECT_FALSE(got.changes.url.has_value()) << url;
  }
}

TEST(ReadWebhookChanges, ALoopbackUrlPassesWhenThePolicyAllowsIt) {
  const core::AddressPolicy dev({}, true);
  const Read got = read(json::object{{"url", "http://127.0.0.1:8080/hook"}}, false, dev);
  EXPECT_TRUE(got.errors.empty()) << print(got.errors);
  EXPECT_EQ(got.changes.url, std::optional<std::string>("http://127.0.0.1:8080/hook"));
}

TEST(ReadWebhookChanges, UrlIsKeptAsGiven) {
  EXPECT_EQ(read_text(R"({"url":"HTTPS://Hooks.Example.com/In?x=1"})", false).changes.url,
            std::optional<std::string>("HTTPS://Hooks.Example.com/In?x=1"));
}

// ---- secret ----

TEST(ReadWebhookChanges, SecretMustBeAStringOrNull) {
  for (const char* value : {"1", "true", "[]", "{}"}) {
    EXPECT_EQ(patch_errors(std::string(R"({"secret":)") + value + "}", "secret"), Messages{"Not a valid string."})
        << value;
  }
}

TEST(ReadWebhookChanges, NullOrEmptySecretMeansNoSecret) {
  for (const char* text : {R"({"secret":null})", R"({"secret":""})"}) {
    const Read got = read_text(text, false);
    EXPECT_TRUE(got.errors.empty()) << print(got.errors);
    ASSERT_TRUE(got.changes.secret.has_value()) << text << ": the secret would not be cleared";
    EXPECT_EQ(*got.changes.secret, std::nullopt) << text;
  }
}

TEST(ReadWebhookChanges, SecretHasAtMost1024Characters) {
  const std::string longest(1024, 's');
  const Read ok = read(json::object{{"secret", longest}}, false);
  EXPECT_TRUE(ok.errors.empty()) << print(ok.errors);
  ASSERT_TRUE(ok.changes.secret.has_value());
  EXPECT_EQ(*ok.changes.secret, std::optional<std::string>(longest));
  EXPECT_EQ(read(json::object{{"secret", longest + "s"}}, false).errors,
            (FieldErrors{{"secret", {"Ensure this field has no more than 1024 characters."}}}));
}

// ---- config ----

TEST(ReadWebhookChanges, ConfigMustBeAnObject) {
  EXPECT_EQ(patch_errors(R"({"config":[]})", "config"),
            Messages{"Expected a dictionary of items but got type \"array\"."});
  EXPECT_EQ(patch_errors(R"({"config":"x"})", "config"),
            Messages{"Expected a dictionary of items but got type \"string\"."});
  EXPECT_EQ(patch_errors(R"({"config":null})", "config"),
            Messages{"Expected a dictionary of items but got type \"null\"."});
}

TEST(ReadWebhookChanges, ConfigKnowsOnlyIncludeResource) {
  EXPECT_EQ(patch_errors(R"({"config":{"retries":3}})", "config"), Messages{"Unknown key \"retries\"."});
  EXPECT_EQ(patch_errors(R"({"config":{"include_resource":"yes"}})", "config"),
            Messages{"include_resource: Must be a valid boolean."});
  EXPECT_EQ(patch_errors(R"({"config":{"include_resource":1,"other":true}})", "config"),
            (Messages{"include_resource: Must be a valid boolean.", "Unknown key \"other\"."}));
  EXPECT_FALSE(read_text(R"({"config":{"include_resource":true,"other":true}})", false).changes.include_resource)
      << "a half-valid config was taken";
}

TEST(ReadWebhookChanges, ConfigSetsIncludeResourceFalseByDefault) {
  EXPECT_EQ(read_text(R"({"config":{"include_resource":true}})", false).changes.include_resource,
            std::optional<bool>(true));
  EXPECT_EQ(read_text(R"({"config":{"include_resource":false}})", false).changes.include_resource,
            std::optional<bool>(false));
  EXPECT_EQ(read_text(R"({"config":{}})", false).changes.include_resource, std::optional<bool>(false));
}

// ---- apply_webhook_changes ----

core::Webhook stored() {
  core::Webhook webhook;
  webhook.id = "3f1c2b0a-0000-4000-8000-000000000001";
  webhook.tenant_id = "tenant";
  webhook.events = {"reputations.added"};
  webhook.name = "old name";
  webhook.url = "https://old.example.com/";
  webhook.secret = "old secret";
  webhook.include_resource = true;
  webhook.last_sent_at = kCreated + 5;
  webhook.created_at = kCreated;
  webhook.updated_at = kCreated;
  return webhook;
}

TEST(ApplyWebhookChanges, NoChangesOnlyTouchesUpdatedAt) {
  core::Webhook webhook = stored();
  apply_webhook_changes(webhook, WebhookChanges{}, kLater);
  core::Webhook expected = stored();
  expected.updated_at = kLater;
  EXPECT_EQ(webhook_json(webhook), webhook_json(expected));
}

TEST(ApplyWebhookChanges, ASecretSetOutrightEndsARotationsGracePeriod) {
  core::Webhook webhook = stored();
  webhook.previous_secret = "older secret";
  webhook.previous_secret_expires_at = kLater + 1000;
  WebhookChanges renamed;
  renamed.name = "renamed";
  apply_webhook_changes(webhook, renamed, kLater);
  EXPECT_EQ(webhook.previous_secret, std::optional<std::string>("older secret")) << "other changes keep it";
  WebhookChanges changes;
  changes.secret = std::optional<std::string>("brand new");
  apply_webhook_changes(webhook, changes, kLater);
  EXPECT_EQ(webhook.secret, std::optional<std::string>("brand new"));
  EXPECT_EQ(webhook.previous_secret, std::nullopt);
  EXPECT_EQ(webhook.previous_secret_expires_at, std::nullopt);
}

TEST(ApplyWebhookChanges, ChangesExactlyTheFieldsGiven) {
  core::Webhook webhook = stored();
  WebhookChanges changes;
  changes.name = "new name";
  changes.events = Messages{"*"};
  apply_webhook_changes(webhook, changes, kLater);
  EXPECT_EQ(webhook.name, "new name");
  EXPECT_EQ(webhook.events, Messages{"*"});
  EXPECT_EQ(webhook.url, "https://old.example.com/");
  EXPECT_EQ(webhook.secret, std::optional<std::string>("old secret"));
  EXPECT_TRUE(webhook.include_resource);
  EXPECT_TRUE(webhook.enabled);
  EXPECT_EQ(webhook.id, stored().id);
  EXPECT_EQ(webhook.created_at, kCreated);
  EXPECT_EQ(webhook.last_sent_at, stored().last_sent_at);
  EXPECT_EQ(webhook.updated_at, kLater);
}

TEST(ApplyWebhookChanges, ASecretOfNoneClearsTheSecret) {
  core::Webhook webhook = stored();
  WebhookChanges changes;
  changes.secret = std::optional<std::string>();
  apply_webhook_changes(webhook, changes, kLater);
  EXPECT_EQ(webhook.secret, std::nullopt);
}

TEST(ApplyWebhookChanges, ReadChangesApplyEndToEnd) {
  core::Webhook webhook = stored();
  const Read got = read_text(R"({"url":"https://new.example.com/","secret":null,"config":{},"enabled":false})", false);
  ASSERT_TRUE(got.errors.empty()) << print(got.errors);
  apply_webhook_changes(webhook, got.changes, kLater);
  EXPECT_EQ(webhook.url, "https://new.example.com/");
  EXPECT_EQ(webhook.secret, std::nullopt);
  EXPECT_FALSE(webhook.include_resource);
  EXPECT_FALSE(webhook.enabled);
  EXPECT_EQ(webhook.name, "old name");
}

TEST(ApplyWebhookChanges, DisablingByHandRecordsManual) {
  core::Webhook webhook = stored();
  WebhookChanges changes;
  changes.enabled = false;
  apply_webhook_changes(webhook, changes, kLater);
  EXPECT_FALSE(webhook.enabled);
  EXPECT_EQ(webhook.disabled_reason, std::optional<std::string>("manual"));
}

TEST(ApplyWebhookChanges, EnablingClearsAnyReason) {
  for (const char* reason : {core::kDisabledGone, core::kDisabledFailing, core::kDisabledManual}) {
    core::Webhook webhook = stored();
    webhook.enabled = false;
    webhook.disabled_reason = reason;
    WebhookChanges changes;
    changes.enabled = true;
    apply_webhook_changes(webhook, changes, kLater);
    EXPECT_TRUE(webhook.enabled) << reason;
    EXPECT_EQ(webhook.disabled_reason, std::nullopt) << reason;
  }
}

TEST(ApplyWebhookChanges, RepeatingTheCurrentStateKeepsTheReason) {
  core::Webhook webhook = stored();
  webhook.enabled = false;
  webhook.disabled_reason = core::kDisabledGone;
  WebhookChanges changes;
  changes.enabled = false;
  apply_webhook_changes(webhook, changes, kLater);
  EXPECT_FALSE(webhook.enabled);
  EXPECT_EQ(webhook.disabled_reason, std::optional<std::string>("gone")) << "why it stopped was forgotten";

  core::Webhook enabled = stored();
  changes.enabled = true;
  apply_webhook_changes(enabled, changes, kLater);
  EXPECT_TRUE(enabled.enabled);
  EXPECT_EQ(enabled.disabled_reason, std::nullopt);
}

// ---- webhook_json ----

TEST(WebhookJson, HasEveryFieldOfTheApiObject) {
  core::Webhook webhook = stored();
  webhook.updated_at = kLater + 123'456;
  EXPECT_EQ(webhook_json(webhook), json::parse(R"({
    "id": "3f1c2b0a-0000-4000-8000-000000000001",
    "events": ["reputations.added"],
    "name": "old name",
    "url": "https://old.example.com/",
    "secret": "old secret",
    "config": {"include_resource": true},
    "enabled": true,
    "disabled_reason": null,
    "last_sent_at": "2026-11-27T10:00:00.000005Z",
    "previous_secret_expires_at": null,
    "created_at": "2026-11-27T10:00:00.000000Z",
    "updated_at": "2026-11-27T10:01:30.123456Z"
  })")
                                       .as_object());
}

TEST(WebhookJson, WritesAbsentValuesAsNullAndNeverTheTenant) {
  core::Webhook webhook = stored();
  webhook.secret.reset();
  webhook.last_sent_at.reset();
  webhook.enabled = false;
  webhook.disabled_reason = core::kDisabledFailing;
  const json::object body = webhook_json(webhook);
  EXPECT_TRUE(body.at("secret").is_null());
  EXPECT_TRUE(body.at("last_sent_at").is_null());
  EXPECT_EQ(body.at("enabled"), false);
  EXPECT_EQ(body.at("disabled_reason"), "failing");
  EXPECT_FALSE(body.contains("tenant_id"));
  EXPECT_FALSE(body.contains("previous_secret")) << "the old secret is the receiver's to keep, not ours to show";
  EXPECT_FALSE(body.contains("tenant"));
}

}  // namespace
}  // namespace repute::api
