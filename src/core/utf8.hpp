#pragma once
// UTF-8 text from untrusted bytes.
#include <cstddef>
#include <string>
#include <string_view>

namespace repute::core {

// text with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD, so that it can be
// quoted in a JSON answer or a log line.
std::string valid_utf8(std::string_view text);

// The number of characters (code points) of valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

}  // namespace repute::core
