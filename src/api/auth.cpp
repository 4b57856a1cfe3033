#include "api/auth.hpp"

#include "api/responses.hpp"
#include "core/base64.hpp"

namespace repute::api {
namespace {

HttpResponse unauthorized() {
  HttpResponse response = detail_response(401, "Invalid username/password.");
  response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"repute\"");
  return response;
}

// The key id and secret of a "Basic base64(id:secret)" header.
std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view encoded(header);
  encoded.remove_prefix(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  auto decoded = core::base64_decode(encoded);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

}  // namespace

RouteHandler authenticated(store::Store& store, TenantHandler handler) {
  return [&store, handler = std::move(handler)](const HttpRequest& request, const PathParams& params, Respond respond) {
    auto credentials = basic_credentials(request.authorization);
    if (!credentials) return respond(unauthorized());
    auto key = store.find_api_key(credentials->first);
    if (!key) return respond(error_response(key.error()));
    // The secret is checked even when the key is unknown or revoked, so timing tells nothing.
    const core::ApiKey& known = *key ? **key : core::ApiKey{};
    const bool secret_ok = core::key_secret_matches(known, credentials->second);
    if (!*key || known.revoked_at || !secret_ok) return respond(unauthorized());
    handler(request, Caller{known.tenant_id, known.id}, params, std::move(respond));
  };
}

}  // namespace repute::api
