#include "ebb/report/timeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace ebb::report {
namespace {

// The fraction of a part's messages that may lie above x, from what its figures promise.
double fractionAbove(const LatencyPart& part, double x) {
  if (x >= part.maxMs) return 0;
  if (x >= part.p99Ms) return 0.01;
  if (x >= part.p50Ms) return 0.5;
  return 1;
}

// Seconds of (from, to] that overlap (a, b].
double overlap(double from, double to, double a, double b) {
  return std::max(0.0, std::min(to, b) - std::max(from, a));
}

std::string number(double value, int decimals) { return fmt::format("{:.{}f}", value, decimals); }

}  // namespace

std::optional<ReplicaSecond> parseStatsLine(std::string_view line) {
  const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  for (const char* key : {"time", "consumed", "p50_ms", "p99_ms", "max_ms"}) {
    if (!json.contains(key) || !json[key].is_number()) return std::nullopt;
  }
  if (json["consumed"].is_number_float()) return std::nullopt;
  ReplicaSecond second;
  second.time = json["time"].get<double>();
  second.consumed = json["consumed"].get<uint64_t>();
  second.malformed = json.value("malformed", uint64_t{0});
  second.p50Ms = json["p50_ms"].get<double>();
  second.p99Ms = json["p99_ms"].get<double>();
  second.maxMs = json["max_ms"].get<double>();
  return second;
}

std::optional<double> quantileUpperBound(std::span<const LatencyPart> parts, double q) {
  double total = 0;
  std::vector<double> candidates;
  for (const auto& part : parts) {
    if (part.count == 0) continue;
    total += static_cast<double>(part.count);
    candidates.insert(candidates.end(), {part.p50Ms, part.p99Ms, part.maxMs});
  }
  if (total == 0) return std::nullopt;
  std::sort(candidates.begin(), candidates.end());
  // Allowed above the bound; a hair of slack so that q = 0.99 of exactly 100 messages allows 1.
  const double allowed = (1 - q) * total + 1e-9;
  for (const double x : candidates) {
    double above = 0;
    for (const auto& part : parts) {
      if (part.count > 0) above += static_cast<double>(part.count) * fractionAbove(part, x);
    }
    if (above <= allowed) return x;
  }
  return candidates.back();  // the largest max: nothing is above it
}

LatencyPart combine(std::span<const LatencyPart> parts) {
  LatencyPart result;
  for (const auto& part : parts) {
    if (part.count == 0) continue;
    result.count += part.count;
    result.maxMs = std::max(result.maxMs, part.maxMs);
  }
  if (result.count == 0) return result;
  result.p50Ms = *quantileUpperBound(parts, 0.5);
  result.p99Ms = *quantileUpperBound(parts, 0.99);
  return result;
}

std::vector<Sample> buildTimeline(std::span<const Reading> readings,
                                  std::span<const std::vector<ReplicaSecond>> replicas,
                                  double startEpoch) {
  std::vector<Sample> samples;
  samples.reserve(readings.size());
  for (size_t i = 0; i < readings.size(); ++i) {
    const auto& reading = readings[i];
    Sample sample{.t = reading.t,
                  .targetRate = reading.targetRate,
                  .lag = reading.lag,
                  .desired = reading.desired,
                  .running = reading.running,
                  .members = reading.members};
    if (i == 0) {
      samples.push_back(sample);
      continue;
    }
    const double from = readings[i - 1].t;
    const double length = reading.t - from;
    if (length > 0) {
      sample.produceRate = static_cast<double>(reading.logEnd - readings[i - 1].logEnd) / length;
    }
    double consumed = 0;
    std::vector<LatencyPart> parts;
    for (const auto& lines : replicas) {
      for (size_t k = 0; k < lines.size(); ++k) {
        const double end = lines[k].time - startEpoch;
        const double begin = k == 0 ? end - 1 : lines[k - 1].time - startEpoch;
        if (end <= from) continue;
        if (begin >= reading.t) break;
        if (end > begin) {
          consumed += static_cast<double>(lines[k].consumed) *
                      overlap(from, reading.t, begin, end) / (end - begin);
        }
        if (end > from && end <= reading.t && lines[k].consumed > 0) {
          parts.push_back({.count = lines[k].consumed,
                           .p50Ms = lines[k].p50Ms,
                           .p99Ms = lines[k].p99Ms,
                           .maxMs = lines[k].maxMs});
        }
      }
    }
    if (length > 0) sample.consumeRate = consumed / length;
    sample.latency = combine(parts);
    samples.push_back(sample);
  }
  return samples;
}

std::string csvHeader() {
  return "policy,t_s,target_rate,produce_rate,consume_rate,lag,replicas_desired,replicas_running,"
         "group_members,consumed,p50_ms,p99_ms,max_ms\n";
}

std::string toCsv(std::string_view policy, std::span<const Sample> samples) {
  std::string csv;
  for (const auto& s : samples) {
    const bool measured = s.latency.count > 0;
    csv += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{}\n", policy, number(s.t, 3), number(s.targetRate, 1),
        number(s.produceRate, 1), number(s.consumeRate, 1), s.lag, s.desired, s.running, s.members,
        s.latency.count, measured ? number(s.latency.p50Ms, 3) : "",
        measured ? number(s.latency.p99Ms, 3) : "", measured ? number(s.latency.maxMs, 3) : "");
  }
  return csv;
}

}  // namespace ebb::report
