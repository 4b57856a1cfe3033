#pragma once
// Parsing untrusted JSON strictly: valid UTF-8, bounded nesting, finite numbers, no key repeated within an object.
#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.hpp"

namespace repute::core {

inline constexpr std::size_t kMaxJsonDepth = 32;

// The parsed document, or an Error (kInvalid) whose message says what is wrong, e.g. duplicate key "name".
Result<boost::json::value> parse_strict_json(std::string_view text);

// A document this server wrote itself (stored metadata); an empty object if it cannot be read, never an exception.
boost::json::value parse_stored_json(std::string_view text);

}  // namespace repute::core
