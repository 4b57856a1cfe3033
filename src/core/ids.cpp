#include "core/ids.hpp"

#include "core/base64.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace repute::core {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void fill_random(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("the system random generator failed");
}

}  // namespace

std::string new_uuid() {
  // RFC 9562 version 7: 48 bits of Unix milliseconds, then 74 random bits. Ids made one after another sort
  // (almost) in order, so the unique indexes on them grow at their right edge instead of at a random page.
  std::array<unsigned char, 16> bytes{};
  fill_random(bytes.data(), bytes.size());
  const auto millis = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(millis >> (40 - 8 * i));
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string random_hex(std::size_t n) {
  std::string bytes(n, '\0');
  fill_random(reinterpret_cast<unsigned char*>(bytes.data()), n);
  std::string out;
  out.reserve(2 * n);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::string new_webhook_secret() {
  std::string bytes(24, '\0');
  fill_random(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  return "whsec_" + base64_encode(bytes);
}

}  // namespace repute::core
