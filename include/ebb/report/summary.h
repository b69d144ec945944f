// The figures of one run of the elastic loop, from its timeline and what the producer and the
// audit verification counted: what the demo prints at the end and the report's table. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ebb/report/timeline.h"

namespace ebb::load {
class Profile;
}

namespace ebb::report {

// The stretch of the run in which the load is up: the spike of spike:START:LENGTH:FACTOR, the
// step of step:AT:RATE, the first crest of a sine.
struct LoadWindow {
  double start = 0;  // seconds since the run started
  double end = 0;
  double baseRate = 0;  // the profile's rate at t = 0
  double peakRate = 0;  // the highest rate within the window
};

// The first stretch in which `profile` asks for more than 1.1 x its rate at t = 0, scanned every
// 10 ms up to `duration` (a window still open then ends at `duration`); nothing for a flat one.
std::optional<LoadWindow> findLoadWindow(const load::Profile& profile, double duration);

struct ScaleEvent {
  double t = 0;  // seconds since the run started
  int32_t from = 0;
  int32_t to = 0;
  std::string reason;
  // What it cost, measured after the run from the replicas' files (report/scale_cost.h).
  std::optional<double> excessP99Ms;
  std::optional<double> longestGapMs;
  std::optional<double> decisionToCapacityMs;
};

// What the timeline does not show: the setup, and what the producer and the audit counted.
struct RunFacts {
  std::string policy;
  std::map<std::string, std::string> settings;  // as the policy got them
  double objectiveMs = 500;
  std::optional<LoadWindow> spike;
  uint64_t sent = 0;  // the producer's figures
  uint64_t acknowledged = 0;
  uint64_t producerFailed = 0;
  bool verified = false;   // the replicas' audit files were checked against `acknowledged`
  uint64_t processed = 0;  // audit lines: every processing of a message, replays included
  uint64_t lost = 0;       // acknowledged and never processed
  uint64_t duplicates = 0;
  uint64_t orderViolations = 0;
  bool interrupted = false;  // stopped by a signal before its end
  int64_t lagAtStop = 0;     // messages the replicas had not processed when they were stopped
};

// A second counts as over the objective when messages were processed in it and their p99 (upper
// bound) is above the objective.
bool overObjective(const Sample& sample, double objectiveMs);

// How long p99 must stay within the objective before the spike counts as absorbed.
inline constexpr double kRecoveryHoldSeconds = 10;

struct Summary {
  RunFacts facts;
  double durationS = 0;  // of the timeline
  int64_t maxLag = 0;
  double maxLagAtS = 0;
  LatencyPart latency;       // every message of the run, combined per second then over the run
  LatencyPart spikeLatency;  // messages processed within the spike's window
  std::optional<double> worstSpikeSecondP99Ms;
  // Seconds from the spike's start to the end of the last second over the objective that began
  // within the spike, followed by kRecoveryHoldSeconds within it; 0 when the spike never put
  // p99 over the objective. Nothing without a spike, or when the run ended before recovering.
  std::optional<double> recoveryS;
  std::string recovery;   // the same in words
  bool spikeRan = false;  // the run went on past the spike's start
  double secondsOverObjective = 0;
  double replicaSeconds = 0;  // running replicas integrated over the run
  uint64_t scaleEvents = 0;
  int32_t peakReplicas = 0;
  int32_t finalReplicas = 0;
};

Summary summarize(std::span<const Sample> samples, std::span<const ScaleEvent> events,
                  const RunFacts& facts);

nlohmann::json toJson(const Summary& summary);

// The summary as a table: one row per figure, one value per run, a note on what it means.
struct TableRow {
  std::string label;
  std::vector<std::string> values;
  std::string note;
};
std::vector<TableRow> summaryTable(std::span<const Summary> runs);

}  // namespace ebb::report
