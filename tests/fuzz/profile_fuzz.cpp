// --profile: a spec, or (first byte 'F') the rest as a csv:PATH file; then the rate it gives.
#include <stdexcept>
#include <string>

#include "ebb/load/profile.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = ebb::fuzz::text(data, size);
  std::string spec(input);
  if (!input.empty() && input.front() == 'F') {
    spec = "csv:" + ebb::fuzz::asFile(input.substr(1), ".csv").string();
  }
  try {
    const auto profile = ebb::load::parseProfile(spec, 500);
    for (const double t : {0.0, 0.5, 1.0, 59.9, 60.0, 1e6}) (void)profile->rateAt(t);
    (void)profile->duration();
    (void)profile->describe();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
