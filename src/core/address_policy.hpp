#pragma once
// Address classification for the SSRF guard: parse IP literals in every spelling a resolver accepts, classify them
// (loopback, private, link-local, ...), and decide whether a webhook target may be dialled. Pure computation: no
// resolving, no sockets.
#include <sys/socket.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace repute::core {

// An IPv4 or IPv6 address. IPv4 uses bytes[0..3] (network order) and leaves the rest zero; IPv6 uses all 16.
struct IpAddress {
  int family = AF_INET;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};

  // The canonical text form: dotted quad, or RFC 5952 IPv6 ("::1", "::ffff:127.0.0.1"); no brackets, no zone.
  std::string to_string() const;

  // Reads an AF_INET or AF_INET6 socket address (e.g. from getaddrinfo); nullopt for any other family.
  static std::optional<IpAddress> from_sockaddr(const sockaddr* address);

  // Equal when family and all bytes match (so ::ffff:127.0.0.1 differs from 127.0.0.1).
  bool operator==(const IpAddress&) const = default;
};

// Parses host when it is an IP literal in any spelling the system resolver accepts, else nullopt (a DNS name).
// IPv4: dotted quad and the inet_aton legacy forms ("2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "10.1"), with
// one trailing dot allowed ("127.0.0.1."). IPv6: with or without brackets; a zone id ("fe80::1%eth0",
// "[fe80::1%25eth0]") is accepted and dropped, since it never changes the class. Any whitespace or control character
// makes the host a non-literal (glibc's inet_aton would otherwise ignore everything after a space).
std::optional<IpAddress> parse_ip_literal(std::string_view host);

// What an address is, as far as the SSRF guard cares; everything but kPublic is refused by default.
enum class AddressClass { kPublic, kLoopback, kPrivate, kLinkLocal, kCgnat, kMulticast, kReserved, kUnspecified };

// A short lowercase name for the class ("public", "loopback", "private", "link-local", "cgnat", ...).
std::string_view to_string(AddressClass address_class);

// Classifies an address. IPv6 forms that carry an IPv4 address (mapped ::ffff:0:0/96, compatible ::/96, translated
// ::ffff:0:0:0/96, NAT64 64:ff9b::/96, and 6to4 2002::/16) classify as that IPv4 address; IPv6 outside the global
// unicast range 2000::/3 and not otherwise named is kReserved.
AddressClass classify(const IpAddress& address);

// An address range: network with the low (width - prefix_length) bits zero.
struct Cidr {
  IpAddress network;
  int prefix_length = 0;

  // True when address has the same family and its first prefix_length bits equal the network's.
  bool contains(const IpAddress& address) const;

  // The range as "network/prefix" text, e.g. "10.0.0.0/8".
  std::string to_string() const;
};

// Parses "10.0.0.0/8", "fd00::/8", or a bare address ("127.0.0.1" means /32, "::1" /128). Addresses must be in
// standard form (dotted quad or IPv6, no brackets); host bits set below the prefix are an error, not silently masked.
Result<Cidr> parse_cidr(std::string_view text);

// The SSRF guard's decision: public addresses pass; others pass only when inside an allow-listed CIDR, or when
// loopback and allow_loopback is set (the server's --dev mode).
class AddressPolicy {
 public:
  // Strict: only public addresses pass.
  AddressPolicy() = default;

  // Opens the given ranges, and loopback when allow_loopback is set.
  AddressPolicy(std::vector<Cidr> allow_list, bool allow_loopback);

  // ok_status(), or a kInvalid Error saying why, e.g. "127.0.0.1 is a loopback address". An IPv6 address that
  // carries an IPv4 address also passes when an allow-listed IPv4 range contains the carried address.
  Status check(const IpAddress& address) const;

  // Checks a URL host at subscription time: a literal is checked as above; "localhost" and names ending in
  // ".localhost" count as loopback; any other DNS name passes (it is checked again, resolved, at connect time).
  // Empty hosts, hosts with whitespace or control characters, and bracketed hosts that are not IPv6 are refused.
  Status check_host(std::string_view host) const;

 private:
  bool allow_listed(const IpAddress& address) const;

  std::vector<Cidr> allow_list_;
  bool allow_loopback_ = false;
};

}  // namespace repute::core
