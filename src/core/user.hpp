#pragma once
// User: a worker whose gig accounts are scanned.
#include <optional>
#include <string>

#include "core/time.hpp"

namespace repute::core {

// A user as stored; metadata is a JSON object kept as its serialized text.
struct User {
  std::string id;
  std::string tenant_id;
  std::optional<std::string> external_id;
  std::string metadata = "{}";
  Micros created_at = 0;
};

}  // namespace repute::core
