// -X key=value, and the -F properties file.
#include <stdexcept>

#include "ebb/kafka/client_config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = ebb::fuzz::text(data, size);
  ebb::kafka::ClientConfig config;
  try {
    config.set(input);
  } catch (const std::invalid_argument&) {
  }
  try {
    config.setFromFile(ebb::fuzz::asFile(input, ".properties"));
  } catch (const std::invalid_argument&) {
  }
  (void)config.printable();
  return 0;
}
