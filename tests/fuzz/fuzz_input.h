// What the harnesses share: the input as text, split into lines, or written to a private file for
// parsers that read files.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ebb::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::vector<std::string> lines(std::string_view all) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start <= all.size()) {
    const auto end = all.find('\n', start);
    result.emplace_back(all.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return result;
}

// A file holding the input, one per process, rewritten on every call.
inline const std::filesystem::path& asFile(std::string_view content, const char* suffix) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ebb-fuzz-" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

}  // namespace ebb::fuzz
