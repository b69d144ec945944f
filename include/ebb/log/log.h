// Process-wide logging on spdlog: human-readable lines by default, JSON lines for containers.
#pragma once

#include <string_view>

namespace ebb::log {

enum class Format { kText, kJson };

// Throws std::invalid_argument for an unknown level or format name.
Format parseFormat(std::string_view name);
// level: trace, debug, info, warn, error, off. Logs go to stderr so stdout stays for results.
void configure(std::string_view level, Format format);

}  // namespace ebb::log
