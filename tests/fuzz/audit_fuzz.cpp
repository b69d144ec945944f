// Audit lines (ebb verify's input) and --expect values.
#include <stdexcept>

#include "ebb/verify/audit.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = ebb::fuzz::text(data, size);
  for (const auto& line : ebb::fuzz::lines(input)) {
    if (const auto record = ebb::verify::parseAuditLine(line)) {
      (void)record->keyed();
      (void)record->foreign();
    }
  }
  try {
    (void)ebb::verify::parseExpectation(input);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
