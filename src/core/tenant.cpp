#include "core/tenant.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/ids.hpp"

namespace repute::core {

IssuedKey issue_api_key(const std::string& tenant_id, Micros now) {
  IssuedKey issued;
  issued.secret = random_hex(24);
  issued.key.id = new_uuid();
  issued.key.tenant_id = tenant_id;
  issued.key.secret_hash = hash_key_secret(issued.secret);
  issued.key.created_at = now;
  return issued;
}

std::string hash_key_secret(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

bool key_secret_matches(const ApiKey& key, std::string_view secret) {
  const std::string candidate = hash_key_secret(secret);
  return candidate.size() == key.secret_hash.size() &&
         CRYPTO_memcmp(candidate.data(), key.secret_hash.data(), candidate.size()) == 0;
}

}  // namespace repute::core
