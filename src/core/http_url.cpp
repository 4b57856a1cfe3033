#include "core/http_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace repute::core {

Result<HttpUrl> parse_http_url(std::string_view text) {
  if (text.size() > kMaxUrlLength) {
    return invalid("Ensure this field has no more than " + std::to_string(kMaxUrlLength) + " characters.");
  }
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return invalid("Enter a valid URL.");
  const boost::urls::url_view& url = *parsed;
  HttpUrl out;
  out.scheme = std::string(url.scheme());
  for (char& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "http" && out.scheme != "https") return invalid("Enter a valid URL: the scheme must be http or https.");
  if (!url.has_authority() || url.encoded_host().empty()) return invalid("Enter a valid URL: it has no host.");
  if (url.host_type() == boost::urls::host_type::ipv6) {
    out.host = std::string(url.host_address());
  } else if (url.host_type() == boost::urls::host_type::ipvfuture) {
    return invalid("Enter a valid URL: the host is not supported.");
  } else {
    out.host = std::string(url.host());
    for (char& c : out.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (url.has_port()) {
    // Compared as text: Boost.URL's port_number() wraps some values above 65535.
    const std::string_view port = url.port();
    const bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || std::stoul(std::string(port)) > 65535 || url.port_number() == 0) {
      return invalid("Enter a valid URL: the port is not valid.");
    }
    out.port = url.port_number();
  } else {
    out.port = out.scheme == "https" ? 443 : 80;
  }
  return out;
}

}  // namespace repute::core
