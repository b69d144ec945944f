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
};

// {"observation": {"at_ms", "replicas", "partitions": [[partition, logStart, logEnd, committed],
// ...]}, "replicas", "reason"}: one line of `ebb scale --decisions`, enough to replay the policy.
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
  std::function<void(const Step&)> onStep_;
  std::unique_ptr<Metrics> metrics_;
  int32_t lastDesired_ = -1;
};

}  // namespace ebb::scale
