// The message envelope: the ebb-seq, ebb-ts and ebb-producer header values of any message, ours
// or not. Each of the three may be missing (split at NUL bytes; fewer parts: missing).
#include <optional>
#include <string_view>

#include "ebb/latency/envelope.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = ebb::fuzz::text(data, size);
  std::optional<std::string_view> parts[3];
  size_t start = 0;
  for (auto& part : parts) {
    if (start > input.size()) break;
    const auto end = input.find('\0', start);
    part = input.substr(start, end == std::string_view::npos ? end : end - start);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  (void)ebb::latency::parseEnvelope(parts[0], parts[1], parts[2]);
  return 0;
}
