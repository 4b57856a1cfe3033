// List requests: the query string as the server splits it, ?limit= and ?cursor= (read_page_request), the cursor
// text itself, the next/previous links a page answers with, and the UUID filters (?user=, ?account=).
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "api/pagination.hpp"
#include "api/route_helpers.hpp"
#include "core/strict_json.hpp"

namespace {

using namespace repute;
namespace json = boost::json;

// A broken invariant: report it and abort, so libFuzzer keeps the input.
void check(bool holds, const char* what, std::string_view detail = {}) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

bool same(const store::Cursor& a, const store::Cursor& b) {
  return a.direction == b.direction && a.position == b.position;
}

void check_cursor_round_trip(const store::Cursor& cursor) {
  const std::string text = api::encode_cursor(cursor);
  for (char c : text) {
    const bool url_safe =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    check(url_safe, "an encoded cursor needs escaping in a URL", text);
  }
  const auto decoded = api::decode_cursor(text);
  check(decoded.has_value() && same(*decoded, cursor), "a cursor does not decode to itself", text);
}

void check_cursor_text(std::string_view text) {
  const auto cursor = api::decode_cursor(text);
  if (!cursor) return;
  check(cursor->position >= 0, "decoded a negative position", text);
  check_cursor_round_trip(*cursor);
}

// The request the server builds for GET path?query, or nullopt when the server answers 400 for the target.
std::optional<api::HttpRequest> request_for(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  api::HttpRequest request;
  request.method = "GET";
  request.host = "127.0.0.1:8080";
  request.path = std::string(parsed->encoded_path());
  for (const auto& param : parsed->params()) request.query.emplace_back(param.key, param.value);
  return request;
}

void check_json_400(const api::HttpResponse& response) {
  check(response.status == 400, "a refusal that is not 400", std::to_string(response.status));
  auto body = core::parse_strict_json(response.body);
  check(body.ok() && body->is_object(), "a refusal that is not a JSON object", response.body);
}

// Following a page's link asks for exactly the page it names, with the other parameters kept.
void check_link(const api::HttpRequest& request, const json::value& link, int limit, const store::Cursor& cursor) {
  check(link.is_string(), "a page link that is not a string");
  const std::string url(link.as_string());
  auto parsed = boost::urls::parse_absolute_uri(url);
  check(parsed.has_value(), "a page link that is not a URL", url);
  auto followed = request_for(std::string(parsed->encoded_resource()));
  check(followed.has_value(), "a page link the server cannot read", url);
  auto asked = api::read_page_request(*followed);
  auto* page = std::get_if<store::PageRequest>(&asked);
  check(page != nullptr, "a page link the server refuses", url);
  check(page->limit == limit && page->cursor && same(*page->cursor, cursor), "a page link names another page", url);
  std::vector<std::pair<std::string, std::string>> kept, carried;
  for (const auto& param : request.query) {
    if (param.first != "cursor" && param.first != "limit") kept.push_back(param);
  }
  for (const auto& param : followed->query) {
    if (param.first != "cursor" && param.first != "limit") carried.push_back(param);
  }
  check(kept == carried, "a page link loses or changes the other parameters", url);
}

void check_query(std::string_view query, const store::Cursor& next) {
  const auto request = request_for("/v1/webhooks?" + std::string(query));
  if (!request) return;
  auto asked = api::read_page_request(*request);
  if (auto* refused = std::get_if<api::HttpResponse>(&asked)) {
    check_json_400(*refused);
    return;
  }
  const store::PageRequest& page = std::get<store::PageRequest>(asked);
  check(page.limit >= 1 && page.limit <= api::kMaxPageSize, "a page size out of range");
  check(page.cursor.has_value() == (request->query_param("cursor") != nullptr), "a cursor appeared or vanished");

  const json::object body = api::page_body(*request, page, next, page.cursor, json::array{});
  const std::string text = json::serialize(body);
  check(core::parse_strict_json(text).ok(), "a page body that is not valid JSON", text);
  check_link(*request, body.at("next"), page.limit, next);
  if (page.cursor) check_link(*request, body.at("previous"), page.limit, *page.cursor);

  for (const char* filter : {"user", "account"}) {
    auto chosen = api::uuid_filter(*request, filter);
    if (auto* refused = std::get_if<api::HttpResponse>(&chosen)) check_json_400(*refused);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_cursor_text(text);
  // The first 9 bytes, when there are that many, also make a cursor of any position.
  store::Cursor next;
  if (size >= 9) {
    std::uint64_t bits;
    std::memcpy(&bits, data + 1, sizeof bits);
    next.direction = (data[0] & 1) ? store::Cursor::Direction::kBefore : store::Cursor::Direction::kAfter;
    next.position = static_cast<std::int64_t>(bits & 0x7fffffffffffffffULL);
    check_cursor_round_trip(next);
  }
  check_query(text, next);
  return 0;
}
