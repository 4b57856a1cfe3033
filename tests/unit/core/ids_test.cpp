// Ids: time-ordered version 7 UUIDs in canonical form, and random hex secrets.
#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <thread>

namespace repute::core {
namespace {

bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(NewUuid, IsCanonicalLowercase8_4_4_4_12) {
  for (int i = 0; i < 200; ++i) {
    const std::string id = new_uuid();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t dash : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[dash], '-') << id;
    std::string digits = id;
    std::erase(digits, '-');
    EXPECT_EQ(digits.size(), 32u) << id;
    EXPECT_TRUE(is_lower_hex(digits)) << id;
    EXPECT_TRUE(is_uuid(id)) << id;
  }
}

TEST(NewUuid, CarriesVersion7AndTheRfc4122Variant) {
  for (int i = 0; i < 200; ++i) {
    const std::string id = new_uuid();
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
  }
}

TEST(NewUuid, NeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(new_uuid());
  EXPECT_EQ(seen.size(), 10'000u);
}

TEST(NewUuid, StartsWithTheCreationTimeInMilliseconds) {
  const auto now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const long long before = now();
  const std::string id = new_uuid();
  const long long after = now();
  const long long stamped = std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
  EXPECT_GE(stamped, before) << id;
  EXPECT_LE(stamped, after) << id;
}

TEST(NewUuid, SortByCreationMillisecond) {
  const std::string first = new_uuid();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string second = new_uuid();
  EXPECT_LT(first, second);
}

TEST(NewUuid, RandomBitsVary) {
  // Every random hex position takes more than one value over many ids (a stuck nibble would show).
  std::set<char> values[36];
  for (int i = 0; i < 500; ++i) {
    const std::string id = new_uuid();
    for (std::size_t p = 0; p < id.size(); ++p) values[p].insert(id[p]);
  }
  for (std::size_t p = 15; p < 36; ++p) {  // the time prefix (and version) change slowly; the rest is random
    if (p == 18 || p == 23) continue;
    EXPECT_GT(values[p].size(), 1u) << "position " << p;
  }
  EXPECT_EQ(values[19].size(), 4u);  // the variant nibble is one of 8, 9, a, b
}

TEST(IsUuid, AcceptsCanonicalFormsInAnyCase) {
  EXPECT_TRUE(is_uuid("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_TRUE(is_uuid("123E4567-E89B-42D3-A456-426614174000"));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(is_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
}

TEST(IsUuid, RefusesEverythingElse) {
  for (std::string_view text : {
           "",
           "123e4567e89b42d3a456426614174000",        // no dashes
           "{123e4567-e89b-42d3-a456-426614174000}",  // braces
           "123e4567-e89b-42d3-a456-42661417400",     // one digit short
           "123e4567-e89b-42d3-a456-4266141740000",   // one digit long
           "123e4567-e89b-42d3-a456_426614174000",    // wrong separator
           "123e4567-e89b42d3-a456-4266-14174000",    // dashes in the wrong places
           "123e4567-e89b-42d3-a456-42661417400g",    // not hex
           "123e4567-e89b-42d3-a456-42661417400 ",
           "urn:uuid:123e4567-e89b-42d3-a456-426614",
           "../../../../../../../../../etc/passwd",
       }) {
    EXPECT_FALSE(is_uuid(text)) << "'" << text << "'";
  }
}

TEST(RandomHex, HasTwoLowercaseHexDigitsPerByte) {
  EXPECT_EQ(random_hex(0), "");
  for (std::size_t n : {1u, 16u, 24u, 100u}) {
    const std::string hex = random_hex(n);
    EXPECT_EQ(hex.size(), 2 * n);
    EXPECT_TRUE(is_lower_hex(hex)) << hex;
  }
}

TEST(RandomHex, NeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_hex(16));
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace repute::core
