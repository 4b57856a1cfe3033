#pragma once
// Tenants and their API keys: who may call the API, and whose objects they see.
#include <optional>
#include <string>

#include "core/time.hpp"

namespace repute::core {

// A customer of the server; every object belongs to exactly one.
struct Tenant {
  std::string id;
  std::string name;
  Micros created_at = 0;
};

// An API key; only a hash of its secret is stored.
struct ApiKey {
  std::string id;
  std::string tenant_id;
  std::string secret_hash;  // lowercase hex SHA-256 of the secret
  Micros created_at = 0;
  std::optional<Micros> revoked_at;
};

// A freshly made key: the only moment its secret is known.
struct IssuedKey {
  ApiKey key;
  std::string secret;
};

// Makes a new key for tenant_id with a random secret.
IssuedKey issue_api_key(const std::string& tenant_id, Micros now);

// The stored form of a key secret.
std::string hash_key_secret(std::string_view secret);

// True when secret hashes to key.secret_hash; compares in constant time.
bool key_secret_matches(const ApiKey& key, std::string_view secret);

}  // namespace repute::core
