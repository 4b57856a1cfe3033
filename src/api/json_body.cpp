#include "api/json_body.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <optional>
#include <set>
#include <vector>

#include "api/responses.hpp"

namespace repute::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxDepth = 32;

// A basic_parser handler that builds nothing: it only finds the first key repeated within one object.
struct DuplicateKeyFinder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string>> open_objects;
  std::string key;
  std::optional<std::string> duplicate;

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
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

json::parse_options strict_options() {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  return options;
}

bool is_json_content_type(const std::string& content_type) {
  if (content_type.empty()) return true;
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
}

}  // namespace

std::variant<json::object, HttpResponse> parse_json_object(const HttpRequest& request) {
  if (!is_json_content_type(request.content_type)) {
    return detail_response(415, "Unsupported media type \"" + request.content_type + "\" in request.");
  }
  if (request.body.empty()) return detail_response(400, "JSON parse error - the request body is empty.");
  json::error_code ec;
  json::value value = json::parse(request.body, ec, {}, strict_options());
  if (ec) return detail_response(400, "JSON parse error - " + ec.message() + ".");
  json::basic_parser<DuplicateKeyFinder> finder(strict_options());
  finder.write_some(false, request.body.data(), request.body.size(), ec);
  if (finder.handler().duplicate) {
    return detail_response(400, "JSON parse error - duplicate key \"" + *finder.handler().duplicate + "\".");
  }
  if (!value.is_object()) {
    return json_response(400, json::object{{"non_field_errors", json::array{"Invalid data. Expected a dictionary, but got " +
                                                                            std::string(json::to_string(value.kind())) + "."}}});
  }
  return std::move(value.as_object());
}

}  // namespace repute::api
