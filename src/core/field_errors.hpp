#pragma once
// Validation problems keyed by field name, the shape of the API's 400 answers.
#include <map>
#include <string>
#include <vector>

namespace repute::core {

// Messages by field name ("url" → ["Enter a valid URL."]).
using FieldErrors = std::map<std::string, std::vector<std::string>>;

}  // namespace repute::core
