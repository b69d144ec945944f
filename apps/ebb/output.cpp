#include "output.h"

#include <fmt/format.h>

#include <iostream>

namespace ebb::app {

nlohmann::json latencyJson(const latency::Histogram& histogram) {
  auto ms = [](int64_t nanos) { return static_cast<double>(nanos) / 1e6; };
  return {{"count", histogram.count()},
          {"p50_ms", ms(histogram.percentile(50))},
          {"p99_ms", ms(histogram.percentile(99))},
          {"p999_ms", ms(histogram.percentile(99.9))},
          {"max_ms", ms(histogram.max())}};
}

std::string latencyLine(const std::string& label, const nlohmann::json& latency) {
  return fmt::format("{:<19} p50 {:.2f} ms  p99 {:.2f} ms  p99.9 {:.2f} ms  max {:.2f} ms\n",
                     label + ":", latency["p50_ms"].get<double>(), latency["p99_ms"].get<double>(),
                     latency["p999_ms"].get<double>(), latency["max_ms"].get<double>());
}

void printSummary(const std::string& output, const nlohmann::json& summary,
                  void (*printText)(const nlohmann::json&)) {
  if (output == "json") {
    std::cout << summary.dump(2) << "\n";
  } else {
    printText(summary);
  }
}

}  // namespace ebb::app
