// What each scale event cost the group's users, measured from what the replicas wrote: their audit
// lines (which partition they processed, when) and their per-second stats (end-to-end p99). Pure:
// `ebb scale-cost`, the demo's report and bench/handoff_bench.sh all use it.
//
// Per event (a decision that changed the replica count):
//   excess p99         the group's worst per-second p99 in the window after the decision minus its
//                      steady p99 before it (the median of the seconds before);
//   longest gap        over the partitions that changed owner, the time from the old owner's last
//                      processed message to the new owner's first;
//   decision to capacity (scale-out) from the decision until each of the new replicas had processed
//                      its first message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ebb/report/timeline.h"

namespace ebb::report {

// A decision of the control loop that changed the replica count, on the epoch clock.
struct ScaleDecision {
  double time = 0;  // epoch seconds
  int32_t from = 0;
  int32_t to = 0;
};

// One message processed by one replica.
struct Processed {
  double time = 0;  // epoch seconds
  int32_t partition = 0;
};

// What one replica wrote: its stats lines and its processed messages, each in time order.
struct ReplicaTrace {
  std::string name;
  std::vector<ReplicaSecond> seconds;
  std::vector<Processed> processed;
};

struct CostWindows {
  double steadySeconds = 10;  // before the decision: the steady p99
  double afterSeconds = 15;   // after it (cut at the next decision): the worst p99, the moves
};

struct EventCost {
  ScaleDecision decision;
  std::optional<double> steadyP99Ms;  // nothing: no messages before the event
  std::optional<double> worstP99Ms;   // nothing: no messages after it
  std::optional<double> excessP99Ms;  // worst - steady, never below 0
  uint32_t partitionsMoved = 0;
  std::optional<double> longestGapMs;  // nothing: no partition changed owner
  double medianGapMs = 0;
  // Scale-out only; nothing when fewer new replicas than asked for processed a message in the
  // window.
  std::optional<double> decisionToCapacityMs;
  bool scaleOut() const { return decision.to > decision.from; }
};

// The median and worst of one figure over a set of events (those that have it; a start from 0
// replicas is not counted).
struct Spread {
  size_t events = 0;
  double median = 0;
  double worst = 0;
};

struct CostSummary {
  std::vector<EventCost> events;
  Spread excessOut, excessIn, gapOut, gapIn, capacityOut;
};

// Events in time order; replicas in any order.
CostSummary measureScaleCosts(std::span<const ScaleDecision> decisions,
                              std::span<const ReplicaTrace> replicas, CostWindows windows = {});

// The decisions that changed the count in an `ebb scale --decisions` file (lines with a "time"
// field). Throws std::runtime_error naming the file and line when a line is not JSON.
std::vector<ScaleDecision> readDecisions(const std::filesystem::path& path);

// Every replica in DIR: `NAME.audit` with `NAME.stats` or `NAME.stats.jsonl` beside it. Audit lines
// without a time field are skipped (files of older versions). Throws std::runtime_error when a
// file cannot be read.
std::vector<ReplicaTrace> readReplicaTraces(const std::filesystem::path& dir);

nlohmann::json toJson(const CostSummary& summary);
// A table: one line per event, then the median and worst per kind of event.
std::string toText(const CostSummary& summary);

}  // namespace ebb::report
