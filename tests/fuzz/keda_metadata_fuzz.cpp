// A ScaledObject trigger's metadata map as KEDA sends it to ebb's external scaler: KEY=VALUE
// lines here.
#include <map>
#include <string>

#include "ebb/keda/recommendation.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, std::string> metadata;
  for (const auto& line : ebb::fuzz::lines(ebb::fuzz::text(data, size))) {
    const auto eq = line.find('=');
    metadata[line.substr(0, eq)] = eq == std::string::npos ? "" : line.substr(eq + 1);
  }
  (void)ebb::keda::metadataMismatch(metadata, {.topic = "orders", .group = "orders-group"});
  for (const auto& [key, value] : metadata) (void)ebb::keda::isOurMetric(value);
  return 0;
}
