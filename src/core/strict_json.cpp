#include "core/strict_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace repute::core {
namespace {

namespace json = boost::json;

// A basic_parser handler that builds nothing: it only finds the first key repeated within one object.
struct DuplicateKeyFinder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string>> open_objects;
  std::string key;
  std::optional<std::string> duplicate;
  bool out_of_range = false;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    open_objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    open_objects.pop_back();
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
    key.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, json::error_code& ec) {
    key.append(part.data(), part.size());
    if (!open_objects.back().insert(key).second && !duplicate) {
      duplicate = key;
      ec = json::error::syntax;  // stop early; the caller reports the duplicate
      return false;
    }
    key.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double value, json::string_view, json::error_code& ec) {
    // Boost.JSON reads 1e400 as infinity; such a number has no JSON form to write back.
    if (std::isfinite(value)) return true;
    if (!duplicate) out_of_range = true;
    ec = json::error::syntax;
    return false;
  }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

json::parse_options strict_options() {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return options;
}

}  // namespace

Result<json::value> parse_strict_json(std::string_view text) {
  json::error_code ec;
  json::value value = json::parse(text, ec, {}, strict_options());
  if (ec) return invalid(ec.message());
  json::basic_parser<DuplicateKeyFinder> finder(strict_options());
  finder.write_some(false, text.data(), text.size(), ec);
  if (finder.handler().duplicate) return invalid("duplicate key \"" + *finder.handler().duplicate + "\"");
  if (finder.handler().out_of_range) return invalid("a number is out of range");
  return value;
}

json::value parse_stored_json(std::string_view text) {
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return json::object();
  return value;
}

}  // namespace repute::core
