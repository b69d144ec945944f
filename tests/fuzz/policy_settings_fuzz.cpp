// --set KEY=VALUE policy settings: the first line names the policy, each further line is a pair.
#include <stdexcept>
#include <string>
#include <vector>

#include "ebb/scale/policy_factory.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pairs = ebb::fuzz::lines(ebb::fuzz::text(data, size));
  const std::string name = pairs.front();
  pairs.erase(pairs.begin());
  try {
    const auto settings = ebb::scale::parseSettings(pairs);
    const auto policy = ebb::scale::makePolicy(name, settings);
    (void)policy->interval();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
