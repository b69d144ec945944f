// --keys: a key distribution, then a few keys drawn from it.
#include <stdexcept>

#include "ebb/load/keys.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto keys = ebb::load::parseKeys(ebb::fuzz::text(data, size), 1);
    for (int i = 0; i < 8; ++i) (void)keys->next();
    (void)keys->describe();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
