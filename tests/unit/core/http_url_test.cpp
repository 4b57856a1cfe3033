// Subscription and source URLs: absolute http(s) with a host; the port a client would dial.
#include "core/http_url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace repute::core {
namespace {

struct Good {
  std::string_view text;
  std::string_view scheme;
  std::string_view host;
  std::uint16_t port;
};

TEST(ParseHttpUrl, ReadsSchemeHostAndPort) {
  const Good cases[] = {
      {"http://example.com", "http", "example.com", 80},
      {"http://example.com/", "http", "example.com", 80},
      {"https://example.com", "https", "example.com", 443},
      {"https://hooks.example.com/path/to?x=1&y=2", "https", "hooks.example.com", 443},
      {"http://example.com:8080/hook", "http", "example.com", 8080},
      {"https://example.com:80/", "https", "example.com", 80},
      {"http://example.com:1/", "http", "example.com", 1},
      {"http://example.com:65535/", "http", "example.com", 65535},
      {"http://user:pass@example.com/", "http", "example.com", 80},
      {"http://203.0.113.7:9000/", "http", "203.0.113.7", 9000},
      {"http://localhost:3000/webhooks", "http", "localhost", 3000},
  };
  for (const Good& c : cases) {
    const auto url = parse_http_url(c.text);
    ASSERT_TRUE(url.ok()) << c.text << ": " << url.error().message;
    EXPECT_EQ(url->scheme, c.scheme) << c.text;
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
  }
}

TEST(ParseHttpUrl, LowercasesSchemeAndHostName) {
  const auto url = parse_http_url("HTTPS://Hooks.EXAMPLE.com/Path");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "hooks.example.com");
  EXPECT_EQ(url->port, 443);

  const auto mixed = parse_http_url("Http://example.com");
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  EXPECT_EQ(mixed->scheme, "http");
  EXPECT_EQ(mixed->port, 80);
}

TEST(ParseHttpUrl, GivesIpv6HostsWithoutBrackets) {
  const auto loopback = parse_http_url("http://[::1]:8080/hook");
  ASSERT_TRUE(loopback.ok()) << loopback.error().message;
  EXPECT_EQ(loopback->host, "::1");
  EXPECT_EQ(loopback->port, 8080);

  const auto global = parse_http_url("https://[2001:db8::1]/");
  ASSERT_TRUE(global.ok()) << global.error().message;
  EXPECT_EQ(global->host, "2001:db8::1");
  EXPECT_EQ(global->port, 443);

  const auto mapped = parse_http_url("http://[::ffff:127.0.0.1]/");
  ASSERT_TRUE(mapped.ok()) << mapped.error().message;
  EXPECT_EQ(mapped->host, "::ffff:127.0.0.1");
}

void expect_refused(std::string_view text, std::string_view message) {
  const auto url = parse_http_url(text);
  ASSERT_FALSE(url.ok()) << text << " was accepted as " << url->scheme << "://" << url->host << ":" << url->port;
  EXPECT_EQ(url.error().code, ErrorCode::kInvalid) << text;
  EXPECT_EQ(url.error().message, message) << text;
}

TEST(ParseHttpUrl, RefusesTextThatIsNotAnAbsoluteUrl) {
  for (std::string_view text : {"", "example.com", "/relative/path", "//example.com/", "http://exa mple.com/",
                                "http://[::1/", "http://example.com/\n", "not a url"}) {
    expect_refused(text, "Enter a valid URL.");
  }
}

TEST(ParseHttpUrl, RefusesOtherSchemes) {
  for (std::string_view text :
       {"ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)",
        "mailto:someone@example.com", "ws://example.com/", "httpx://example.com/"}) {
    expect_refused(text, "Enter a valid URL: the scheme must be http or https.");
  }
}

TEST(ParseHttpUrl, RefusesUrlsWithoutAHost) {
  for (std::string_view text : {"http://", "https:///path", "http:example.com", "http:/example.com"}) {
    expect_refused(text, "Enter a valid URL: it has no host.");
  }
}

TEST(ParseHttpUrl, RefusesPortsNoClientCanDial) {
  for (std::string_view text : {"http://example.com:0/", "http://example.com:/", "http://example.com:65536/"}) {
    expect_refused(text, "Enter a valid URL: the port is not valid.");
  }
}

// A port beyond 65535 must be refused, not wrapped around to another port (80000 would dial 14464,
// 99999 would dial 34463).
TEST(ParseHttpUrl, RefusesPortsThatOverflowSixteenBits) {
  for (std::string_view text : {"http://example.com:65616/", "http://example.com:80000/", "http://example.com:99999/",
                                "http://example.com:100000/", "http://example.com:4294967376/"}) {
    const auto url = parse_http_url(text);
    EXPECT_FALSE(url.ok()) << text << " was accepted with port " << url->port;
  }
}

TEST(ParseHttpUrl, RefusesFutureIpLiterals) {
  expect_refused("http://[v1.fe80::a]/", "Enter a valid URL: the host is not supported.");
}

TEST(ParseHttpUrl, AllowsUpTo2048Characters) {
  const std::string prefix = "https://example.com/";
  const std::string longest = prefix + std::string(kMaxUrlLength - prefix.size(), 'a');
  ASSERT_EQ(longest.size(), 2048u);
  EXPECT_TRUE(parse_http_url(longest).ok());

  const auto too_long = parse_http_url(longest + "a");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(too_long.error().message, "Ensure this field has no more than 2048 characters.");
}

}  // namespace
}  // namespace repute::core
