// What a scaling policy sees (an observation of a group's offsets at one instant) and what it
// answers (a replica count and why). Policies are pure and deterministic: time comes in with the
// observation, so the same sequence of observations always yields the same decisions, in the
// simulator as on a real cluster.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ebb::scale {

using Millis = std::chrono::milliseconds;

// Kafka's default group.share.max.size: the most members a share group takes.
inline constexpr int32_t kShareGroupMaxSize = 200;

struct PartitionObservation {
  int32_t partition = 0;
  int64_t logStart = 0;
  int64_t logEnd = 0;
  int64_t committed = -1;  // -1: the group has no valid committed offset for this partition
};

struct Observation {
  Millis at{0};  // monotonic time of the observation (any fixed origin)
  std::vector<PartitionObservation> partitions;  // one topic, ordered by partition
  int32_t currentReplicas = 0;                   // replicas running now
  // A share group (KIP-932): every member fetches from every partition, so replicas past the
  // partition count add capacity and a membership change moves nothing (no handoff).
  bool shareGroup = false;
  // Consumers' own end-to-end p99 over the last interval, when the loop can see it.
  std::optional<double> p99Seconds;
  // The measured cost of the last scale event that has settled, reported once, in the observation
  // right after it was measured: seconds from the group reaching the new member count until every
  // partition and every member had an owner/partition again (ControlLoop::watchHandoff, 100 ms
  // resolution). Policies that weigh rebalances learn from it instead of a fixed guess.
  std::optional<double> handoffSeconds;
};

struct Decision {
  int32_t replicas = 0;  // desired replica count
  std::string reason;    // for humans: the figures that led here
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  // How often the control loop should observe and ask.
  virtual Millis interval() const = 0;
  // Called once per interval with a fresh observation; may keep history between calls.
  virtual Decision decide(const Observation& observation) = 0;
};

}  // namespace ebb::scale
