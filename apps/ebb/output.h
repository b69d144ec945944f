// Summaries as text for people or JSON for tools (--output), shared by the subcommands.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ebb/latency/histogram.h"

namespace ebb::app {

// {"count", "p50_ms", "p99_ms", "p999_ms", "max_ms"}
nlohmann::json latencyJson(const latency::Histogram& histogram);
// "label: p50 1.23 ms  p99 ...", one line.
std::string latencyLine(const std::string& label, const nlohmann::json& latency);

// Prints `summary` as indented JSON when output is "json", else with `printText`.
using Row = std::vector<std::string>;
// Left-aligned columns two spaces apart, without trailing blanks, on stdout.
void printTable(const Row& header, const std::vector<Row>& rows);

void printSummary(const std::string& output, const nlohmann::json& summary,
                  void (*printText)(const nlohmann::json&));

}  // namespace ebb::app
