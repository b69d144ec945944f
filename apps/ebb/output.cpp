#include "output.h"

#include <fmt/format.h>

#include <algorithm>
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

void printTable(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const auto& cell : header) widths.push_back(cell.size());
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print = [&widths](const Row& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += fmt::format("{:<{}}", row[i], widths[i] + 2);
    line.erase(line.find_last_not_of(' ') + 1);
    std::cout << line << "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
}

}  // namespace ebb::app
