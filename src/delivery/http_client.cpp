#include "delivery/http_client.hpp"

namespace repute::delivery {

std::optional<std::string_view> OutboundResponse::header(std::string_view name) const {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto equal = [&lower](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
  };
  for (const auto& [key, value] : headers) {
    if (equal(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace repute::delivery
