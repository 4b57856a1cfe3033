#include "obs/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "core/utf8.hpp"

namespace repute::obs {
namespace {

spdlog::logger& logger() {
  static auto instance = [] {
    auto created = spdlog::stderr_logger_mt("repute");
    created->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
    created->flush_on(spdlog::level::info);
    return created;
  }();
  return *instance;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

void append_value(std::string& out, const LogField& field) {
  std::visit(
      [&out](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          out.push_back('"');
          append_json_escaped(out, core::valid_utf8(value));
          out.push_back('"');
        } else if constexpr (std::is_same_v<T, bool>) {
          out += value ? "true" : "false";
        } else {
          out += std::to_string(value);
        }
      },
      field.value);
}

}  // namespace

void set_log_level(LogLevel level) { logger().set_level(to_spdlog(level)); }

bool parse_log_level(std::string_view text, LogLevel& level) {
  if (text == "debug") level = LogLevel::kDebug;
  else if (text == "info") level = LogLevel::kInfo;
  else if (text == "warn") level = LogLevel::kWarn;
  else if (text == "error") level = LogLevel::kError;
  else return false;
  return true;
}

void log(LogLevel level, std::string_view message, LogFields fields) {
  auto& sink = logger();
  if (!sink.should_log(to_spdlog(level))) return;
  std::string line = "\"msg\":\"";
  append_json_escaped(line, message);
  line.push_back('"');
  for (const LogField& field : fields) {
    line += ",\"";
    append_json_escaped(line, field.key);
    line += "\":";
    append_value(line, field);
  }
  sink.log(to_spdlog(level), "{}", line);
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
}

}  // namespace repute::obs
