// The elastic loop of `ebb scale`: every interval, read the group's lag, ask the policy, actuate
// the backend; log and count every decision with its reason.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "ebb/lag/group_lag.h"
#include "ebb/metrics/group_lag_metrics.h"
#include "ebb/orchestrate/replica_backend.h"
#include "ebb/scale/policy.h"

namespace prometheus {
class Registry;
}

namespace ebb::scale {

// The policy's view of one topic of a lag reading.
Observation toObservation(const lag::GroupLag& lag, const std::string& topic, Millis at,
                          int32_t currentReplicas);

struct Step {
  Observation observation;
  Decision decision;
  double wallTime = 0;  // epoch seconds of the decision (0: not known), to line it up with logs
};

// {"observation": {"at_ms", "replicas", "partitions": [[partition, logStart, logEnd, committed],
// ...], "handoff_s"}, "replicas", "reason", "time"}: one line of `ebb scale --decisions`, enough
// to replay the policy; "time" (epoch seconds) lines it up with the replicas' audit and stats.
nlohmann::json toJson(const Step& step);

// What a run of the loop amounted to, added up step by step.
struct StepTotals {
  uint64_t decisions = 0;
  uint64_t scaleEvents = 0;  // decisions that changed the replica count
  int32_t maxReplicas = 0;
  int32_t lastReplicas = 0;
  double replicaSeconds = 0;  // replicas asked for, integrated over the time between decisions
  Millis lastAt{-1};
  std::string lastReason;

  void add(const Step& step);
};

class ControlLoop {
 public:
  // Everything is borrowed and must outlive the loop. `onStep` (optional) sees every decision,
  // e.g. to write it to a file.
  ControlLoop(lag::GroupLagMonitor& monitor, std::string topic, Policy& policy,
              orchestrate::ReplicaBackend& backend, prometheus::Registry& registry,
              std::function<void(const Step&)> onStep = {});
  ~ControlLoop();

  // One observe-decide-actuate round at monotonic time `now`; throws when the lag cannot be read
  // (the caller decides whether to retry).
  Step step(Millis now);
  // The same round with a lag reading the caller made at `now` (so it can show the reading too),
  // and the consumers' own p99 over the last interval when it knows it.
  Step step(Millis now, const lag::GroupLag& lag, std::optional<double> p99Seconds = std::nullopt);
  // Between rounds, while a change is settling: asks the group who owns what (one admin call).
  // The handoff runs from the moment the group has as many members as asked for (a new replica
  // joined, or a leaving one left) until every partition has an owner and every member (up to the
  // partition count) owns one; the next observation carries it (Observation::handoffSeconds).
  // Process start is not in it: old owners keep consuming while a new replica boots. run() calls it
  // every 100 ms; a caller driving step() itself may too. Never throws.
  void watchHandoff(Millis now);
  // Rounds every policy interval until `stop` is set; failed readings are logged, counted and
  // retried next interval, with the replicas left as they are.
  void run(const std::atomic<bool>& stop);

 private:
  struct Metrics;
  Step decideAndActuate(Millis now, const lag::GroupLag& lag, int32_t running,
                        std::optional<double> p99Seconds);
  lag::GroupLagMonitor& monitor_;
  std::string topic_;
  Policy& policy_;
  orchestrate::ReplicaBackend& backend_;
  prometheus::Registry& registry_;
  metrics::LagExporter exporter_;  // the readings as gauges; dropped while readings fail
  std::function<void(const Step&)> onStep_;
  std::unique_ptr<Metrics> metrics_;
  int32_t lastDesired_ = -1;
  // The last change of the replica count not yet settled: when it was decided, and to what.
  struct PendingChange {
    Millis at;
    int32_t replicas;
    std::optional<Millis> joinedAt;  // when the group first had that many members
  };
  std::optional<PendingChange> pending_;
  std::optional<double> measured_;  // settled since the last observation
  size_t partitions_ = 0;           // of the topic, at the last reading
  std::optional<double> measureHandoff(Millis now, const lag::GroupLag& lag);
  void settle(Millis now, const lag::GroupLagMonitor::Membership& membership);
};

}  // namespace ebb::scale
