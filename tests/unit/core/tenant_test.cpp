// API keys: a random secret shown once, stored only as its SHA-256, compared in constant time.
#include "core/tenant.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/ids.hpp"

namespace repute::core {
namespace {

constexpr Micros kNow = 1'795'773'600'000'000;

TEST(HashKeySecret, IsLowercaseHexSha256) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(hash_key_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_key_secret(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(IssueApiKey, MakesAKeyForTheTenantWithAFreshSecret) {
  const IssuedKey issued = issue_api_key("tenant-1", kNow);
  EXPECT_TRUE(is_uuid(issued.key.id)) << issued.key.id;
  EXPECT_EQ(issued.key.tenant_id, "tenant-1");
  EXPECT_EQ(issued.key.created_at, kNow);
  EXPECT_FALSE(issued.key.revoked_at.has_value());
  EXPECT_EQ(issued.secret.size(), 48u);
  EXPECT_EQ(issued.secret.find_first_not_of("0123456789abcdef"), std::string::npos) << issued.secret;
}

TEST(IssueApiKey, StoresOnlyTheHashOfTheSecret) {
  const IssuedKey issued = issue_api_key("tenant-1", kNow);
  EXPECT_EQ(issued.key.secret_hash, hash_key_secret(issued.secret));
  EXPECT_NE(issued.key.secret_hash, issued.secret);
  EXPECT_EQ(issued.key.secret_hash.find(issued.secret), std::string::npos);
}

TEST(IssueApiKey, EveryKeyIsDifferent) {
  std::set<std::string> ids;
  std::set<std::string> secrets;
  for (int i = 0; i < 200; ++i) {
    const IssuedKey issued = issue_api_key("tenant-1", kNow);
    ids.insert(issued.key.id);
    secrets.insert(issued.secret);
  }
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(secrets.size(), 200u);
}

TEST(KeySecretMatches, AcceptsOnlyTheIssuedSecret) {
  const IssuedKey issued = issue_api_key("tenant-1", kNow);
  EXPECT_TRUE(key_secret_matches(issued.key, issued.secret));
  EXPECT_FALSE(key_secret_matches(issued.key, ""));
  EXPECT_FALSE(key_secret_matches(issued.key, issued.secret + "0"));
  EXPECT_FALSE(key_secret_matches(issued.key, issued.secret.substr(1)));
  std::string flipped = issued.secret;
  flipped[0] = flipped[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(key_secret_matches(issued.key, flipped));
  EXPECT_FALSE(key_secret_matches(issued.key, issued.key.secret_hash));  // the hash is not the secret
}

TEST(KeySecretMatches, IsCaseSensitive) {
  ApiKey key;
  key.secret_hash = hash_key_secret("abcdef");
  EXPECT_TRUE(key_secret_matches(key, "abcdef"));
  EXPECT_FALSE(key_secret_matches(key, "ABCDEF"));
}

// The auth path checks secrets against an empty key when the key id is unknown; that must never match.
TEST(KeySecretMatches, AnEmptyKeyMatchesNothing) {
  const ApiKey empty;
  EXPECT_FALSE(key_secret_matches(empty, ""));
  EXPECT_FALSE(key_secret_matches(empty, "anything"));
}

}  // namespace
}  // namespace repute::core
