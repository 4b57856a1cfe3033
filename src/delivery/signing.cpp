#include "delivery/signing.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>

namespace repute::delivery {
namespace {

constexpr std::string_view kWhsecPrefix = "whsec_";

// HMAC can only fail here on allocation failure or a broken OpenSSL install: a broken invariant, not an input error.
[[noreturn]] void openssl_failed(const char* what) {
  std::fprintf(stderr, "repute: OpenSSL %s failed while signing a webhook\n", what);
  std::abort();
}

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// The HMAC implementation, fetched once; an EVP_MAC may be shared between threads.
EVP_MAC* hmac_algorithm() {
  static const std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) openssl_failed("EVP_MAC_fetch(HMAC)");
  return mac.get();
}

// HMAC over the concatenation of parts, so the body is never copied.
std::string hmac(const char* digest, std::string_view key, std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  if (!ctx) openssl_failed("EVP_MAC_CTX_new");
  std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key means "keep the previous key" to OpenSSL; an empty secret must still be a (zero-length) key.
  static const unsigned char kNoBytes = 0;
  const auto* key_bytes = key.empty() ? &kNoBytes : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params.data()) != 1) openssl_failed("EVP_MAC_init");
  for (std::string_view part : parts) {
    if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size()) != 1) {
      openssl_failed("EVP_MAC_update");
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t out_len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1) openssl_failed("EVP_MAC_final");
  return std::string(reinterpret_cast<const char*>(out.data()), out_len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

std::string to_base64(std::string_view bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock writes a trailing NUL
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  text.resize(static_cast<std::size_t>(written));
  return text;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Decodes canonical, padded standard base64. EVP_DecodeBlock alone is not enough: it skips surrounding whitespace,
// and it decodes "=" padding as zero bytes that the caller must strip, so the shape is checked here first.
std::optional<std::string> from_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (!is_base64_char(text[i])) return std::nullopt;
  }
  std::string bytes(text.size() / 4 * 3, '\0');
  const int decoded =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (decoded < 0 || static_cast<std::size_t>(decoded) != bytes.size()) return std::nullopt;
  bytes.resize(bytes.size() - padding);
  return bytes;
}

}  // namespace

std::string argyle_signature(std::string_view secret, std::string_view body) {
  return to_hex(hmac("SHA512", secret, {body}));
}

std::string standard_webhooks_signature(std::string_view secret, std::string_view msg_id,
                                        std::int64_t timestamp_seconds, std::string_view body) {
  std::optional<std::string> decoded;
  if (secret.starts_with(kWhsecPrefix)) decoded = from_base64(secret.substr(kWhsecPrefix.size()));
  const std::string_view key = decoded ? std::string_view(*decoded) : secret;
  const std::string timestamp = std::to_string(timestamp_seconds);
  return "v1," + to_base64(hmac("SHA256", key, {msg_id, ".", timestamp, ".", body}));
}

SignedHeaders sign_delivery(const std::optional<std::string>& secret, std::string_view webhook_id,
                            std::int64_t timestamp_seconds, std::string_view body) {
  return sign_delivery(secret ? std::vector<std::string>{*secret} : std::vector<std::string>{}, webhook_id,
                       timestamp_seconds, body);
}

SignedHeaders sign_delivery(const std::vector<std::string>& secrets, std::string_view webhook_id,
                            std::int64_t timestamp_seconds, std::string_view body) {
  SignedHeaders signed_headers;
  auto& headers = signed_headers.headers;
  headers.reserve(secrets.empty() ? 3 : 5);
  headers.emplace_back("Content-Type", "application/json");
  headers.emplace_back("webhook-id", std::string(webhook_id));
  headers.emplace_back("webhook-timestamp", std::to_string(timestamp_seconds));
  if (!secrets.empty()) {
    headers.emplace_back("X-Argyle-Signature", argyle_signature(secrets.front(), body));
    std::string signatures;
    for (const std::string& secret : secrets) {
      if (!signatures.empty()) signatures += ' ';
      signatures += standard_webhooks_signature(secret, webhook_id, timestamp_seconds, body);
    }
    headers.emplace_back("webhook-signature", std::move(signatures));
  }
  return signed_headers;
}

}  // namespace repute::delivery
