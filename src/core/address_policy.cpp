#include "core/address_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace repute::core {
namespace {

using Bytes = std::array<unsigned char, 16>;

struct Ipv4Range {
  std::uint32_t network;
  int prefix_length;
  AddressClass address_class;
};

// First match wins, so 0.0.0.0/32 precedes 0.0.0.0/8. Anything not listed is public.
constexpr Ipv4Range kIpv4Ranges[] = {
    {0x00000000, 32, AddressClass::kUnspecified},  // 0.0.0.0
    {0x00000000, 8, AddressClass::kReserved},      // 0.0.0.0/8 "this network"
    {0x0a000000, 8, AddressClass::kPrivate},       // 10.0.0.0/8
    {0x64400000, 10, AddressClass::kCgnat},        // 100.64.0.0/10 (includes Alibaba metadata 100.100.100.200)
    {0x7f000000, 8, AddressClass::kLoopback},      // 127.0.0.0/8
    {0xa9fe0000, 16, AddressClass::kLinkLocal},    // 169.254.0.0/16 (includes metadata 169.254.169.254)
    {0xac100000, 12, AddressClass::kPrivate},      // 172.16.0.0/12
    {0xc0000000, 24, AddressClass::kReserved},     // 192.0.0.0/24 IETF protocol assignments (Oracle metadata)
    {0xc0000200, 24, AddressClass::kReserved},     // 192.0.2.0/24 TEST-NET-1
    {0xc0586300, 24, AddressClass::kReserved},     // 192.88.99.0/24 deprecated 6to4 relay anycast
    {0xc0a80000, 16, AddressClass::kPrivate},      // 192.168.0.0/16
    {0xc6120000, 15, AddressClass::kReserved},     // 198.18.0.0/15 benchmarking
    {0xc6336400, 24, AddressClass::kReserved},     // 198.51.100.0/24 TEST-NET-2
    {0xcb007100, 24, AddressClass::kReserved},     // 203.0.113.0/24 TEST-NET-3
    {0xe0000000, 4, AddressClass::kMulticast},     // 224.0.0.0/4
    {0xf0000000, 4, AddressClass::kReserved},      // 240.0.0.0/4, includes broadcast 255.255.255.255
};

struct Ipv6Range {
  Bytes network;
  int prefix_length;
  AddressClass address_class;
};

// Checked after ::, ::1 and the IPv4-carrying forms. Anything not listed and outside 2000::/3 is reserved.
constexpr Ipv6Range kIpv6Ranges[] = {
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, AddressClass::kReserved},  // 64:ff9b:1::/48 local-use NAT64
    {{0x01, 0x00}, 64, AddressClass::kReserved},                          // 100::/64 discard-only
    {{0x20, 0x01, 0x00, 0x00}, 23, AddressClass::kReserved},              // 2001::/23 IETF (Teredo, ORCHID, ...)
    {{0x20, 0x01, 0x0d, 0xb8}, 32, AddressClass::kReserved},              // 2001:db8::/32 documentation
    {{0x3f, 0xff}, 20, AddressClass::kReserved},                          // 3fff::/20 documentation
    {{0xfc}, 7, AddressClass::kPrivate},                                  // fc00::/7 unique local (AWS fd00:ec2::254)
    {{0xfe, 0x80}, 10, AddressClass::kLinkLocal},                         // fe80::/10
    {{0xfe, 0xc0}, 10, AddressClass::kPrivate},                           // fec0::/10 deprecated site-local
    {{0xff}, 8, AddressClass::kMulticast},                                // ff00::/8
};

constexpr Bytes kGlobalUnicast = {0x20};  // 2000::/3

// True when the first prefix_length bits of a and b agree.
bool prefix_matches(const Bytes& a, const Bytes& b, int prefix_length) {
  const auto whole = static_cast<std::size_t>(prefix_length / 8);
  if (!std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(whole), b.begin())) return false;
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

std::uint32_t ipv4_value(const unsigned char* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
         std::uint32_t{bytes[3]};
}

IpAddress ipv4_from(const unsigned char* bytes) {
  IpAddress address;
  address.family = AF_INET;
  std::copy(bytes, bytes + 4, address.bytes.begin());
  return address;
}

bool all_zero(const Bytes& bytes, std::size_t from, std::size_t to) {
  return std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.begin() + static_cast<std::ptrdiff_t>(to),
                     [](unsigned char b) { return b == 0; });
}

// The IPv4 address an IPv6 address carries, for the forms that route (or translate) to it.
std::optional<IpAddress> embedded_ipv4(const IpAddress& address) {
  if (address.family != AF_INET6) return std::nullopt;
  const Bytes& b = address.bytes;
  const unsigned char* tail = b.data() + 12;
  if (all_zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return ipv4_from(tail);  // ::ffff:0:0/96 mapped
  if (all_zero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && all_zero(b, 10, 12)) {
    return ipv4_from(tail);  // ::ffff:0:0:0/96 translated (SIIT)
  }
  if (all_zero(b, 0, 12) && ipv4_value(tail) > 1) return ipv4_from(tail);  // ::/96 compatible, except :: and ::1
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && all_zero(b, 4, 12)) {
    return ipv4_from(tail);  // 64:ff9b::/96 well-known NAT64
  }
  if (b[0] == 0x20 && b[1] == 0x02) return ipv4_from(b.data() + 2);  // 2002::/16 6to4
  return std::nullopt;
}

AddressClass classify_ipv4(std::uint32_t value) {
  for (const Ipv4Range& range : kIpv4Ranges) {
    const std::uint32_t mask = range.prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix_length);
    if ((value & mask) == range.network) return range.address_class;
  }
  return AddressClass::kPublic;
}

AddressClass classify_ipv6(const IpAddress& address) {
  const Bytes& b = address.bytes;
  if (all_zero(b, 0, 16)) return AddressClass::kUnspecified;
  if (all_zero(b, 0, 15) && b[15] == 1) return AddressClass::kLoopback;
  if (const auto ipv4 = embedded_ipv4(address)) return classify_ipv4(ipv4_value(ipv4->bytes.data()));
  for (const Ipv6Range& range : kIpv6Ranges) {
    if (prefix_matches(b, range.network, range.prefix_length)) return range.address_class;
  }
  if (!prefix_matches(b, kGlobalUnicast, 3)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

bool has_space_or_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// Strict IPv6 text (no brackets, no zone) as inet_pton reads it.
std::optional<IpAddress> parse_ipv6(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  IpAddress address;
  address.family = AF_INET6;
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

// IPv6 text that may carry a zone id ("fe80::1%eth0"); the zone is dropped.
std::optional<IpAddress> parse_ipv6_with_zone(std::string_view text) {
  const std::size_t percent = text.find('%');
  if (percent != std::string_view::npos) {
    if (percent + 1 == text.size()) return std::nullopt;
    text = text.substr(0, percent);
  }
  return parse_ipv6(text);
}

// Every IPv4 spelling inet_aton accepts (the one getaddrinfo uses), plus one trailing dot.
std::optional<IpAddress> parse_ipv4_any(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  const std::string copy(text);
  in_addr parsed{};
  if (inet_aton(copy.c_str(), &parsed) == 0) return std::nullopt;
  IpAddress address;
  address.family = AF_INET;
  std::memcpy(address.bytes.data(), &parsed.s_addr, 4);
  return address;
}

// A CIDR prefix length: plain decimal digits (no sign, no spaces) from 0 to max_prefix.
std::optional<int> parse_prefix_length(std::string_view text, int max_prefix) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max_prefix) return std::nullopt;
  return value;
}

// address with every bit after the first prefix_length cleared.
IpAddress masked(const IpAddress& address, int prefix_length) {
  IpAddress out = address;
  const auto whole = static_cast<std::size_t>(prefix_length / 8);
  if (whole >= out.bytes.size()) return out;
  out.bytes[whole] &= static_cast<unsigned char>(0xff << (8 - prefix_length % 8));
  std::fill(out.bytes.begin() + static_cast<std::ptrdiff_t>(whole) + 1, out.bytes.end(), 0);
  return out;
}

std::string_view describe(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "a public address";
    case AddressClass::kLoopback:
      return "a loopback address";
    case AddressClass::kPrivate:
      return "a private address";
    case AddressClass::kLinkLocal:
      return "a link-local address";
    case AddressClass::kCgnat:
      return "a carrier-grade NAT (CGNAT) address";
    case AddressClass::kMulticast:
      return "a multicast address";
    case AddressClass::kReserved:
      return "a reserved address";
    case AddressClass::kUnspecified:
      return "an unspecified address";
  }
  return "an unknown kind of address";
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) return "<invalid address>";
  return text;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  IpAddress out;
  if (address->sa_family == AF_INET) {
    sockaddr_in in4{};
    std::memcpy(&in4, address, sizeof in4);
    out.family = AF_INET;
    std::memcpy(out.bytes.data(), &in4.sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    out.family = AF_INET6;
    std::memcpy(out.bytes.data(), &in6.sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<IpAddress> parse_ip_literal(std::string_view host) {
  if (host.empty() || has_space_or_control(host)) return std::nullopt;
  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return std::nullopt;
    return parse_ipv6_with_zone(host.substr(1, host.size() - 2));
  }
  if (host.find(':') != std::string_view::npos) return parse_ipv6_with_zone(host);
  return parse_ipv4_any(host);
}

std::string_view to_string(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kCgnat:
      return "cgnat";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
    case AddressClass::kUnspecified:
      return "unspecified";
  }
  return "unknown";
}

AddressClass classify(const IpAddress& address) {
  if (address.family == AF_INET) return classify_ipv4(ipv4_value(address.bytes.data()));
  if (address.family == AF_INET6) return classify_ipv6(address);
  return AddressClass::kReserved;
}

bool Cidr::contains(const IpAddress& address) const {
  return address.family == network.family && prefix_matches(address.bytes, network.bytes, prefix_length);
}

std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix_length); }

Result<Cidr> parse_cidr(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return invalid("an allow-list entry is empty (expected a CIDR such as 10.0.0.0/8 or fd00::/8)");
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);

  std::optional<IpAddress> address;
  if (address_text.find(':') != std::string_view::npos) {
    address = parse_ipv6(address_text);
  } else if (!address_text.empty() && address_text.size() < INET_ADDRSTRLEN && !has_space_or_control(address_text)) {
    IpAddress v4;
    v4.family = AF_INET;
    if (inet_pton(AF_INET, std::string(address_text).c_str(), v4.bytes.data()) == 1) address = v4;
  }
  if (!address) {
    return invalid(quoted + " is not a CIDR range: '" + std::string(address_text) +
                   "' is not an IPv4 dotted quad or an IPv6 address (expected e.g. 10.0.0.0/8 or fd00::/8)");
  }

  const int max_prefix = address->family == AF_INET ? 32 : 128;
  int prefix_length = max_prefix;
  if (slash != std::string_view::npos) {
    const std::optional<int> parsed = parse_prefix_length(text.substr(slash + 1), max_prefix);
    if (!parsed) {
      return invalid(quoted + " is not a CIDR range: the prefix length must be a number from 0 to " +
                     std::to_string(max_prefix));
    }
    prefix_length = *parsed;
  }

  const Cidr range{masked(*address, prefix_length), prefix_length};
  if (!(range.network == *address)) {
    return invalid(quoted + " has bits set after its /" + std::to_string(prefix_length) + " prefix; did you mean " +
                   range.to_string() + "?");
  }
  return range;
}

AddressPolicy::AddressPolicy(std::vector<Cidr> allow_list, bool allow_loopback)
    : allow_list_(std::move(allow_list)), allow_loopback_(allow_loopback) {}

bool AddressPolicy::allow_listed(const IpAddress& address) const {
  const std::optional<IpAddress> carried = embedded_ipv4(address);
  return std::any_of(allow_list_.begin(), allow_list_.end(), [&](const Cidr& range) {
    return range.contains(address) || (carried && range.contains(*carried));
  });
}

Status AddressPolicy::check(const IpAddress& address) const {
  const AddressClass address_class = classify(address);
  if (address_class == AddressClass::kPublic) return ok_status();
  if (address_class == AddressClass::kLoopback && allow_loopback_) return ok_status();
  if (allow_listed(address)) return ok_status();
  std::string message = address.to_string() + " is " + std::string(describe(address_class));
  if (const auto carried = embedded_ipv4(address); carried && address.to_string().find('.') == std::string::npos) {
    message += " (it carries " + carried->to_string() + ")";
  }
  return invalid(std::move(message));
}

Status AddressPolicy::check_host(std::string_view host) const {
  if (host.empty()) return invalid("the URL host is empty");
  if (has_space_or_control(host)) return invalid("the URL host contains whitespace or control characters");
  if (const auto literal = parse_ip_literal(host)) return check(*literal);
  if (host.front() == '[') return invalid("'" + std::string(host) + "' is not a valid bracketed IPv6 address");

  std::string name = to_lower(host);
  if (name.back() == '.') name.pop_back();
  const bool loopback_name = name == "localhost" || (name.size() > 10 && name.ends_with(".localhost"));
  if (!loopback_name) return ok_status();
  IpAddress loopback_v4;
  loopback_v4.family = AF_INET;
  loopback_v4.bytes[0] = 127;
  loopback_v4.bytes[3] = 1;
  IpAddress loopback_v6;
  loopback_v6.family = AF_INET6;
  loopback_v6.bytes[15] = 1;
  if (check(loopback_v4).ok() || check(loopback_v6).ok()) return ok_status();
  return invalid(std::string(host) + " is a loopback name");
}

}  // namespace repute::core
