#pragma once
// obs: logging and metrics. Logs are one JSON object per line on stderr; callers never pass secrets.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace repute::obs {

// One field of a log line.
struct LogField {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, std::int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  LogField(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
};

using LogFields = std::initializer_list<LogField>;

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Sets the lowest level written (default info).
void set_log_level(LogLevel level);
// Parses "debug", "info", "warn", "error".
bool parse_log_level(std::string_view text, LogLevel& level);

void log(LogLevel level, std::string_view message, LogFields fields = {});
inline void log_debug(std::string_view message, LogFields fields = {}) { log(LogLevel::kDebug, message, fields); }
inline void log_info(std::string_view message, LogFields fields = {}) { log(LogLevel::kInfo, message, fields); }
inline void log_warn(std::string_view message, LogFields fields = {}) { log(LogLevel::kWarn, message, fields); }
inline void log_error(std::string_view message, LogFields fields = {}) { log(LogLevel::kError, message, fields); }

// Appends text to out as the inside of a JSON string (quotes not included).
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace repute::obs
