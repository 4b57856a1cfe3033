#include "core/delivery.hpp"

#include <algorithm>

namespace repute::core {

const char* to_string(DeliveryState state) {
  switch (state) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<DeliveryState> parse_delivery_state(std::string_view text) {
  if (text == "pending") return DeliveryState::kPending;
  if (text == "delivered") return DeliveryState::kDelivered;
  if (text == "failed") return DeliveryState::kFailed;
  return std::nullopt;
}

std::string header_lines(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::size_t size = 0;
  for (const auto& [name, value] : headers) size += name.size() + value.size() + 3;
  std::string lines;
  lines.reserve(size);
  for (const auto& [name, value] : headers) {
    lines.append(name).append(": ").append(value).push_back('\n');
  }
  return lines;
}

std::vector<std::pair<std::string, std::string>> parse_header_lines(std::string_view lines) {
  std::vector<std::pair<std::string, std::string>> headers;
  while (!lines.empty()) {
    const std::size_t end = std::min(lines.find('\n'), lines.size());
    const std::string_view line = lines.substr(0, end);
    if (const std::size_t colon = line.find(": "); colon != std::string_view::npos) {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    }
    lines.remove_prefix(std::min(end + 1, lines.size()));
  }
  return headers;
}

}  // namespace repute::core
