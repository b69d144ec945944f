// A deterministic discrete-time simulator of one consumer group on one topic, to compare scaling
// policies faster than real time: arrivals from a load profile, replicas that consume at a fixed
// service rate, a consumption pause per rebalance, and the end-to-end latency every message sees.
// No clock, no threads, no randomness that is not seeded: the same inputs give the same result.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ebb/load/profile.h"
#include "ebb/scale/policy.h"

namespace ebb::scale {

// A partition whose consumer makes no progress during [from, until): a poison message retried
// forever, a downstream call that hangs. Its committed offset stands still while the others move;
// the replica that owns it keeps serving its other partitions.
struct StuckPartition {
  int32_t partition = 0;
  Millis from{0};
  Millis until{Millis::max()};
};

struct SimConfig {
  int32_t partitions = 12;
  double serviceRate = 1000;  // messages/s one replica consumes while it has work
  Millis step{100};           // resolution of the simulation (latencies are resolved to it)
  Millis duration{600'000};
  // Consumption of the whole group stops this long for every membership change (eager rebalance).
  Millis rebalancePause{3000};
  // From a scale-up decision to the new replicas joining the group (pod start, client start).
  Millis startupDelay{0};
  // How often each partition's consumer commits what it processed (auto.commit.interval.ms);
  // partitions commit on staggered timers, and all commit before a rebalance. 0: every message
  // is committed as it is processed, so the observed lag is exactly the backlog.
  Millis commitInterval{0};
  int32_t initialReplicas = 1;
  int32_t minReplicas = 1;        // decisions are clamped to [minReplicas, maxReplicas]
  int32_t maxReplicas = 1000;     // not capped at the partition count: that is the policy's job
  double objectiveSeconds = 0.5;  // p99 end-to-end objective, for the violation accounting
  // Pass the consumers' own p99 over the last interval in Observation::p99Seconds.
  bool observeP99 = true;
  std::vector<StuckPartition> stuck;

  // Throws std::invalid_argument naming the field and what is accepted.
  void validate() const;
};

// One step of the timeline.
struct SimPoint {
  double seconds = 0;           // start of the step
  double arrivalRate = 0;       // messages/s produced during the step
  double consumeRate = 0;       // messages/s consumed during the step
  double lag = 0;               // messages produced but not consumed at the end of the step, all
                                // partitions (stuck ones included: it is what a lag metric shows)
  int32_t replicasDesired = 0;  // the count last decided (pods that exist, starting or not)
  int32_t replicasRunning = 0;  // group members consuming
  bool paused = false;          // a rebalance stopped consumption during (part of) the step
  // p99 end-to-end latency of the messages that arrived during the step, on the partitions that
  // are never stuck (0 when none arrived).
  double p99Seconds = 0;
};

struct SimDecision {
  double seconds = 0;
  int32_t replicas = 0;  // as the policy answered, before clamping to [min, max]
  std::string reason;
};

// Latency figures cover the partitions that are never stuck (no scaling fixes a stuck one; its
// messages would otherwise dominate every percentile). Messages still waiting at the end count
// with the time they have waited so far.
struct SimSummary {
  double p50Seconds = 0;
  double p99Seconds = 0;
  double maxSeconds = 0;
  double lateFraction = 0;  // share of messages over the objective
  // Seconds of arrival time whose messages had a p99 over the objective (sum of violating steps).
  double sloViolationSeconds = 0;
  double maxLag = 0;
  double maxLagAtSeconds = 0;
  double replicaSeconds = 0;  // integral of replicasDesired: what the pods cost
  int32_t scaleEvents = 0;    // decisions that changed the desired count
  int32_t rebalances = 0;     // membership changes, each pausing consumption
  int32_t peakReplicas = 0;   // largest desired count
  double pausedSeconds = 0;   // time consumption was stopped by rebalances
  double peakAtSeconds = 0;   // first time the arrival rate reached its maximum
  // From peakAt to the end of the last violating step that is followed by 30 s without a
  // violation (later violations, e.g. a scale-in's pause, are new incidents); 0 when nothing
  // violates from peakAt on.
  double recoverySeconds = 0;
  double messagesArrived = 0;
  double messagesConsumed = 0;

  // One line with the headline figures, for logs and test output.
  std::string describe() const;
};

struct SimResult {
  std::vector<SimPoint> timeline;
  std::vector<SimDecision> decisions;  // every decision, holds included
  SimSummary summary;
};

// Runs `policy` against `arrivals` (messages/s over time; spread evenly over the partitions).
//
// Model, per step of length dt:
//  - arrivals: rate at the middle of the step x dt, split evenly; partition p belongs to replica
//    p % running (round-robin assignment; replicas beyond the partition count sit idle);
//  - a replica consumes up to serviceRate x dt (less the paused part of the step), shared
//    max-min fairly between its partitions (each gets what it needs up to an equal share);
//  - every policy interval (from t = 0) the policy sees per-partition offsets (logEnd = produced,
//    committed = consumed as of the partition's last commit, both floored; logStart 0) and the
//    running count, and its decision is applied at once: scale-in removes replicas now, scale-up
//    adds them after startupDelay; each membership change stops consumption for rebalancePause;
//  - latency: each partition is FIFO and fluid; within a step arrivals and departures are spread
//    uniformly, so a message's latency is departure time - arrival time (exact for the fluid
//    model up to the step resolution) plus one service time (1 / serviceRate).
// Throws std::invalid_argument if the config is invalid.
SimResult simulate(const SimConfig& config, const load::Profile& arrivals, Policy& policy);

// Arrivals with seeded noise: base rate x max(0, 1 + relativeStdDev x z), z standard normal drawn
// per `bucketSeconds` of time from (seed, bucket index) alone, so rateAt is pure and any two runs
// with the same seed agree whatever the order of calls.
class NoisyProfile final : public load::Profile {
 public:
  NoisyProfile(std::unique_ptr<load::Profile> base, double relativeStdDev, uint64_t seed,
               double bucketSeconds = 1.0);
  double rateAt(double seconds) const override;
  std::optional<double> duration() const override { return base_->duration(); }
  std::string describe() const override;

 private:
  std::unique_ptr<load::Profile> base_;
  double relativeStdDev_;
  uint64_t seed_;
  double bucketSeconds_;
};

}  // namespace ebb::scale
