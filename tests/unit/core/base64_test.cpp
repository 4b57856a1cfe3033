// Base64 (RFC 4648): the standard alphabet for HTTP Basic credentials, the URL-safe one for page cursors.
#include "core/base64.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace repute::core {
namespace {

struct Vector {
  std::string_view bytes;
  std::string_view encoded;
};

// RFC 4648 §10.
constexpr Vector kRfcVectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

// Every byte value once, so both alphabets' last two characters (62 and 63) appear.
std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

TEST(Base64, EncodesTheRfcVectors) {
  for (const Vector& v : kRfcVectors) EXPECT_EQ(base64_encode(v.bytes), v.encoded) << "bytes '" << v.bytes << "'";
}

TEST(Base64, DecodesTheRfcVectors) {
  for (const Vector& v : kRfcVectors) {
    EXPECT_EQ(base64_decode(v.encoded), std::optional<std::string>(v.bytes)) << "text '" << v.encoded << "'";
  }
}

TEST(Base64, UsesPlusAndSlashForTheLastTwoDigits) {
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_decode("+/8="), std::optional<std::string>("\xfb\xff"));
}

TEST(Base64, RoundTripsEveryByteValueAndEveryLength) {
  const std::string bytes = all_bytes();
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string input = bytes.substr(bytes.size() - length);
    const std::string encoded = base64_encode(input);
    EXPECT_EQ(encoded.size() % 4, 0u) << "length " << length;
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(input)) << "length " << length;
  }
}

TEST(Base64, KeepsEmbeddedZeroBytes) {
  const std::string bytes("a\0b\0", 4);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), std::optional<std::string>(bytes));
}

TEST(Base64, RefusesTextOfTheWrongLength) {
  for (std::string_view text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg"}) {
    EXPECT_EQ(base64_decode(text), std::nullopt) << "text '" << text << "'";
  }
}

TEST(Base64, RefusesCharactersOutsideTheAlphabet) {
  for (std::string_view text : {"Zm9!", "Zm 9", "Zm9v\x80\x80\x80\x80", "-_8=", "Zm9v Zm9"}) {
    EXPECT_EQ(base64_decode(text), std::nullopt) << "text '" << text << "'";
  }
}

// Padding may only close the text, and at most two characters of it.
TEST(Base64, RefusesMisplacedPadding) {
  for (std::string_view text : {"====", "Z===", "=Zg=", "Zg=a", "Zg==Zg=="}) {
    EXPECT_EQ(base64_decode(text), std::nullopt) << "text '" << text << "'";
  }
}

TEST(Base64, RefusesSurroundingWhitespace) {
  for (std::string_view text : {"  Zm9v  ", "Zm9v\n\n\n\n", "\tZm9vYmE"}) {
    EXPECT_EQ(base64_decode(text), std::nullopt) << "text '" << text << "'";
  }
}

TEST(Base64Url, EncodesWithoutPaddingInTheUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64Url, OutputNeedsNoEscapingInAUrl) {
  const std::string encoded = base64url_encode(all_bytes());
  EXPECT_EQ(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos)
      << encoded;
}

TEST(Base64Url, RoundTripsEveryByteValueAndEveryLength) {
  const std::string bytes = all_bytes();
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string input = bytes.substr(0, length);
    EXPECT_EQ(base64url_decode(base64url_encode(input)), std::optional<std::string>(input)) << "length " << length;
  }
}

TEST(Base64Url, AcceptsPaddingButDoesNotNeedIt) {
  EXPECT_EQ(base64url_decode("Zg"), std::optional<std::string>("f"));
  EXPECT_EQ(base64url_decode("Zg=="), std::optional<std::string>("f"));
  EXPECT_EQ(base64url_decode("Zm8"), std::optional<std::string>("fo"));
  EXPECT_EQ(base64url_decode("Zm8="), std::optional<std::string>("fo"));
  EXPECT_EQ(base64url_decode("-_8"), std::optional<std::string>("\xfb\xff"));
}

TEST(Base64Url, RefusesTheStandardAlphabetsOwnDigits) {
  EXPECT_EQ(base64url_decode("+/8"), std::nullopt);
  EXPECT_EQ(base64url_decode("+_8"), std::nullopt);
  EXPECT_EQ(base64url_decode("-/8"), std::nullopt);
}

TEST(Base64Url, RefusesGarbage) {
  for (std::string_view text : {"Zm9v!", "Zm 9v", "Zm9v.", "%41%41"}) {
    EXPECT_EQ(base64url_decode(text), std::nullopt) << "text '" << text << "'";
  }
}

// One character more than a multiple of four cannot encode any whole byte.
TEST(Base64Url, RefusesALengthThatNoEncodingHas) {
  for (std::string_view text : {"Z", "a", "Zm9vY", "Zm9vYmFyZ"}) {
    EXPECT_EQ(base64url_decode(text), std::nullopt) << "text '" << text << "'";
  }
}

}  // namespace
}  // namespace repute::core
