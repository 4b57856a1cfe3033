// The operator console (DESIGN §7): static files under /console/, answered from the binary. The page talks to
// the public API only; its Content-Security-Policy allows nothing but this server's own scripts, styles and API.
#include "api/console_assets.hpp"
#include "api/responses.hpp"
#include "api/routes.hpp"

namespace repute::api {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ConsoleAsset* find_asset(std::string_view path) {
  if (path == "/console/") path = "/console/index.html";
  for (const ConsoleAsset& asset : console_assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

void serve_asset(const HttpRequest& request, Respond respond) {
  if (request.path == "/console") {
    return respond({308, "", "text/plain", {{"Location", "/console/"}}});
  }
  const ConsoleAsset* asset = find_asset(request.path);
  if (!asset) return respond(detail_response(404, "Not found."));
  HttpResponse response{200, std::string(asset->body), std::string(asset->content_type), {}};
  response.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Referrer-Policy", "no-referrer"},
                      {"Cache-Control", "no-cache"},
                      {"ETag", std::string(asset->etag)}};
  if (const std::string* seen = request.header("If-None-Match"); seen && *seen == asset->etag) {
    response.status = 304;
    response.body.clear();
  }
  respond(std::move(response));
}

}  // namespace

void add_console_routes(Router& router) {
  const auto handler = [](const HttpRequest& request, const PathParams&, Respond respond) {
    serve_asset(request, std::move(respond));
  };
  for (const char* pattern : {"/console", "/console/{a}", "/console/{a}/{b}", "/console/{a}/{b}/{c}"}) {
    router.add("GET", pattern, handler);
  }
}

}  // namespace repute::api
