#include "ebb/report/scale_cost.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ebb/verify/audit.h"

namespace ebb::report {
namespace {

namespace fs = std::filesystem;

// The group's p99 per epoch second: every replica's stats line counts in the second it ended in.
std::map<int64_t, LatencyPart> groupSeconds(std::span<const ReplicaTrace> replicas) {
  std::map<int64_t, std::vector<LatencyPart>> parts;
  for (const auto& replica : replicas) {
    for (const auto& line : replica.seconds) {
      if (line.consumed == 0) continue;
      parts[static_cast<int64_t>(std::floor(line.time))].push_back(
          {.count = line.consumed, .p50Ms = line.p50Ms, .p99Ms = line.p99Ms, .maxMs = line.maxMs});
    }
  }
  std::map<int64_t, LatencyPart> seconds;
  for (const auto& [second, list] : parts) seconds[second] = combine(list);
  return seconds;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

struct Move {
  double time = 0;  // the new owner's first message
  double gapMs = 0;
};

// Every change of a partition's owner, in time order, over all replicas' processed messages.
std::vector<Move> ownerChanges(std::span<const ReplicaTrace> replicas) {
  struct Record {
    double time;
    int32_t partition;
    uint32_t replica;
  };
  std::vector<Record> records;
  for (uint32_t r = 0; r < replicas.size(); ++r) {
    for (const auto& p : replicas[r].processed) records.push_back({p.time, p.partition, r});
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const Record& a, const Record& b) { return a.time < b.time; });
  struct Owner {
    uint32_t replica;
    double last;
  };
  std::map<int32_t, Owner> owners;
  std::vector<Move> moves;
  for (const auto& record : records) {
    auto [it, fresh] = owners.try_emplace(record.partition, Owner{record.replica, record.time});
    if (!fresh && it->second.replica != record.replica) {
      moves.push_back({record.time, std::max(0.0, record.time - it->second.last) * 1000});
      it->second.replica = record.replica;
    }
    it->second.last = record.time;
  }
  return moves;
}

void measureLatency(EventCost& cost, const std::map<int64_t, LatencyPart>& seconds, double end,
                    const CostWindows& windows) {
  const double t = cost.decision.time;
  std::vector<double> before;
  std::optional<double> worst;
  for (auto it = seconds.lower_bound(static_cast<int64_t>(std::floor(t - windows.steadySeconds)));
       it != seconds.end() && static_cast<double>(it->first) < end; ++it) {
    const double second = static_cast<double>(it->first);
    if (second + 1 <= t) {
      if (second >= t - windows.steadySeconds) before.push_back(it->second.p99Ms);
    } else {
      worst = std::max(worst.value_or(0), it->second.p99Ms);
    }
  }
  if (!before.empty()) cost.steadyP99Ms = median(before);
  cost.worstP99Ms = worst;
  if (worst) cost.excessP99Ms = std::max(0.0, *worst - cost.steadyP99Ms.value_or(0));
}

void measureCapacity(EventCost& cost, std::span<const ReplicaTrace> replicas, double end) {
  if (!cost.scaleOut()) return;
  const double t = cost.decision.time;
  std::vector<double> firsts;
  for (const auto& replica : replicas) {
    if (replica.processed.empty()) continue;
    const double first = replica.processed.front().time;
    if (first >= t && first < end) firsts.push_back(first);
  }
  const auto wanted = static_cast<size_t>(cost.decision.to - cost.decision.from);
  if (firsts.size() < wanted) return;
  std::sort(firsts.begin(), firsts.end());
  cost.decisionToCapacityMs = (firsts[wanted - 1] - t) * 1000;
}

Spread spread(const std::vector<EventCost>& events, bool out,
              const std::optional<double> EventCost::*field) {
  std::vector<double> values;
  for (const auto& event : events) {
    // 0 -> N is the group starting, not a scale event of a running group.
    if (event.decision.from == 0) continue;
    if (event.scaleOut() == out && (event.*field).has_value()) values.push_back(*(event.*field));
  }
  if (values.empty()) return {};
  return {values.size(), median(values), *std::max_element(values.begin(), values.end())};
}

std::vector<Processed> readAudit(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the audit file " + path.string());
  std::vector<Processed> processed;
  for (std::string line; std::getline(in, line);) {
    const auto record = verify::parseAuditLine(line);
    if (!record || record->timeMicros < 0) continue;  // cut short by a crash, or an old file
    processed.push_back({static_cast<double>(record->timeMicros) / 1e6, record->partition});
  }
  // Workers append whole batches; across workers the order can interleave by a batch.
  std::stable_sort(processed.begin(), processed.end(),
                   [](const Processed& a, const Processed& b) { return a.time < b.time; });
  return processed;
}

std::vector<ReplicaSecond> readStats(const fs::path& path) {
  std::vector<ReplicaSecond> seconds;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    if (auto second = parseStatsLine(line)) seconds.push_back(*second);
  }
  return seconds;
}

std::string figure(const std::optional<double>& value, const char* unit) {
  return value ? fmt::format("{:.0f} {}", *value, unit) : std::string("–");
}

}  // namespace

CostSummary measureScaleCosts(std::span<const ScaleDecision> decisions,
                              std::span<const ReplicaTrace> replicas, CostWindows windows) {
  CostSummary summary;
  const auto seconds = groupSeconds(replicas);
  const auto moves = ownerChanges(replicas);
  for (size_t i = 0; i < decisions.size(); ++i) {
    EventCost cost{.decision = decisions[i]};
    const double t = cost.decision.time;
    double end = t + windows.afterSeconds;
    if (i + 1 < decisions.size()) end = std::min(end, decisions[i + 1].time);
    measureLatency(cost, seconds, end, windows);
    std::vector<double> gaps;
    for (const auto& move : moves) {
      if (move.time >= t && move.time < end) gaps.push_back(move.gapMs);
    }
    cost.partitionsMoved = static_cast<uint32_t>(gaps.size());
    if (!gaps.empty()) {
      cost.longestGapMs = *std::max_element(gaps.begin(), gaps.end());
      cost.medianGapMs = median(gaps);
    }
    measureCapacity(cost, replicas, end);
    summary.events.push_back(cost);
  }
  summary.excessOut = spread(summary.events, true, &EventCost::excessP99Ms);
  summary.excessIn = spread(summary.events, false, &EventCost::excessP99Ms);
  summary.gapOut = spread(summary.events, true, &EventCost::longestGapMs);
  summary.gapIn = spread(summary.events, false, &EventCost::longestGapMs);
  summary.capacityOut = spread(summary.events, true, &EventCost::decisionToCapacityMs);
  return summary;
}

std::vector<ScaleDecision> readDecisions(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the decisions file " + path.string());
  std::vector<ScaleDecision> decisions;
  uint64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    try {
      const auto json = nlohmann::json::parse(line);
      if (!json.contains("time")) continue;  // written before decisions had a wall-clock time
      const auto from = json.at("observation").at("replicas").get<int32_t>();
      const auto to = json.at("replicas").get<int32_t>();
      if (from != to) decisions.push_back({json.at("time").get<double>(), from, to});
    } catch (const nlohmann::json::exception& error) {
      throw std::runtime_error(
          fmt::format("{} line {}: not a decision: {}", path.string(), number, error.what()));
    }
  }
  return decisions;
}

std::vector<ReplicaTrace> readReplicaTraces(const fs::path& dir) {
  std::error_code error;
  std::vector<fs::path> audits;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".audit") audits.push_back(entry.path());
  }
  if (error) throw std::runtime_error("cannot read " + dir.string() + ": " + error.message());
  std::sort(audits.begin(), audits.end());
  std::vector<ReplicaTrace> traces;
  for (const auto& audit : audits) {
    ReplicaTrace trace{.name = audit.stem().string()};
    trace.processed = readAudit(audit);
    for (const char* suffix : {".stats", ".stats.jsonl"}) {
      const auto stats = dir / (trace.name + suffix);
      if (fs::exists(stats)) trace.seconds = readStats(stats);
    }
    traces.push_back(std::move(trace));
  }
  return traces;
}

nlohmann::json toJson(const CostSummary& summary) {
  const auto optional = [](const std::optional<double>& v) -> nlohmann::json {
    return v ? nlohmann::json(std::round(*v * 10) / 10) : nlohmann::json(nullptr);
  };
  const auto spreadJson = [](const Spread& s) {
    return nlohmann::json{{"events", s.events}, {"median_ms", s.median}, {"worst_ms", s.worst}};
  };
  auto events = nlohmann::json::array();
  for (const auto& e : summary.events) {
    events.push_back({{"time", e.decision.time},
                      {"from", e.decision.from},
                      {"to", e.decision.to},
                      {"steady_p99_ms", optional(e.steadyP99Ms)},
                      {"worst_p99_ms", optional(e.worstP99Ms)},
                      {"excess_p99_ms", optional(e.excessP99Ms)},
                      {"partitions_moved", e.partitionsMoved},
                      {"longest_gap_ms", optional(e.longestGapMs)},
                      {"median_gap_ms", e.medianGapMs},
                      {"decision_to_capacity_ms", optional(e.decisionToCapacityMs)}});
  }
  return {
      {"events", events},
      {"scale_out",
       {{"excess_p99", spreadJson(summary.excessOut)},
        {"longest_gap", spreadJson(summary.gapOut)},
        {"decision_to_capacity", spreadJson(summary.capacityOut)}}},
      {"scale_in",
       {{"excess_p99", spreadJson(summary.excessIn)}, {"longest_gap", spreadJson(summary.gapIn)}}}};
}

std::string toText(const CostSummary& summary) {
  std::string text =
      fmt::format("{:>8}  {:>14}  {:>11}  {:>11}  {:>6}  {:>12}  {:>12}\n", "event", "epoch s",
                  "steady p99", "excess p99", "moved", "longest gap", "to capacity");
  for (const auto& e : summary.events) {
    text += fmt::format("{:>8}  {:>14.3f}  {:>11}  {:>11}  {:>6}  {:>12}  {:>12}\n",
                        fmt::format("{} → {}", e.decision.from, e.decision.to), e.decision.time,
                        figure(e.steadyP99Ms, "ms"), figure(e.excessP99Ms, "ms"), e.partitionsMoved,
                        figure(e.longestGapMs, "ms"), figure(e.decisionToCapacityMs, "ms"));
  }
  const auto line = [](const char* what, const Spread& s) {
    return s.events == 0 ? fmt::format("{}: no events\n", what)
                         : fmt::format("{}: median {:.0f} ms, worst {:.0f} ms over {} events\n",
                                       what, s.median, s.worst, s.events);
  };
  text += line("scale-out excess p99", summary.excessOut);
  text += line("scale-out longest gap", summary.gapOut);
  text += line("scale-out decision to capacity", summary.capacityOut);
  text += line("scale-in excess p99", summary.excessIn);
  text += line("scale-in longest gap", summary.gapIn);
  return text;
}

}  // namespace ebb::report
