#include "core/delivery.hpp"

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

}  // namespace repute::core
