#pragma once
// The operator console's files, compiled into the binary from console/ at build time (cmake/embed_console.cmake).
#include <span>
#include <string_view>

namespace repute::api {

// One file of the console: its URL path ("/console/index.html"), content type, ETag and bytes.
struct ConsoleAsset {
  std::string_view path;
  std::string_view content_type;
  std::string_view etag;
  std::string_view body;
};

// Every file of the console.
std::span<const ConsoleAsset> console_assets();

}  // namespace repute::api
