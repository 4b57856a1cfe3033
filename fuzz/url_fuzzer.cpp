// URLs and the SSRF guard: parse_http_url, IP literals in every spelling, their classification, the address
// policy's decision on a URL host, and allow-list CIDRs.
#include <netinet/in.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/address_policy.hpp"
#include "core/http_url.hpp"

namespace {

using namespace repute::core;

// A broken invariant: report it and abort, so libFuzzer keeps the input.
void check(bool holds, const char* what, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// The IPv6 address that carries ipv4 at byte offset `at` after the given prefix bytes.
IpAddress carrying(const IpAddress& ipv4, std::initializer_list<std::pair<int, unsigned char>> prefix, int at) {
  IpAddress out;
  out.family = AF_INET6;
  for (const auto& [index, byte] : prefix) out.bytes[static_cast<std::size_t>(index)] = byte;
  for (int i = 0; i < 4; ++i) out.bytes[static_cast<std::size_t>(at + i)] = ipv4.bytes[static_cast<std::size_t>(i)];
  return out;
}

void check_address(const IpAddress& address, std::string_view spelled) {
  check(address.family == AF_INET || address.family == AF_INET6, "literal of an unknown family", spelled);
  if (address.family == AF_INET) {
    for (std::size_t i = 4; i < address.bytes.size(); ++i)
      check(address.bytes[i] == 0, "IPv4 with stray bytes", spelled);
  }
  const AddressClass address_class = classify(address);
  check(to_string(address_class) != "unknown", "classified as no known class", spelled);

  // The canonical spelling reads back as the same address.
  const std::string canonical = address.to_string();
  const auto again = parse_ip_literal(canonical);
  check(again.has_value() && *again == address, "to_string does not parse back to the same address", canonical);
  check(parse_ip_literal("[" + canonical + "]") == (address.family == AF_INET6 ? again : std::nullopt),
        "brackets change the meaning of a literal", canonical);

  // The strict policy lets through public addresses only; --dev adds loopback.
  const AddressPolicy strict;
  const AddressPolicy dev({}, true);
  check(strict.check(address).ok() == (address_class == AddressClass::kPublic), "strict policy disagrees with classify",
        canonical);
  check(dev.check(address).ok() == (address_class == AddressClass::kPublic || address_class == AddressClass::kLoopback),
        "dev policy disagrees with classify", canonical);
  check(strict.check_host(canonical).ok() == strict.check(address).ok(), "check_host disagrees with check", canonical);
  if (address.family == AF_INET6) {
    check(strict.check_host("[" + canonical + "]").ok() == strict.check(address).ok(), "bracketed host disagrees",
          canonical);
  }

  // Every IPv6 form that carries an IPv4 address classifies as that address.
  if (address.family == AF_INET) {
    const IpAddress forms[] = {
        carrying(address, {{10, 0xff}, {11, 0xff}}, 12),           // ::ffff:a.b.c.d
        carrying(address, {{8, 0xff}, {9, 0xff}}, 12),             // ::ffff:0:a.b.c.d
        carrying(address, {{1, 0x64}, {2, 0xff}, {3, 0x9b}}, 12),  // 64:ff9b::a.b.c.d
        carrying(address, {{0, 0x20}, {1, 0x02}}, 2),              // 2002:aabb:ccdd::
    };
    for (const IpAddress& form : forms) {
      check(classify(form) == address_class, "an IPv6 form classifies unlike the IPv4 it carries", form.to_string());
    }
  }
}

void check_url(std::string_view text) {
  const auto url = parse_http_url(text);
  if (!url) {
    check(!url.error().message.empty(), "refused without saying why");
    return;
  }
  check(text.size() <= kMaxUrlLength, "accepted a URL that is too long");
  check(url->scheme == "http" || url->scheme == "https", "accepted a scheme other than http(s)", text);
  check(!url->host.empty(), "accepted a URL without a host", text);
  check(url->port != 0, "accepted port 0", text);
  const bool ipv6_host = url->host.find(':') != std::string::npos;
  for (char c : ipv6_host ? url->scheme : url->scheme + url->host) {
    check(!(c >= 'A' && c <= 'Z'), "host or scheme not lowercase", text);
  }
  // The guard decides on the host the client will dial: a literal is judged as that address.
  const AddressPolicy strict;
  const auto allowed = strict.check_host(url->host);
  if (const auto literal = parse_ip_literal(url->host)) {
    check(allowed.ok() == (classify(*literal) == AddressClass::kPublic), "a URL's literal host judged wrongly", text);
  }
  if (!allowed.ok()) check(!allowed.error().message.empty(), "refused a host without saying why", text);
}

void check_cidr(std::string_view text) {
  const auto cidr = parse_cidr(text);
  if (!cidr) return;
  const int max_prefix = cidr->network.family == AF_INET ? 32 : 128;
  check(cidr->prefix_length >= 0 && cidr->prefix_length <= max_prefix, "prefix length out of range", text);
  check(cidr->contains(cidr->network), "a range does not contain its own network", text);
  const auto again = parse_cidr(cidr->to_string());
  check(again.ok() && again->network == cidr->network && again->prefix_length == cidr->prefix_length,
        "to_string does not parse back to the same range", cidr->to_string());
  // Allow-listing a range lets its network address through, whatever its class.
  const AddressPolicy allowing({*cidr}, false);
  check(allowing.check(cidr->network).ok(), "an allow-listed range still refuses its network", cidr->to_string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_url(text);
  if (const auto literal = parse_ip_literal(text)) check_address(*literal, text);
  const AddressPolicy strict;
  (void)strict.check_host(text);
  check_cidr(text);
  return 0;
}
