// The --offsets file:PATH file, as a crash or another tool may have left it.
#include <stdexcept>

#include "ebb/service/offset_file.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = ebb::fuzz::asFile(ebb::fuzz::text(data, size), ".offsets");
  try {
    (void)ebb::service::loadOffsets(path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
