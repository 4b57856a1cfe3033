// Known-answer tests for webhook signatures. Expected values were computed outside this code base with Python's
// hmac/base64 modules and cross-checked with `openssl dgst -sha512 -hmac` and Node's crypto module; the RFC 4231 and
// Standard Webhooks values are also the published ones.
#include "delivery/signing.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repute::delivery {
namespace {

// A delivery body shaped as DESIGN.md §3 describes it.
constexpr std::string_view kBody =
    R"({"event":"reputations.added","name":"nightly-sync","data":{"account":"0b6d4b1e-8a43-4f0e-9c52-3f1f6f2b9a10",)"
    R"("user":"5c1f7e8a-2d34-4b6f-a1c9-7e2d3b4a5c6d","reputation":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}})";
constexpr std::string_view kDocSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

TEST(ArgyleSignature, Rfc4231TestCase2) {
  EXPECT_EQ(argyle_signature("Jefe", "what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
            "caeab1a34d4a6b4b636e070a38bce737");
}

TEST(ArgyleSignature, Rfc4231KeyLongerThanBlock) {
  EXPECT_EQ(argyle_signature(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
            "95e64f73f63f0aec8b915a985d786598");
}

TEST(ArgyleSignature, UsesWhsecSecretAsRawBytes) {
  EXPECT_EQ(argyle_signature(kDocSecret, kBody),
            "cd3ac6514b77c536121239ec67b22af0eac0ec2a61ea94d73d339a58fc65596c25e5e818f79f97ea53747d7912c0de25"
            "4b21f5be62c18d75837e3bd24f2e937a");
}

TEST(ArgyleSignature, EmptySecretAndBody) {
  EXPECT_EQ(argyle_signature("", ""),
            "b936cee86c9f87aa5d3c6f2e84cb5a4239a5fe50480a6ec66b70ab5b1f4ac6730c6c515421b327ec1d69402e53dfb49a"
            "d7381eb067b338fd7b0cb22247225d47");
}

TEST(ArgyleSignature, NonAsciiBytesAsGiven) {
  EXPECT_EQ(argyle_signature("sécret-ключ", R"({"name":"café"})"),
            "658da3aef98b200b25824c389a09c1f03fba4e4b66937cf9a6ef44f986c3d9a85b3c99d23400576eace67defc2c3fc74"
            "44ad86a00f78cf3d5409879314a5e9ee");
}

TEST(ArgyleSignature, IsLowercaseHexOf64Bytes) {
  const std::string signature = argyle_signature("k", kBody);
  ASSERT_EQ(signature.size(), 128u);
  EXPECT_EQ(signature.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(StandardWebhooksSignature, DocumentationExample) {
  EXPECT_EQ(
      standard_webhooks_signature(kDocSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(StandardWebhooksSignature, WhsecKeyWithOnePaddingChar) {
  EXPECT_EQ(standard_webhooks_signature("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "msg_1", 1700000000,
                                        R"({"a":1})"),
            "v1,AMaOha7DUT/0J0JMycRuYOBSvbx3WtwLd2khXXbaVj4=");
}

TEST(StandardWebhooksSignature, WhsecKeyWithTwoPaddingChars) {
  EXPECT_EQ(standard_webhooks_signature("whsec_AAECAwQFBgcICQoLDA0ODw==", "msg_1", 1700000000, R"({"a":1})"),
            "v1,+pLViToGA4A+jT/g3bTsd1OtvlYyKJQ79kJoUqga0AI=");
}

TEST(StandardWebhooksSignature, PlainSecretIsRawBytes) {
  EXPECT_EQ(standard_webhooks_signature("my-plain-secret", "msg_1", 1700000000, R"({"a":1})"),
            "v1,4nV8PLfN7/K3Rx+3q1wV8e8FdL/K55YKadvjwCBGlN0=");
}

TEST(StandardWebhooksSignature, UndecodableWhsecFallsBackToWholeSecret) {
  EXPECT_EQ(standard_webhooks_signature("whsec_not*base64!", "msg_1", 1700000000, R"({"a":1})"),
            "v1,yjRvbq8lTUTkQ5HRVUCJP+pi4trzxHwObe+/4m3kcw8=");
  EXPECT_EQ(standard_webhooks_signature("whsec_abc", "msg_1", 1700000000, R"({"a":1})"),
            "v1,SnJHWAWtd6CZvl9WPis+CNayU1PhIcuL7oz9IOoGvL8=");
}

// Shapes EVP_DecodeBlock alone would accept or mis-decode: stray padding, inner "=", surrounding whitespace.
TEST(StandardWebhooksSignature, MalformedBase64FallsBackToWholeSecret) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"whsec_====", "v1,FFsYcMzQUtYlyDQety2k39J71f/vA3tfGpOuIk3/VDY="},
      {"whsec_A===", "v1,hUhwJ3yRNVXVxOftCVQCdhwfJfy4XE9a/yKoTbuHX18="},
      {"whsec_AA=A", "v1,/BwqFE9MtQcgMnMDmMVy9RjenSyK+PncJw/ZkXghF5A="},
      {"whsec_AAECAwQFBgcICQoLDA0O    ", "v1,I3vEhHmz+K6bPjtZ10oxjd8pfKhzMbao81GSW7qRtq0="},
      {"whsec_", "v1,TQxb/2IZzecCbnjUM4Pt4xew5eV7s4U8wO3e66AI3LA="},
  };
  for (const auto& [secret, expected] : cases) {
    SCOPED_TRACE(secret);
    EXPECT_EQ(standard_webhooks_signature(secret, "msg_1", 1700000000, "{}"), expected);
  }
}

TEST(SignDelivery, WithSecretSendsAllHeadersInOrder) {
  const SignedHeaders signed_headers =
      sign_delivery(std::string(kDocSecret), "3f2c8d9e-1a7b-4c5d-9e8f-0a1b2c3d4e5f", 1764237600, kBody);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Content-Type", "application/json"},
      {"webhook-id", "3f2c8d9e-1a7b-4c5d-9e8f-0a1b2c3d4e5f"},
      {"webhook-timestamp", "1764237600"},
      {"X-Argyle-Signature",
       "cd3ac6514b77c536121239ec67b22af0eac0ec2a61ea94d73d339a58fc65596c25e5e818f79f97ea53747d7912c0de25"
       "4b21f5be62c18d75837e3bd24f2e937a"},
      {"webhook-signature", "v1,1ytmbudexDtWMQp3fQ3DUI0O3M9twayLemISFD04vHY="},
  };
  EXPECT_EQ(signed_headers.headers, expected);
}

TEST(SignDelivery, WithoutSecretSendsNoSignatures) {
  const SignedHeaders signed_headers = sign_delivery(std::nullopt, "msg_1", 1700000000, kBody);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Content-Type", "application/json"},
      {"webhook-id", "msg_1"},
      {"webhook-timestamp", "1700000000"},
  };
  EXPECT_EQ(signed_headers.headers, expected);
}

TEST(SignDelivery, SameInputsSignTheSameOnEveryAttempt) {
  const std::optional<std::string> secret = "s3cret";
  EXPECT_EQ(sign_delivery(secret, "msg_1", 1700000000, kBody).headers,
            sign_delivery(secret, "msg_1", 1700000000, kBody).headers);
}

TEST(SignDelivery, DuringARotationEverySecretSignsInOneHeaderCurrentFirst) {
  const std::vector<std::string> secrets = {"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", std::string(kDocSecret)};
  const SignedHeaders signed_headers = sign_delivery(secrets, "msg_1", 1700000000, kBody);
  ASSERT_EQ(signed_headers.headers.size(), 5u);
  EXPECT_EQ(signed_headers.headers[3].second, argyle_signature(secrets[0], kBody)) << "the current secret only";
  EXPECT_EQ(signed_headers.headers[4].second, standard_webhooks_signature(secrets[0], "msg_1", 1700000000, kBody) +
                                                  " " +
                                                  standard_webhooks_signature(secrets[1], "msg_1", 1700000000, kBody));
}

TEST(SigningKeys, ThePreviousSecretSignsOnlyBeforeItsExpiry) {
  const SigningKeys keys{"new", "old", 1000};
  EXPECT_EQ(keys.at(999), (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(keys.at(1000), std::vector<std::string>{"new"});
  EXPECT_EQ((SigningKeys{"new", std::nullopt, std::nullopt}).at(0), std::vector<std::string>{"new"});
  EXPECT_TRUE((SigningKeys{std::nullopt, "old", 1000}).at(0).empty()) << "no secret now: unsigned";
}

}  // namespace
}  // namespace repute::delivery
