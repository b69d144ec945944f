// The elastic loop of `ebb scale`: every interval, read the group's lag, ask the policy, actuate
// the backend; log and count every decision with its reason.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
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
  // Rounds every policy interval until `stop` is set; failed readings are logged, counted and
  // retried next interval, with the replicas left as they are.
  void run(const std::atomic<bool>& stop);

 private:
  struct Metrics;
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
