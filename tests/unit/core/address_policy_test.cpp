// Address classification for the SSRF guard. Pure computation: nothing here resolves a name or opens a socket.
#include "core/address_policy.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace repute::core {

// Readable failures: print addresses as text, not as 16 raw bytes.
void PrintTo(const IpAddress& address, std::ostream* out) { *out << address.to_string(); }
void PrintTo(AddressClass address_class, std::ostream* out) { *out << to_string(address_class); }

namespace {

IpAddress ip(std::string_view text) {
  const std::optional<IpAddress> parsed = parse_ip_literal(text);
  EXPECT_TRUE(parsed.has_value()) << "test setup: '" << text << "' should parse";
  return parsed.value_or(IpAddress{});
}

Cidr cidr(std::string_view text) {
  Result<Cidr> parsed = parse_cidr(text);
  EXPECT_TRUE(parsed.ok()) << "test setup: '" << text << "' should parse: " << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : Cidr{};
}

// ---- parse_ip_literal ----

struct SpellingCase {
  std::string_view host;
  std::string_view canonical;  // what the host means, in canonical form
};

TEST(ParseIpLiteral, AcceptsEveryIpv4SpellingTheResolverAccepts) {
  const SpellingCase cases[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},        // one 32-bit decimal number
      {"0x7f000001", "127.0.0.1"},        // one 32-bit hex number
      {"017700000001", "127.0.0.1"},      // one 32-bit octal number
      {"0177.0.0.1", "127.0.0.1"},        // octal part
      {"0x7f.0.0.1", "127.0.0.1"},        // hex part
      {"0X7F.0x0.0X0.0x1", "127.0.0.1"},  // hex in every part, either case
      {"127.1", "127.0.0.1"},             // a.b: b fills 24 bits
      {"127.0.1", "127.0.0.1"},           // a.b.c: c fills 16 bits
      {"10.1", "10.0.0.1"},
      {"192.168.257", "192.168.1.1"},  // 257 over 16 bits
      {"1.16777215", "1.255.255.255"},
      {"0", "0.0.0.0"},
      {"0x0", "0.0.0.0"},
      {"4294967295", "255.255.255.255"},
      {"0xffffffff", "255.255.255.255"},
      {"00000000000000000177.1", "127.0.0.1"},  // leading zeros are octal, however many
      {"169.254.169.254", "169.254.169.254"},
      {"0xa9fea9fe", "169.254.169.254"},
      {"127.0.0.1.", "127.0.0.1"},  // one trailing dot, as in a fully qualified name
      {"0x7f.1.", "127.0.0.1"},
      {"8.8.8.8", "8.8.8.8"},
  };
  for (const SpellingCase& c : cases) {
    const std::optional<IpAddress> parsed = parse_ip_literal(c.host);
    ASSERT_TRUE(parsed.has_value()) << c.host;
    EXPECT_EQ(parsed->family, AF_INET) << c.host;
    EXPECT_EQ(parsed->to_string(), c.canonical) << c.host;
  }
}

TEST(ParseIpLiteral, AcceptsIpv6WithOrWithoutBracketsAndZones) {
  const SpellingCase cases[] = {
      {"::1", "::1"},
      {"[::1]", "::1"},
      {"::", "::"},
      {"[::]", "::"},
      {"0:0:0:0:0:0:0:1", "::1"},
      {"0000:0000:0000:0000:0000:0000:0000:0001", "::1"},
      {"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
      {"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
      {"::FFFF:7F00:1", "::ffff:127.0.0.1"},
      {"::ffff:169.254.169.254", "::ffff:169.254.169.254"},
      {"64:ff9b::127.0.0.1", "64:ff9b::7f00:1"},
      {"2001:DB8::1", "2001:db8::1"},
      {"fe80::1%eth0", "fe80::1"},      // the zone is dropped: it never changes the class
      {"[fe80::1%25eth0]", "fe80::1"},  // the URL spelling of a zone
      {"[fe80::1%eth0]", "fe80::1"},
      {"2606:4700:4700::1111", "2606:4700:4700::1111"},
  };
  for (const SpellingCase& c : cases) {
    const std::optional<IpAddress> parsed = parse_ip_literal(c.host);
    ASSERT_TRUE(parsed.has_value()) << c.host;
    EXPECT_EQ(parsed->family, AF_INET6) << c.host;
    EXPECT_EQ(parsed->to_string(), c.canonical) << c.host;
  }
}

TEST(ParseIpLiteral, NamesAndMalformedLiteralsAreNotLiterals) {
  const std::string_view cases[] = {
      "",
      "example.com",
      "localhost",
      "hooks.example.com.",
      "127.0.0.1.nip.io",
      "1.2.3.4.5",  // too many parts
      "256.0.0.1",  // part out of range
      "1.2.3.256",
      "1.16777216",  // b over 24 bits
      "4294967296",  // over 32 bits
      "0x100000000",
      "99999999999999999999",
      "127..1",
      ".127.0.0.1",
      "127.0.0.1..",  // only one trailing dot
      ".",
      "08",  // 8 is not an octal digit
      "0x",
      "+1",
      "-1",
      "1e3",
      "127.0.0.1 ",  // glibc inet_aton would ignore everything after the space
      "127.0.0.1 .evil.com",
      "127.0.0.1\t",
      "127.0.0.1\n",
      " 127.0.0.1",
      std::string_view("127.0.0.1\0evil", 14),
      "127.0.0.1%eth0",  // zones are for IPv6
      "[127.0.0.1]",     // brackets are for IPv6
      "[::1",
      "::1]",
      "[]",
      "[",
      "[::1]:8080",
      "fe80::1%",  // empty zone
      ":::1",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "::ffff:127.1",  // inside IPv6 only a dotted quad is valid
      "::ffff:0x7f.0.0.1",
      "[ ::1]",
      "::1 ",
      "xn--80ak6aa92e.com",
      "\xc2\xb9\x32\x37.0.0.1",  // a non-ASCII digit lookalike
  };
  for (const std::string_view host : cases) {
    EXPECT_FALSE(parse_ip_literal(host).has_value()) << "'" << host << "'";
  }
}

TEST(IpAddress, FromSockaddrReadsBothFamiliesAndRefusesOthers) {
  sockaddr_in in4{};
  in4.sin_family = AF_INET;
  in4.sin_port = htons(443);
  in4.sin_addr.s_addr = htonl(0x7f000001);
  EXPECT_EQ(IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in4)), ip("127.0.0.1"));

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_scope_id = 2;
  const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  std::memcpy(&in6.sin6_addr, mapped, sizeof mapped);
  const std::optional<IpAddress> read = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&in6));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, ip("::ffff:10.0.0.1"));
  EXPECT_EQ(classify(*read), AddressClass::kPrivate);

  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_FALSE(IpAddress::from_sockaddr(&other).has_value());
  EXPECT_FALSE(IpAddress::from_sockaddr(nullptr).has_value());
}

TEST(IpAddress, EqualityDistinguishesFamilies) {
  EXPECT_EQ(ip("127.0.0.1"), ip("127.1"));
  EXPECT_EQ(ip("[::1]"), ip("0::1"));
  EXPECT_NE(ip("127.0.0.1"), ip("::ffff:127.0.0.1"));
  EXPECT_NE(ip("0.0.0.0"), ip("::"));
}

// ---- classify ----

struct ClassCase {
  std::string_view host;
  AddressClass expected;
};

void expect_classes(const std::vector<ClassCase>& cases) {
  for (const ClassCase& c : cases) {
    const std::optional<IpAddress> parsed = parse_ip_literal(c.host);
    ASSERT_TRUE(parsed.has_value()) << c.host;
    EXPECT_EQ(classify(*parsed), c.expected) << c.host;
  }
}

TEST(Classify, Ipv4RangesAndTheirEdges) {
  expect_classes({
      {"0.0.0.0", AddressClass::kUnspecified},
      {"0.0.0.1", AddressClass::kReserved},
      {"0.255.255.255", AddressClass::kReserved},
      {"1.0.0.0", AddressClass::kPublic},
      {"9.255.255.255", AddressClass::kPublic},
      {"10.0.0.0", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},
      {"11.0.0.0", AddressClass::kPublic},
      {"100.63.255.255", AddressClass::kPublic},
      {"100.64.0.0", AddressClass::kCgnat},
      {"100.100.100.200", AddressClass::kCgnat},  // Alibaba Cloud metadata
      {"100.127.255.255", AddressClass::kCgnat},
      {"100.128.0.0", AddressClass::kPublic},
      {"126.255.255.255", AddressClass::kPublic},
      {"127.0.0.0", AddressClass::kLoopback},
      {"127.0.0.1", AddressClass::kLoopback},
      {"127.255.255.255", AddressClass::kLoopback},
      {"128.0.0.0", AddressClass::kPublic},
      {"169.253.255.255", AddressClass::kPublic},
      {"169.254.0.0", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kLinkLocal},  // cloud metadata
      {"169.254.255.255", AddressClass::kLinkLocal},
      {"169.255.0.0", AddressClass::kPublic},
      {"172.15.255.255", AddressClass::kPublic},
      {"172.16.0.0", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},
      {"172.32.0.0", AddressClass::kPublic},
      {"192.0.0.0", AddressClass::kReserved},
      {"192.0.0.192", AddressClass::kReserved},  // Oracle Cloud metadata
      {"192.0.0.255", AddressClass::kReserved},
      {"192.0.1.0", AddressClass::kPublic},
      {"192.0.2.0", AddressClass::kReserved},
      {"192.0.2.255", AddressClass::kReserved},
      {"192.0.3.0", AddressClass::kPublic},
      {"192.88.99.1", AddressClass::kReserved},
      {"192.167.255.255", AddressClass::kPublic},
      {"192.168.0.0", AddressClass::kPrivate},
      {"192.168.255.255", AddressClass::kPrivate},
      {"192.169.0.0", AddressClass::kPublic},
      {"198.17.255.255", AddressClass::kPublic},
      {"198.18.0.0", AddressClass::kReserved},
      {"198.19.255.255", AddressClass::kReserved},
      {"198.20.0.0", AddressClass::kPublic},
      {"198.51.100.0", AddressClass::kReserved},
      {"198.51.100.255", AddressClass::kReserved},
      {"198.51.101.0", AddressClass::kPublic},
      {"203.0.112.255", AddressClass::kPublic},
      {"203.0.113.0", AddressClass::kReserved},
      {"203.0.113.255", AddressClass::kReserved},
      {"203.0.114.0", AddressClass::kPublic},
      {"223.255.255.255", AddressClass::kPublic},
      {"224.0.0.0", AddressClass::kMulticast},
      {"224.0.0.251", AddressClass::kMulticast},
      {"239.255.255.255", AddressClass::kMulticast},
      {"240.0.0.0", AddressClass::kReserved},
      {"255.255.255.254", AddressClass::kReserved},
      {"255.255.255.255", AddressClass::kReserved},
      {"8.8.8.8", AddressClass::kPublic},
      {"1.1.1.1", AddressClass::kPublic},
  });
}

TEST(Classify, LegacyIpv4SpellingsClassifyAsWhatTheyMean) {
  expect_classes({
      {"2130706433", AddressClass::kLoopback},
      {"0177.0.0.1", AddressClass::kLoopback},
      {"0x7f.0.0.1", AddressClass::kLoopback},
      {"127.1", AddressClass::kLoopback},
      {"0x7f.1.", AddressClass::kLoopback},
      {"10.1", AddressClass::kPrivate},
      {"012.1", AddressClass::kPrivate},
      {"0xa9fea9fe", AddressClass::kLinkLocal},
      {"2852039166", AddressClass::kLinkLocal},  // 169.254.169.254
      {"0", AddressClass::kUnspecified},
      {"0xffffffff", AddressClass::kReserved},
  });
}

TEST(Classify, Ipv6Ranges) {
  expect_classes({
      {"::", AddressClass::kUnspecified},
      {"::1", AddressClass::kLoopback},
      {"[::1]", AddressClass::kLoopback},
      {"fc00::", AddressClass::kPrivate},
      {"fd00::1", AddressClass::kPrivate},
      {"fd00:ec2::254", AddressClass::kPrivate},  // AWS IPv6 metadata
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::kPrivate},
      {"fe80::", AddressClass::kLinkLocal},
      {"fe80::1%eth0", AddressClass::kLinkLocal},
      {"febf:ffff::1", AddressClass::kLinkLocal},
      {"fec0::1", AddressClass::kPrivate},  // deprecated site-local
      {"ff00::", AddressClass::kMulticast},
      {"ff02::1", AddressClass::kMulticast},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::kMulticast},
      {"2001:db8::", AddressClass::kReserved},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", AddressClass::kReserved},
      {"2001:db9::1", AddressClass::kPublic},
      {"2001::1", AddressClass::kReserved},  // Teredo, inside 2001::/23
      {"2001:1ff::1", AddressClass::kReserved},
      {"2001:200::1", AddressClass::kPublic},
      {"3fff::1", AddressClass::kReserved},  // documentation, RFC 9637
      {"3fff:1000::1", AddressClass::kPublic},
      {"100::1", AddressClass::kReserved},        // discard-only
      {"64:ff9b:1::1", AddressClass::kReserved},  // local-use NAT64
      {"::2:0:0:1", AddressClass::kReserved},     // outside 2000::/3
      {"1::1", AddressClass::kReserved},
      {"4000::1", AddressClass::kReserved},
      {"5f00::1", AddressClass::kReserved},
      {"fbff::1", AddressClass::kReserved},
      {"2000::1", AddressClass::kPublic},
      {"2606:4700:4700::1111", AddressClass::kPublic},
      {"2a00:1450:4001:80b::200e", AddressClass::kPublic},
      {"3ffe:ffff::1", AddressClass::kPublic},
  });
}

TEST(Classify, Ipv6FormsCarryingIpv4ClassifyAsTheCarriedAddress) {
  expect_classes({
      // IPv4-mapped ::ffff:0:0/96
      {"::ffff:127.0.0.1", AddressClass::kLoopback},
      {"[::ffff:127.0.0.1]", AddressClass::kLoopback},
      {"::ffff:7f00:1", AddressClass::kLoopback},
      {"::ffff:10.1.2.3", AddressClass::kPrivate},
      {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
      {"::ffff:a9fe:a9fe", AddressClass::kLinkLocal},
      {"::ffff:100.64.0.1", AddressClass::kCgnat},
      {"::ffff:224.0.0.1", AddressClass::kMulticast},
      {"::ffff:255.255.255.255", AddressClass::kReserved},
      {"::ffff:0.0.0.0", AddressClass::kUnspecified},
      {"::ffff:8.8.8.8", AddressClass::kPublic},
      // IPv4-compatible ::/96 (deprecated)
      {"::127.0.0.1", AddressClass::kLoopback},
      {"::192.168.1.1", AddressClass::kPrivate},
      {"::0.0.0.2", AddressClass::kReserved},
      {"::8.8.8.8", AddressClass::kPublic},
      // IPv4-translated ::ffff:0:0:0/96
      {"::ffff:0:127.0.0.1", AddressClass::kLoopback},
      {"::ffff:0:8.8.8.8", AddressClass::kPublic},
      // NAT64 well-known prefix 64:ff9b::/96
      {"64:ff9b::127.0.0.1", AddressClass::kLoopback},
      {"64:ff9b::a9fe:a9fe", AddressClass::kLinkLocal},
      {"64:ff9b::10.0.0.1", AddressClass::kPrivate},
      {"64:ff9b::8.8.8.8", AddressClass::kPublic},
      // 6to4 2002::/16 carries the IPv4 address in bits 16..47
      {"2002:7f00:1::", AddressClass::kLoopback},
      {"2002:c0a8:101::1", AddressClass::kPrivate},
      {"2002:808:808::1", AddressClass::kPublic},
  });
}

TEST(Classify, ToStringNamesEveryClass) {
  EXPECT_EQ(to_string(AddressClass::kPublic), "public");
  EXPECT_EQ(to_string(AddressClass::kLoopback), "loopback");
  EXPECT_EQ(to_string(AddressClass::kPrivate), "private");
  EXPECT_EQ(to_string(AddressClass::kLinkLocal), "link-local");
  EXPECT_EQ(to_string(AddressClass::kCgnat), "cgnat");
  EXPECT_EQ(to_string(AddressClass::kMulticast), "multicast");
  EXPECT_EQ(to_string(AddressClass::kReserved), "reserved");
  EXPECT_EQ(to_string(AddressClass::kUnspecified), "unspecified");
}

// ---- parse_cidr and Cidr ----

TEST(ParseCidr, AcceptsRangesAndBareAddresses) {
  const struct {
    std::string_view text;
    std::string_view canonical;
    int family;
  } cases[] = {
      {"10.0.0.0/8", "10.0.0.0/8", AF_INET},
      {"172.16.0.0/12", "172.16.0.0/12", AF_INET},
      {"100.64.0.0/10", "100.64.0.0/10", AF_INET},
      {"192.168.1.0/24", "192.168.1.0/24", AF_INET},
      {"127.0.0.1", "127.0.0.1/32", AF_INET},
      {"127.0.0.1/32", "127.0.0.1/32", AF_INET},
      {"0.0.0.0/0", "0.0.0.0/0", AF_INET},
      {"::1", "::1/128", AF_INET6},
      {"::1/128", "::1/128", AF_INET6},
      {"fd00::/8", "fd00::/8", AF_INET6},
      {"fc00::/7", "fc00::/7", AF_INET6},
      {"FE80::/10", "fe80::/10", AF_INET6},
      {"2001:db8::/32", "2001:db8::/32", AF_INET6},
      {"::/0", "::/0", AF_INET6},
      {"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", AF_INET6},
  };
  for (const auto& c : cases) {
    const Result<Cidr> parsed = parse_cidr(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().message;
    EXPECT_EQ(parsed->network.family, c.family) << c.text;
    EXPECT_EQ(parsed->to_string(), c.canonical) << c.text;
  }
}

TEST(ParseCidr, RefusesMalformedInputWithAClearMessage) {
  const struct {
    std::string_view text;
    std::string_view message_part;
  } cases[] = {
      {"", "empty"},
      {"10.0.0.0/33", "from 0 to 32"},
      {"::/129", "from 0 to 128"},
      {"10.0.0.0/", "from 0 to 32"},
      {"10.0.0.0/-1", "from 0 to 32"},
      {"10.0.0.0/+8", "from 0 to 32"},
      {"10.0.0.0/8 ", "from 0 to 32"},
      {"10.0.0.0/0008", "from 0 to 32"},
      {"10.0.0.0/8/8", "from 0 to 32"},
      {"10.0.0.0/99999999999999999999", "from 0 to 32"},
      {"10.0.0.0/a", "from 0 to 32"},
      {"/8", "not an IPv4 dotted quad or an IPv6 address"},
      {"10/8", "not an IPv4 dotted quad"},  // legacy spellings are not accepted in configuration
      {"10.1/16", "not an IPv4 dotted quad"},
      {"0x0a.0.0.0/8", "not an IPv4 dotted quad"},
      {"010.0.0.0/8", "not an IPv4 dotted quad"},
      {"256.0.0.0/8", "not an IPv4 dotted quad"},
      {" 10.0.0.0/8", "not an IPv4 dotted quad"},
      {"example.com/24", "not an IPv4 dotted quad"},
      {"[::1]/128", "not an IPv4 dotted quad"},
      {"fe80::1%eth0/64", "not an IPv4 dotted quad"},
      {"1::2::3/64", "not an IPv4 dotted quad"},
      {"10.0.0.1/8", "did you mean 10.0.0.0/8?"},
      {"192.168.1.1/24", "did you mean 192.168.1.0/24?"},
      {"172.17.0.0/12", "did you mean 172.16.0.0/12?"},
      {"fd00::1/8", "did you mean fd00::/8?"},
      {"fe81::/10", "did you mean fe80::/10?"},
  };
  for (const auto& c : cases) {
    const Result<Cidr> parsed = parse_cidr(c.text);
    ASSERT_FALSE(parsed.ok()) << "'" << c.text << "' should be refused";
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalid) << c.text;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << c.text << ": " << parsed.error().message;
  }
}

TEST(Cidr, ContainsOnlyAddressesInsideTheRangeAndFamily) {
  const struct {
    std::string_view range;
    std::string_view address;
    bool inside;
  } cases[] = {
      {"10.0.0.0/8", "10.0.0.0", true},
      {"10.0.0.0/8", "10.255.255.255", true},
      {"10.0.0.0/8", "11.0.0.0", false},
      {"10.0.0.0/8", "9.255.255.255", false},
      {"172.16.0.0/12", "172.31.0.1", true},
      {"172.16.0.0/12", "172.32.0.1", false},
      {"192.168.1.0/25", "192.168.1.127", true},
      {"192.168.1.0/25", "192.168.1.128", false},
      {"127.0.0.1", "127.0.0.1", true},
      {"127.0.0.1", "127.0.0.2", false},
      {"0.0.0.0/0", "8.8.8.8", true},
      {"0.0.0.0/0", "::1", false},  // families never mix here
      {"10.0.0.0/8", "::ffff:10.0.0.1", false},
      {"::/0", "10.0.0.1", false},
      {"fd00::/8", "fd12:3456::1", true},
      {"fd00::/8", "fc00::1", false},
      {"fe80::/10", "febf::1", true},
      {"fe80::/10", "fec0::1", false},
      {"::1", "::1", true},
      {"::1", "::2", false},
      {"::/0", "2001:db8::1", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(cidr(c.range).contains(ip(c.address)), c.inside) << c.range << " contains " << c.address;
  }
}

// ---- AddressPolicy ----

TEST(AddressPolicy, StrictPolicyPassesOnlyPublicAddresses) {
  const AddressPolicy strict;
  const std::string_view pass[] = {"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"};
  for (const std::string_view host : pass) EXPECT_TRUE(strict.check(ip(host)).ok()) << host;

  const std::string_view refuse[] = {"127.0.0.1",
                                     "10.0.0.1",
                                     "172.16.0.1",
                                     "192.168.0.1",
                                     "169.254.169.254",
                                     "100.64.0.1",
                                     "0.0.0.0",
                                     "224.0.0.1",
                                     "240.0.0.1",
                                     "255.255.255.255",
                                     "192.0.2.1",
                                     "::1",
                                     "::",
                                     "fd00::1",
                                     "fe80::1",
                                     "ff02::1",
                                     "2001:db8::1",
                                     "::ffff:127.0.0.1",
                                     "64:ff9b::7f00:1",
                                     "2002:7f00:1::"};
  for (const std::string_view host : refuse) {
    const Status status = strict.check(ip(host));
    ASSERT_FALSE(status.ok()) << host;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalid) << host;
  }
}

TEST(AddressPolicy, RefusalMessagesSayWhy) {
  const AddressPolicy strict;
  const struct {
    std::string_view host;
    std::string_view message;
  } cases[] = {
      {"127.0.0.1", "127.0.0.1 is a loopback address"},
      {"2130706433", "127.0.0.1 is a loopback address"},
      {"10.0.0.1", "10.0.0.1 is a private address"},
      {"169.254.169.254", "169.254.169.254 is a link-local address"},
      {"100.64.0.1", "100.64.0.1 is a carrier-grade NAT (CGNAT) address"},
      {"224.0.0.1", "224.0.0.1 is a multicast address"},
      {"192.0.2.1", "192.0.2.1 is a reserved address"},
      {"0.0.0.0", "0.0.0.0 is an unspecified address"},
      {"::1", "::1 is a loopback address"},
      {"::", ":: is an unspecified address"},
      {"::ffff:127.0.0.1", "::ffff:127.0.0.1 is a loopback address"},
      {"64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe is a link-local address (it carries 169.254.169.254)"},
  };
  for (const auto& c : cases) {
    const Status status = strict.check(ip(c.host));
    ASSERT_FALSE(status.ok()) << c.host;
    EXPECT_EQ(status.error().message, c.message) << c.host;
  }
}

TEST(AddressPolicy, AllowLoopbackOpensLoopbackOnly) {
  const AddressPolicy dev({}, /*allow_loopback=*/true);
  for (const std::string_view host : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "2130706433", "8.8.8.8"}) {
    EXPECT_TRUE(dev.check(ip(host)).ok()) << host;
  }
  for (const std::string_view host : {"0.0.0.0", "::", "10.0.0.1", "169.254.169.254", "fd00::1", "fe80::1"}) {
    EXPECT_FALSE(dev.check(ip(host)).ok()) << host;
  }
}

TEST(AddressPolicy, AllowListOpensChosenRangesOnly) {
  const AddressPolicy policy({cidr("10.1.0.0/16"), cidr("fd00:1::/32"), cidr("169.254.169.254")}, false);
  const struct {
    std::string_view host;
    bool allowed;
  } cases[] = {
      {"10.1.0.1", true},
      {"10.1.255.255", true},
      {"10.2.0.1", false},
      {"10.0.255.255", false},
      {"::ffff:10.1.2.3", true},  // the mapped form reaches the same IPv4 host
      {"64:ff9b::10.1.2.3", true},
      {"::ffff:10.2.0.1", false},
      {"fd00:1::5", true},
      {"fd00:2::5", false},
      {"169.254.169.254", true},
      {"169.254.169.253", false},
      {"127.0.0.1", false},  // loopback stays closed without allow_loopback
      {"::1", false},
      {"8.8.8.8", true},  // public addresses always pass
  };
  for (const auto& c : cases) EXPECT_EQ(policy.check(ip(c.host)).ok(), c.allowed) << c.host;
}

TEST(AddressPolicy, AllowListCanOpenLoopbackWithoutDevMode) {
  const AddressPolicy policy({cidr("127.0.0.1")}, false);
  EXPECT_TRUE(policy.check(ip("127.0.0.1")).ok());
  EXPECT_TRUE(policy.check(ip("::ffff:127.0.0.1")).ok());
  EXPECT_FALSE(policy.check(ip("127.0.0.2")).ok());
  EXPECT_FALSE(policy.check(ip("::1")).ok());
}

// ---- check_host ----

TEST(AddressPolicy, CheckHostRefusesNonPublicLiteralsInAnySpelling) {
  const AddressPolicy strict;
  for (const std::string_view host :
       {"127.0.0.1", "127.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.0.0.1.", "10.1",
        "0xa9fea9fe", "169.254.169.254", "0", "[::1]", "::1", "[::ffff:127.0.0.1]", "[fe80::1%25eth0]", "fe80::1%eth0",
        "[::]", "[64:ff9b::7f00:1]"}) {
    EXPECT_FALSE(strict.check_host(host).ok()) << host;
  }
  for (const std::string_view host : {"8.8.8.8", "134744072", "[2606:4700:4700::1111]"}) {
    EXPECT_TRUE(strict.check_host(host).ok()) << host;
  }
}

TEST(AddressPolicy, CheckHostTreatsLocalhostNamesAsLoopback) {
  const AddressPolicy strict;
  for (const std::string_view host : {"localhost", "LOCALHOST", "localhost.", "api.localhost", "a.b.LocalHost."}) {
    const Status status = strict.check_host(host);
    ASSERT_FALSE(status.ok()) << host;
    EXPECT_EQ(status.error().message, std::string(host) + " is a loopback name");
  }
  const AddressPolicy dev({}, true);
  for (const std::string_view host : {"localhost", "api.localhost", "[::1]", "127.0.0.1"}) {
    EXPECT_TRUE(dev.check_host(host).ok()) << host;
  }
  const AddressPolicy allow_listed({cidr("127.0.0.0/8")}, false);
  EXPECT_TRUE(allow_listed.check_host("localhost").ok());
}

TEST(AddressPolicy, CheckHostLetsOtherNamesThroughForConnectTimeChecking) {
  const AddressPolicy strict;
  for (const std::string_view host : {"example.com", "hooks.example.com.", "notlocalhost", "localhost.example.com",
                                      "localhostx", "127.0.0.1.nip.io", "my_service.internal"}) {
    EXPECT_TRUE(strict.check_host(host).ok()) << host;
  }
}

TEST(AddressPolicy, CheckHostRefusesHostsThatAreNeitherNamesNorLiterals) {
  const AddressPolicy dev({}, true);  // even in dev mode
  const struct {
    std::string_view host;
    std::string_view message_part;
  } cases[] = {
      {"", "empty"},
      {"127.0.0.1 ", "whitespace"},
      {"127.0.0.1 .example.com", "whitespace"},
      {"example.com\r\n", "whitespace"},
      {std::string_view("example.com\0.localhost", 22), "control"},
      {"[127.0.0.1]", "not a valid bracketed IPv6 address"},
      {"[::1]:8080", "not a valid bracketed IPv6 address"},
      {"[example.com]", "not a valid bracketed IPv6 address"},
      {"[", "not a valid bracketed IPv6 address"},
  };
  for (const auto& c : cases) {
    const Status status = dev.check_host(c.host);
    ASSERT_FALSE(status.ok()) << "'" << c.host << "'";
    EXPECT_NE(status.error().message.find(c.message_part), std::string::npos) << status.error().message;
  }
}

}  // namespace
}  // namespace repute::core
