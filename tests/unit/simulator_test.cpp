#include "ebb/scale/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ebb/load/profile.h"
#include "ebb/scale/slo_policy.h"
#include "expect_invalid.h"

namespace ebb::scale {
namespace {

using namespace std::chrono_literals;

// Asks for `replicas[i].second` from `replicas[i].first` on; remembers what it was shown.
class ScriptedPolicy final : public Policy {
 public:
  explicit ScriptedPolicy(std::vector<std::pair<Millis, int32_t>> script, Millis interval = 1s)
      : script_(std::move(script)), interval_(interval) {}
  std::string_view name() const override { return "scripted"; }
  Millis interval() const override { return interval_; }
  Decision decide(const Observation& observation) override {
    observations.push_back(observation);
    int32_t replicas = observation.currentReplicas;
    for (const auto& [at, count] : script_) {
      if (observation.at >= at) replicas = count;
    }
    return {replicas, "scripted"};
  }

  std::vector<Observation> observations;

 private:
  std::vector<std::pair<Millis, int32_t>> script_;
  Millis interval_;
};

std::unique_ptr<load::Profile> constant(double rate) {
  return load::parseProfile("constant", rate);
}

const SimPoint& at(const SimResult& result, double seconds) {
  for (const SimPoint& point : result.timeline) {
    if (point.seconds >= seconds - 1e-9) return point;
  }
  return result.timeline.back();
}

// Observed lag: log end minus committed, summed over partitions.
double observedLag(const Observation& observation) {
  double lag = 0;
  for (const PartitionObservation& p : observation.partitions) {
    lag += static_cast<double>(p.logEnd - p.committed);
  }
  return lag;
}

TEST(SimulatorTest, SameInputsGiveTheSameRunAndTheSeedMatters) {
  SimConfig config;
  config.duration = 300s;
  config.initialReplicas = 2;
  const auto run = [&](uint64_t seed) {
    const NoisyProfile noisy(load::parseProfile("spike:60:60:10", 800), 0.2, seed);
    SloPolicy policy(SloConfig{});
    return simulate(config, noisy, policy);
  };
  const SimResult a = run(7);
  const SimResult b = run(7);
  ASSERT_EQ(a.timeline.size(), b.timeline.size());
  for (size_t i = 0; i < a.timeline.size(); ++i) {
    EXPECT_EQ(a.timeline[i].arrivalRate, b.timeline[i].arrivalRate) << i;
    EXPECT_EQ(a.timeline[i].lag, b.timeline[i].lag) << i;
    EXPECT_EQ(a.timeline[i].replicasDesired, b.timeline[i].replicasDesired) << i;
    EXPECT_EQ(a.timeline[i].p99Seconds, b.timeline[i].p99Seconds) << i;
  }
  ASSERT_EQ(a.decisions.size(), b.decisions.size());
  for (size_t i = 0; i < a.decisions.size(); ++i) {
    EXPECT_EQ(a.decisions[i].reason, b.decisions[i].reason) << i;
  }
  EXPECT_EQ(a.summary.describe(), b.summary.describe());
  EXPECT_GT(a.summary.scaleEvents, 0);  // the run did something worth repeating

  const SimResult other = run(8);
  EXPECT_NE(a.summary.messagesArrived, other.summary.messagesArrived);
}

TEST(SimulatorTest, EnoughCapacityMeansNoViolationAndNoLagGrowth) {
  struct Case {
    int32_t partitions;
    int32_t replicas;
    double serviceRate;
    double arrivalRate;
  };
  const std::vector<Case> cases = {
      {12, 12, 1000, 6000},  // half busy
      {12, 4, 1000, 3900},   // 3 partitions per replica, 97.5% busy
      {12, 5, 1000, 3900},   // uneven: the 3-partition replicas are the limit (4k/s)
      {1, 1, 500, 499},      // one partition, nearly flat out
      {32, 8, 10'000, 70'000},
  };
  for (const Case& c : cases) {
    SimConfig config;
    config.partitions = c.partitions;
    config.serviceRate = c.serviceRate;
    config.initialReplicas = c.replicas;
    config.duration = 120s;
    ScriptedPolicy policy({});
    const auto arrivals = constant(c.arrivalRate);
    const SimResult result = simulate(config, *arrivals, policy);
    const std::string label =
        std::to_string(c.replicas) + " replicas, " + std::to_string(c.partitions) + " partitions";
    EXPECT_EQ(result.summary.sloViolationSeconds, 0) << label;
    EXPECT_EQ(result.summary.scaleEvents, 0) << label;
    EXPECT_EQ(result.summary.rebalances, 0) << label;
    // Nothing is left over from one step to the next.
    EXPECT_LT(result.summary.maxLag, 1e-6) << label;
    EXPECT_NEAR(result.summary.p99Seconds, 1 / c.serviceRate, 1e-9) << label;
    EXPECT_NEAR(result.summary.messagesConsumed, c.arrivalRate * 120, 1e-6 * c.arrivalRate)
        << label;
    EXPECT_NEAR(result.summary.replicaSeconds, c.replicas * 120.0, 1e-6) << label;
  }
}

TEST(SimulatorTest, TooFewReplicasLetLagGrowLinearlyAtTheShortfall) {
  struct Case {
    int32_t partitions;
    int32_t replicas;
    double serviceRate;
    double arrivalRate;
    double growth;  // messages/s
  };
  const std::vector<Case> cases = {
      {12, 2, 1000, 5000, 3000},
      {12, 4, 1000, 6000, 2000},
      // 5 replicas over 12 partitions: two replicas hold 3 partitions (1.2k/s of demand for 1k/s
      // of capacity), three hold 2 and keep up: 2 x 200 msg/s of growth, not 5k - 4.8k.
      {12, 5, 1000, 4800, 400},
      {1, 1, 1000, 1500, 500},
  };
  for (const Case& c : cases) {
    SimConfig config;
    config.partitions = c.partitions;
    config.serviceRate = c.serviceRate;
    config.initialReplicas = c.replicas;
    config.duration = 100s;
    ScriptedPolicy policy({});
    const auto arrivals = constant(c.arrivalRate);
    const SimResult result = simulate(config, *arrivals, policy);
    const std::string label =
        std::to_string(c.replicas) + " replicas at " + std::to_string(c.arrivalRate) + " msg/s";
    for (const double t : {10.0, 50.0, 99.0}) {
      // The lag at the end of the step that starts at t.
      EXPECT_NEAR(at(result, t).lag, c.growth * (t + 0.1), 1e-6 * c.arrivalRate * t)
          << label << " at " << t << " s";
    }
    // The consumers poll the lag too: committed trails log end by the same amount.
    EXPECT_NEAR(observedLag(policy.observations.back()), c.growth * 99, c.partitions + 1.0)
        << label;
    EXPECT_GT(result.summary.sloViolationSeconds, 0) << label;
  }
}

TEST(SimulatorTest, LatencyIsTheFifoWaitBehindTheBacklog) {
  // One partition, consumption at 1k/s, arrivals at 1.5k/s: message n arrives at n / 1500 and
  // leaves at n / 1000, so what arrives at t waits t / 2.
  SimConfig config;
  config.partitions = 1;
  config.serviceRate = 1000;
  config.duration = 60s;
  config.step = 10ms;
  ScriptedPolicy policy({});
  const auto arrivals = constant(1500);
  const SimResult result = simulate(config, *arrivals, policy);
  for (const double t : {2.0, 10.0, 20.0, 30.0}) {
    EXPECT_NEAR(at(result, t).p99Seconds, t / 2, 0.02) << "arrived at " << t << " s";
  }
  // Messages still waiting at the end count what they waited so far: ~ (60 - 40) s.
  EXPECT_NEAR(result.summary.maxSeconds, 20, 0.1);
  // From 1 s on (wait > 0.5 s) every step violates, but for the last 0.5 s, whose messages have
  // waited less than that when the run ends (the end censors waits).
  EXPECT_NEAR(result.summary.sloViolationSeconds, 58.5, 0.1);
}

TEST(SimulatorTest, ARebalancePauseAddsArrivalsTimesPauseToTheLag) {
  struct Case {
    Millis pause;
    double arrivalRate;
  };
  for (const Case& c : std::vector<Case>{{3s, 4000}, {1s, 4000}, {5s, 2000}, {0s, 4000}}) {
    SimConfig config;
    config.partitions = 12;
    config.serviceRate = 1000;
    config.initialReplicas = 6;
    config.rebalancePause = c.pause;
    config.duration = 60s;
    config.step = 10ms;
    ScriptedPolicy policy({{20s, 12}});
    const auto arrivals = constant(c.arrivalRate);
    const SimResult result = simulate(config, *arrivals, policy);
    const double pause = static_cast<double>(c.pause.count()) / 1000;
    const std::string label = std::to_string(c.pause.count()) + " ms pause";
    EXPECT_EQ(result.summary.scaleEvents, 1) << label;
    EXPECT_EQ(result.summary.rebalances, 1) << label;
    EXPECT_NEAR(result.summary.pausedSeconds, pause, 1e-6) << label;
    EXPECT_NEAR(result.summary.maxLag, c.arrivalRate * pause, c.arrivalRate * 0.011) << label;
    if (pause > 0) {
      EXPECT_NEAR(result.summary.maxLagAtSeconds, 20 + pause - 0.01, 0.011) << label;
      // The first message of the pause waits the whole pause.
      EXPECT_NEAR(result.summary.maxSeconds, pause, 0.02) << label;
    }
    // Then 12k/s drains it: no lag left 10 s later.
    EXPECT_LT(at(result, 20 + pause + 10).lag, 1) << label;
    EXPECT_EQ(at(result, 25).replicasRunning, 12) << label;
  }
}

TEST(SimulatorTest, ReplicasBeyondThePartitionCountAddNoCapacity) {
  // 4 partitions at 1k/s per replica: 4k/s at most, however many replicas run.
  for (const int32_t replicas : {4, 5, 8, 16}) {
    SimConfig config;
    config.partitions = 4;
    config.serviceRate = 1000;
    config.initialReplicas = replicas;
    config.duration = 50s;
    ScriptedPolicy policy({});
    const auto arrivals = constant(6000);
    const SimResult result = simulate(config, *arrivals, policy);
    EXPECT_NEAR(at(result, 40).lag, 2000 * 40.1, 1) << replicas << " replicas";
    EXPECT_NEAR(at(result, 40).consumeRate, 4000, 1e-6) << replicas << " replicas";
    // They still cost.
    EXPECT_NEAR(result.summary.replicaSeconds, replicas * 50.0, 1e-6) << replicas << " replicas";
  }
}

TEST(SimulatorTest, StartupDelayHoldsNewReplicasBackButTheyCostFromTheDecision) {
  SimConfig config;
  config.partitions = 12;
  config.serviceRate = 1000;
  config.initialReplicas = 2;
  config.startupDelay = 5s;
  config.rebalancePause = 2s;
  config.duration = 40s;
  ScriptedPolicy policy({{10s, 6}, {30s, 3}});
  const auto arrivals = constant(1000);
  const SimResult result = simulate(config, *arrivals, policy);
  EXPECT_EQ(at(result, 12).replicasDesired, 6);
  EXPECT_EQ(at(result, 12).replicasRunning, 2);
  EXPECT_EQ(at(result, 15).replicasRunning, 6);
  EXPECT_TRUE(at(result, 15).paused);
  EXPECT_FALSE(at(result, 17).paused);
  EXPECT_EQ(at(result, 30).replicasRunning, 3);  // scale-in is immediate
  EXPECT_EQ(result.summary.rebalances, 2);
  EXPECT_NEAR(result.summary.pausedSeconds, 4, 1e-6);
  EXPECT_NEAR(result.summary.replicaSeconds, 2 * 10 + 6 * 20 + 3 * 10, 1e-6);
  // The policy sees the running count, not the desired one.
  EXPECT_EQ(policy.observations[12].currentReplicas, 2);
  EXPECT_EQ(policy.observations[16].currentReplicas, 6);
}

TEST(SimulatorTest, AStuckPartitionStopsItsCommitsButNotTheOthers) {
  SimConfig config;
  config.partitions = 4;
  config.serviceRate = 1000;
  config.initialReplicas = 2;
  config.duration = 60s;
  config.stuck = {{1, 10s, 40s}};
  ScriptedPolicy policy({});
  const auto arrivals = constant(800);
  const SimResult result = simulate(config, *arrivals, policy);
  const Observation& during = policy.observations[30];
  const auto lagOf = [&](size_t p) {
    return static_cast<double>(during.partitions[p].logEnd - during.partitions[p].committed);
  };
  EXPECT_NEAR(lagOf(1), 200 * 20, 1);
  EXPECT_NEAR(lagOf(0), 0, 1);
  EXPECT_NEAR(lagOf(3), 0, 1);
  EXPECT_NEAR(at(result, 39.9).lag, 200 * 30, 1);
  EXPECT_LT(at(result, 50).lag, 1);  // drained once unstuck
  // Latency covers the partitions that are never stuck.
  EXPECT_EQ(result.summary.sloViolationSeconds, 0);
}

TEST(SimulatorTest, CommitTimersLeaveProcessedWorkUncommitted) {
  SimConfig config;
  config.partitions = 12;
  config.serviceRate = 1000;
  config.initialReplicas = 12;
  config.commitInterval = 1s;
  config.rebalancePause = 3s;
  config.duration = 20s;
  ScriptedPolicy policy({{10s, 6}});
  const auto arrivals = constant(6000);
  const SimResult result = simulate(config, *arrivals, policy);
  // Nothing waits (12k/s against 6k/s), yet the lag shows what was processed since each
  // partition's last commit: staggered timers leave 0 to 0.9 s of it, 5 partition-seconds in all
  // at 500 msg/s per partition.
  EXPECT_LT(at(result, 5).lag, 1e-6);
  for (const size_t i : {3, 5, 9}) {
    EXPECT_NEAR(observedLag(policy.observations[i]), 2500, 12) << "at " << i << " s";
  }
  // Consumers commit before a rebalance; then nothing is consumed (or committed) for 3 s, so one
  // second into the pause the lag is exactly the second's arrivals.
  EXPECT_NEAR(observedLag(policy.observations[11]), 6000, 12);
}

TEST(SimulatorTest, ThePolicySeesTheConsumersP99WhenAsked) {
  SimConfig config;
  config.partitions = 1;
  config.serviceRate = 1000;
  config.duration = 20s;
  config.step = 10ms;
  ScriptedPolicy policy({});
  const auto arrivals = constant(1500);
  simulate(config, *arrivals, policy);
  ASSERT_GT(policy.observations.size(), 11u);
  EXPECT_FALSE(policy.observations[0].p99Seconds.has_value());  // nothing consumed yet
  // Consumed during [9 s, 10 s): messages that arrived around 6 s, waiting ~3 s.
  ASSERT_TRUE(policy.observations[10].p99Seconds.has_value());
  EXPECT_NEAR(*policy.observations[10].p99Seconds, 3.3, 0.05);

  config.observeP99 = false;
  ScriptedPolicy blind({});
  simulate(config, *arrivals, blind);
  EXPECT_FALSE(blind.observations[10].p99Seconds.has_value());
}

TEST(SimulatorTest, RecoveryIsMeasuredFromThePeak) {
  SimConfig config;
  config.partitions = 1;
  config.serviceRate = 1000;
  config.duration = 60s;
  ScriptedPolicy policy({});
  // 2k/s for 5 s from 10 s against 1k/s: 5,000 behind at 15 s, drained at 500/s by 25 s.
  const auto arrivals = load::parseProfile("spike:10:5:4", 500);
  const SimResult result = simulate(config, *arrivals, policy);
  EXPECT_NEAR(result.summary.peakAtSeconds, 10, 1e-9);
  EXPECT_NEAR(result.summary.maxLag, 5000, 60);
  // Messages stop violating when the wait behind the backlog falls below 0.5 s, and the last of
  // them arrives a little before the backlog is gone at 10 + 5 + 10 s.
  EXPECT_GT(result.summary.recoverySeconds, 10);
  EXPECT_LT(result.summary.recoverySeconds, 15.1);
}

TEST(SimulatorTest, BadConfigsAreRejectedWithTheField) {
  struct Case {
    std::string field;
    void (*apply)(SimConfig&);
  };
  const std::vector<Case> cases = {
      {"partitions", [](SimConfig& c) { c.partitions = 0; }},
      {"serviceRate", [](SimConfig& c) { c.serviceRate = 0; }},
      {"step", [](SimConfig& c) { c.step = 0ms; }},
      {"duration", [](SimConfig& c) { c.duration = 10ms; }},
      {"rebalancePause", [](SimConfig& c) { c.rebalancePause = -1ms; }},
      {"startupDelay", [](SimConfig& c) { c.startupDelay = -1ms; }},
      {"minReplicas", [](SimConfig& c) { c.maxReplicas = 0; }},
      {"initialReplicas", [](SimConfig& c) { c.initialReplicas = 0; }},
      {"objectiveSeconds", [](SimConfig& c) { c.objectiveSeconds = 0; }},
      {"stuck",
       [](SimConfig& c) {
         c.stuck = {{12, 0ms, 1s}};
       }},
  };
  for (const Case& c : cases) {
    SimConfig config;
    c.apply(config);
    test::expectInvalid([&] { config.validate(); }, c.field, c.field);
  }
  EXPECT_NO_THROW(SimConfig{}.validate());
}

TEST(SimulatorTest, NoisyArrivalsArePureAndCentredOnTheBase) {
  const NoisyProfile noisy(constant(1000), 0.1, 42);
  const NoisyProfile same(constant(1000), 0.1, 42);
  const NoisyProfile other(constant(1000), 0.1, 43);
  double sum = 0;
  double squares = 0;
  int differs = 0;
  constexpr int kBuckets = 4000;
  for (int i = 0; i < kBuckets; ++i) {
    const double t = i + 0.5;
    const double rate = noisy.rateAt(t);
    EXPECT_EQ(rate, same.rateAt(t));
    EXPECT_EQ(rate, noisy.rateAt(t - 0.4));  // constant within a bucket
    EXPECT_GE(rate, 0);
    if (rate != other.rateAt(t)) ++differs;
    sum += rate;
    squares += (rate - 1000) * (rate - 1000);
  }
  EXPECT_NEAR(sum / kBuckets, 1000, 5);
  EXPECT_NEAR(std::sqrt(squares / kBuckets), 100, 5);
  EXPECT_GT(differs, kBuckets - 10);
  EXPECT_NE(noisy.describe().find("10% noise"), std::string::npos) << noisy.describe();
  EXPECT_THROW(NoisyProfile(constant(1), -0.1, 1), std::invalid_argument);
  EXPECT_THROW(NoisyProfile(nullptr, 0.1, 1), std::invalid_argument);
}

}  // namespace
}  // namespace ebb::scale
