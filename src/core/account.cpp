#include "core/account.hpp"

namespace repute::core {

const char* to_string(Source::Type type) {
  switch (type) {
    case Source::Type::kSandbox:
      return "sandbox";
    case Source::Type::kHttp:
      return "http";
    case Source::Type::kPush:
      return "push";
  }
  return "sandbox";
}

std::optional<Source::Type> parse_source_type(std::string_view text) {
  if (text == "sandbox") return Source::Type::kSandbox;
  if (text == "http") return Source::Type::kHttp;
  if (text == "push") return Source::Type::kPush;
  return std::nullopt;
}

}  // namespace repute::core
