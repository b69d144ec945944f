// Reading numbers that users type (flags, settings, profile files): the whole text or nothing.
#pragma once

#include <optional>
#include <string_view>

namespace ebb::util {

// A finite decimal number ("1.5", "-3", "1e3") spanning all of `text`; nullopt otherwise.
std::optional<double> parseNumber(std::string_view text);

}  // namespace ebb::util
