#include "ebb/scale/keda_policy.h"
#include "expect_invalid.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::scale {
namespace {

// A partition with `lag` messages behind a commit at `committed` (-1: no commit, then `lag` is
// the log end).
PartitionObservation partition(int32_t id, int64_t lag, int64_t committed = 1000) {
  if (committed < 0) return {id, 0, lag, -1};
  return {id, 0, committed + lag, committed};
}

// `count` partitions with the same lag each.
std::vector<PartitionObservation> partitions(int32_t count, int64_t lagEach) {
  std::vector<PartitionObservation> result;
  for (int32_t p = 0; p < count; ++p) result.push_back(partition(p, lagEach));
  return result;
}

Observation observe(int64_t atSeconds, std::vector<PartitionObservation> parts,
                    int32_t currentReplicas) {
  Observation observation;
  observation.at = Millis(atSeconds * 1000);
  observation.partitions = std::move(parts);
  observation.currentReplicas = currentReplicas;
  return observation;
}

KedaKafkaConfig withThreshold(int64_t lagThreshold) {
  KedaKafkaConfig config;
  config.lagThreshold = lagThreshold;
  return config;
}

struct MetricCase {
  std::string name;
  KedaKafkaConfig config;
  std::vector<PartitionObservation> partitions;
  int64_t metric;
  int64_t totalLagWithPersistent;
  bool active;
};

TEST(KedaKafkaMetricTest, OneQuery) {
  KedaKafkaConfig idle = withThreshold(10);
  idle.allowIdleConsumers = true;
  KedaKafkaConfig withLagOnly = withThreshold(10);
  withLagOnly.limitToPartitionsWithLag = true;
  KedaKafkaConfig earliest = withThreshold(10);
  earliest.offsetResetPolicy = OffsetResetPolicy::kEarliest;
  earliest.allowIdleConsumers = true;
  KedaKafkaConfig latestToZero = withThreshold(10);
  latestToZero.scaleToZeroOnInvalidOffset = true;
  KedaKafkaConfig earliestToZero = earliest;
  earliestToZero.scaleToZeroOnInvalidOffset = true;
  KedaKafkaConfig activation = withThreshold(10);
  activation.activationLagThreshold = 5;
  KedaKafkaConfig even = withThreshold(10);
  even.ensureEvenDistributionOfPartitions = true;

  const std::vector<MetricCase> cases = {
      {"sum of partition lags",
       withThreshold(1000),
       {partition(0, 100), partition(1, 200)},
       300,
       300,
       true},
      // The partition cap: at most one replica per partition, so lag / threshold <= partitions.
      {"capped at partitions x threshold", withThreshold(10), partitions(3, 200), 30, 600, true},
      {"allowIdleConsumers: no cap", idle, partitions(3, 200), 600, 600, true},
      // The cap divides as integers: 39 / 10 = 3 is not > 3 partitions, so 39 passes and the
      // HPA asks for ceil(3.9) = 4 replicas for 3 partitions.
      {"cap uses integer division",
       withThreshold(10),
       {partition(0, 39), partition(1, 0), partition(2, 0)},
       39,
       39,
       true},
      {"cap bites at (partitions + 1) x threshold",
       withThreshold(10),
       {partition(0, 40), partition(1, 0), partition(2, 0)},
       30,
       40,
       true},
      {"limitToPartitionsWithLag",
       withLagOnly,
       {partition(0, 500), partition(1, 0), partition(2, 0)},
       10,
       500,
       true},
      // No committed offset: latest counts 1, earliest counts the log end (not end - start).
      {"invalid offset, latest",
       withThreshold(10),
       {partition(0, 1000, -1), partition(1, 1000, -1)},
       2,
       2,
       true},
      {"invalid offset, latest, scaleToZeroOnInvalidOffset",
       latestToZero,
       {partition(0, 1000, -1)},
       0,
       0,
       false},
      {"invalid offset, earliest", earliest, {{0, 400, 1000, -1}}, 1000, 1000, true},
      {"invalid offset, earliest, scaleToZeroOnInvalidOffset",
       earliestToZero,
       {{0, 400, 1000, -1}},
       0,
       0,
       false},
      {"activation: lag 5 is not > 5", activation, {partition(0, 5)}, 5, 5, false},
      {"activation: lag 6 > 5", activation, {partition(0, 6)}, 6, 6, true},
      {"no lag: inactive", withThreshold(10), partitions(4, 0), 0, 0, false},
      // A commit beyond the log end makes negative lag; KEDA sends 0 for a negative metric.
      {"negative lag sends 0", withThreshold(10), {{0, 0, 100, 150}}, 0, -50, false},
      // ensureEvenDistributionOfPartitions: 12 partitions, lag 45 -> smallest factor f of 12
      // with f x 10 >= 45 is 6.
      {"even distribution",
       even,
       {partition(0, 45), partition(1, 0), partition(2, 0), partition(3, 0), partition(4, 0),
        partition(5, 0), partition(6, 0), partition(7, 0), partition(8, 0), partition(9, 0),
        partition(10, 0), partition(11, 0)},
       60,
       45,
       true},
  };
  for (const MetricCase& c : cases) {
    KafkaScalerMemory memory;
    const KafkaLagMetric m = kafkaLagMetric(c.config, observe(0, c.partitions, 1), memory);
    EXPECT_EQ(m.metric, c.metric) << c.name << ": " << m.describe(c.config);
    EXPECT_EQ(m.totalLagWithPersistent, c.totalLagWithPersistent) << c.name;
    EXPECT_EQ(m.active, c.active) << c.name;
  }
}

TEST(KedaKafkaMetricTest, ExcludePersistentLagIgnoresACommitThatDoesNotMove) {
  KedaKafkaConfig config = withThreshold(10);
  config.excludePersistentLag = true;
  config.allowIdleConsumers = true;
  KafkaScalerMemory memory;
  struct Query {
    std::vector<PartitionObservation> partitions;
    int64_t metric;
    int64_t withPersistent;
    std::vector<int32_t> persistent;
  };
  const std::vector<Query> queries = {
      // First sight of each partition: counted, remembered.
      {{{0, 0, 1000, 100}, {1, 0, 60, 50}}, 910, 910, {}},
      // Partition 0 did not move: not counted for the metric, still counted for activity.
      {{{0, 0, 1100, 100}, {1, 0, 70, 60}}, 10, 1010, {0}},
      {{{0, 0, 1200, 100}, {1, 0, 70, 70}}, 0, 1100, {0}},
      // It moved: counted again. Partition 1 is caught up and unchanged: lag 0 either way.
      {{{0, 0, 1200, 300}, {1, 0, 70, 70}}, 900, 900, {}},
  };
  for (size_t i = 0; i < queries.size(); ++i) {
    const KafkaLagMetric m = kafkaLagMetric(config, observe(0, queries[i].partitions, 1), memory);
    EXPECT_EQ(m.metric, queries[i].metric) << "query " << i << ": " << m.describe(config);
    EXPECT_EQ(m.totalLagWithPersistent, queries[i].withPersistent) << "query " << i;
    EXPECT_EQ(m.persistentPartitions, queries[i].persistent) << "query " << i;
    EXPECT_TRUE(m.active) << "query " << i;
  }
}

TEST(KedaKafkaMetricTest, DescribeShowsTheCap) {
  const KedaKafkaConfig config = withThreshold(4000);
  KafkaScalerMemory memory;
  const KafkaLagMetric m = kafkaLagMetric(config, observe(0, partitions(12, 100'000), 4), memory);
  EXPECT_EQ(m.describe(config),
            "lag 1,200,000 over 12 partitions > 12 partitions × 4,000 → metric capped at 48,000; "
            "active (lag 1,200,000 > activationLagThreshold 0)");
}

// A run of the policy where each tick sees the replica count the previous decision asked for.
struct Tick {
  int64_t atSeconds;
  std::vector<PartitionObservation> partitions;
  int32_t expected;
};

void runTicks(const std::string& name, const KedaKafkaConfig& config, int32_t startReplicas,
              const std::vector<Tick>& ticks) {
  KedaPolicy policy(config);
  int32_t replicas = startReplicas;
  for (const Tick& tick : ticks) {
    const Decision d = policy.decide(observe(tick.atSeconds, tick.partitions, replicas));
    EXPECT_EQ(d.replicas, tick.expected)
        << name << " at " << tick.atSeconds << " s from " << replicas << ": " << d.reason;
    replicas = d.replicas;
  }
}

// Ticks every 15 s from `from`, the same partitions each time.
std::vector<Tick> ticks(int64_t from, const std::vector<PartitionObservation>& parts,
                        const std::vector<int32_t>& expected) {
  std::vector<Tick> result;
  for (size_t i = 0; i < expected.size(); ++i) {
    result.push_back({from + 15 * static_cast<int64_t>(i), parts, expected[i]});
  }
  return result;
}

std::vector<Tick> concat(std::vector<Tick> a, const std::vector<Tick>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(KedaPolicyTest, ScenariosOverTime) {
  KedaKafkaConfig idle = withThreshold(10);
  idle.allowIdleConsumers = true;
  KedaKafkaConfig activation = withThreshold(10);
  activation.activationLagThreshold = 100;
  KedaKafkaConfig initialCooldown = withThreshold(10);
  initialCooldown.initialCooldownPeriod = Millis{60'000};
  KedaKafkaConfig minTwo = withThreshold(10);
  minTwo.minReplicaCount = 2;
  KedaKafkaConfig behavior = withThreshold(10);
  behavior.hpa.behavior = HpaBehavior{};
  KedaKafkaConfig toZero = withThreshold(10);
  toZero.scaleToZeroOnInvalidOffset = true;
  KedaKafkaConfig earliest = withThreshold(10);
  earliest.offsetResetPolicy = OffsetResetPolicy::kEarliest;

  struct Run {
    std::string name;
    KedaKafkaConfig config;
    int32_t start;
    std::vector<Tick> ticks;
  };
  const std::vector<PartitionObservation> noLag = partitions(12, 0);
  const std::vector<PartitionObservation> bigLag = partitions(12, 1'000'000);
  const std::vector<Run> runs = {
      // Activation happens on KEDA's poll (0, 30, 60 s ...), not on the HPA's sync: lag that
      // appears at 45 s waits for the poll at 60 s. The HPA then takes over from 1.
      {"activation on the poll", withThreshold(10), 0,
       concat(ticks(0, noLag, {0, 0, 0}), ticks(45, bigLag, {0, 1, 4, 8, 12, 12}))},
      // activationLagThreshold: lag must exceed it.
      {"activation threshold", activation, 0,
       concat(ticks(0, {partition(0, 100)}, {0, 0, 0}), ticks(45, {partition(0, 101)}, {0, 1}))},
      // The partition cap: 12 partitions, so 12 replicas however large the lag.
      {"capped at partitions", withThreshold(10), 1, ticks(0, bigLag, {4, 8, 12, 12, 12})},
      {"allowIdleConsumers goes to maxReplicaCount", idle, 1,
       ticks(0, bigLag, {4, 8, 16, 32, 64, 100, 100})},
      {"spec.behavior set: 1, 5, 10, 12", behavior, 1, ticks(0, bigLag, {5, 10, 12, 12})},
      // Scale to zero only cooldownPeriod after the last active poll. Active polls up to 90 s;
      // from 105 s no lag; the poll at 390 s is the first at least 300 s after 90 s.
      {"scale to zero after cooldown", withThreshold(10), 1,
       concat(ticks(0, {partition(0, 5)}, {1, 1, 1, 1, 1, 1, 1}),
              concat(ticks(105, {partition(0, 0)}, std::vector<int32_t>(19, 1)),
                     ticks(390, {partition(0, 0)}, {0, 0})))},
      // Never active since creation: initialCooldownPeriod (default 0) counts from creation.
      {"never active: zero at the first poll", withThreshold(10), 1, ticks(0, noLag, {0, 0})},
      {"never active: initialCooldownPeriod 60 s", initialCooldown, 1,
       ticks(0, noLag, {1, 1, 1, 1, 0})},
      // minReplicaCount > 0: never below it, and the HPA gets it as minReplicas.
      {"minReplicaCount 2", minTwo, 0, ticks(0, noLag, {2, 2, 2})},
      // No commits yet on 3 partitions with 1,000 messages each.
      {"no commits, latest: lag 1 each activates one replica", withThreshold(10), 0,
       ticks(0, {partition(0, 1000, -1), partition(1, 1000, -1), partition(2, 1000, -1)},
             {1, 1, 1})},
      {"no commits, scaleToZeroOnInvalidOffset stays at zero", toZero, 0,
       ticks(0, {partition(0, 1000, -1), partition(1, 1000, -1), partition(2, 1000, -1)},
             {0, 0, 0})},
      {"no commits, earliest: full log counts", earliest, 0,
       ticks(0, {partition(0, 1000, -1), partition(1, 1000, -1), partition(2, 1000, -1)},
             {1, 3, 3})},
  };
  for (const Run& run : runs) runTicks(run.name, run.config, run.start, run.ticks);
}

TEST(KedaPolicyTest, PersistentLagScalesDownButNeverToZero) {
  KedaKafkaConfig config = withThreshold(10);
  config.excludePersistentLag = true;
  const std::vector<PartitionObservation> stuck = {partition(0, 100'000), partition(1, 100'000),
                                                   partition(2, 100'000), partition(3, 100'000)};
  KedaPolicy policy(config);
  int32_t replicas = 1;
  // 0 s: first query counts the lag, capped at 4 partitions -> 4 replicas.
  replicas = policy.decide(observe(0, stuck, replicas)).replicas;
  EXPECT_EQ(replicas, 4);
  // Then every query finds the commits unchanged: metric 0, still active. The legacy HPA holds 4
  // for the 300 s window, then goes to minReplicas 1, and KEDA keeps it there.
  for (int64_t t = 15; t <= 600; t += 15) {
    const Decision d = policy.decide(observe(t, stuck, replicas));
    replicas = d.replicas;
    EXPECT_EQ(replicas, t <= 300 ? 4 : 1) << t << " s: " << d.reason;
  }
}

// KEDA issues #2908 and #4791: the partition cap sends partitions x lagThreshold, the HPA divides
// by the current replicas, and when partitions / current <= 1 + tolerance the ratio stays inside
// the tolerance. The count sticks below the partition count for as long as the lag lasts.
TEST(KedaPolicyTest, StuckBelowPartitionCountByTheTolerance) {
  struct Case {
    std::string name;
    int32_t partitions;
    double tolerance;
    int32_t current;
    int32_t expected;
  };
  const std::vector<Case> cases = {
      {"#2908: 64 partitions stuck at 63 (64/63 = 1.016)", 64, 0.1, 63, 63},
      {"#4791: 24 partitions stuck at 22 (24/22 = 1.091)", 24, 0.1, 22, 22},
      {"24 partitions stuck at 23", 24, 0.1, 23, 23},
      {"24 partitions from 21 reach 24 (24/21 = 1.143)", 24, 0.1, 21, 24},
      // 10 / 9 = 1.111 > 1.1: with 10 partitions the default tolerance does not hold at 9.
      {"10 partitions from 9 reach 10", 10, 0.1, 9, 10},
      {"10 partitions stuck at 9 with tolerance 0.15", 10, 0.15, 9, 9},
      {"11 partitions stuck at 10 (11/10 = 1.1, bound included)", 11, 0.1, 10, 10},
  };
  for (const Case& c : cases) {
    KedaKafkaConfig config = withThreshold(1000);
    config.hpa.tolerance = c.tolerance;
    KedaPolicy policy(config);
    int32_t replicas = c.current;
    for (int64_t t = 0; t <= 600; t += 15) {
      const Decision d = policy.decide(observe(t, partitions(c.partitions, 1'000'000), replicas));
      replicas = d.replicas;
      if (t == 0) {
        EXPECT_NE(d.reason.find("metric capped at"), std::string::npos) << d.reason;
      }
    }
    EXPECT_EQ(replicas, c.expected) << c.name;
  }
}

TEST(KedaPolicyTest, StuckWhenLagGrowsPastTheCap) {
  // How a group gets to 22 of 24 (as in #4791): lag grows gradually, the HPA follows it to 22,
  // then the lag passes the cap and the capped metric is within tolerance of 22 replicas.
  KedaKafkaConfig config = withThreshold(1000);
  KedaPolicy policy(config);
  int32_t replicas = 11;
  replicas = policy.decide(observe(0, partitions(24, 21'500 / 24 + 1), replicas)).replicas;
  EXPECT_EQ(replicas, 22);
  for (int64_t t = 15; t <= 900; t += 15) {
    replicas = policy.decide(observe(t, partitions(24, 1'000'000), replicas)).replicas;
    EXPECT_EQ(replicas, 22) << t << " s";
  }
}

TEST(KedaPolicyTest, IntegerDivisionCapAllowsOneReplicaMoreThanPartitions) {
  // lag 39 over 3 partitions x 10: 39 / 10 = 3 is not > 3, so the metric is not capped and the
  // HPA asks for ceil(3.9) = 4 replicas, one more than there are partitions.
  KedaPolicy policy(withThreshold(10));
  const Decision d =
      policy.decide(observe(0, {partition(0, 39), partition(1, 0), partition(2, 0)}, 3));
  EXPECT_EQ(d.replicas, 4) << d.reason;
}

TEST(KedaPolicyTest, ReasonShowsTheFigures) {
  KedaPolicy policy(withThreshold(4000));
  const Decision d = policy.decide(observe(0, partitions(12, 100'000), 4));
  EXPECT_EQ(d.replicas, 8);
  EXPECT_EQ(d.reason,
            "lag 1,200,000 over 12 partitions > 12 partitions × 4,000 → metric capped at 48,000; "
            "active (lag 1,200,000 > activationLagThreshold 0); hpa: metric 48,000 vs 4 × target "
            "4,000: ratio 3.000 > 1.1 → ceil(48,000 / 4,000) = 12; scale-up limit max(2 × 4, 4) "
            "→ 8");
  KedaPolicy fromZero(withThreshold(10));
  const Decision activated = fromZero.decide(observe(0, {partition(0, 50)}, 0));
  EXPECT_EQ(activated.replicas, 1);
  EXPECT_NE(activated.reason.find("hpa: scaling disabled at 0 replicas"), std::string::npos)
      << activated.reason;
  EXPECT_NE(activated.reason.find("keda: active at 0 replicas → activate to 1"), std::string::npos)
      << activated.reason;
}

TEST(KedaPolicyTest, IntervalIsTheHpaSyncPeriod) {
  KedaKafkaConfig config;
  EXPECT_EQ(KedaPolicy(config).interval(), Millis{15'000});
  config.hpa.syncPeriod = Millis{5'000};
  const KedaPolicy policy(config);
  EXPECT_EQ(policy.interval(), Millis{5'000});
  EXPECT_EQ(policy.name(), "keda");
}

TEST(KedaPolicyTest, PollsAreServedOnTheNearestSyncTick) {
  // pollingInterval 20 s on a 15 s sync: polls due at 0, 20, 40, 60 ... are served at the
  // ticks 0, 15, 45, 60 ... Observed through activation: lag appears at 30 s; the poll due at
  // 40 s is served at 45 s.
  KedaKafkaConfig config = withThreshold(10);
  config.pollingInterval = Millis{20'000};
  runTicks("20 s polls", config, 0,
           concat(ticks(0, {partition(0, 0)}, {0, 0}), ticks(30, {partition(0, 50)}, {0, 1})));
}

TEST(KedaPolicyTest, DefaultsAreKeda) {
  const KedaKafkaConfig config;
  EXPECT_EQ(config.lagThreshold, 10);
  EXPECT_EQ(config.activationLagThreshold, 0);
  EXPECT_EQ(config.offsetResetPolicy, OffsetResetPolicy::kLatest);
  EXPECT_FALSE(config.allowIdleConsumers);
  EXPECT_FALSE(config.limitToPartitionsWithLag);
  EXPECT_FALSE(config.ensureEvenDistributionOfPartitions);
  EXPECT_FALSE(config.excludePersistentLag);
  EXPECT_FALSE(config.scaleToZeroOnInvalidOffset);
  EXPECT_EQ(config.pollingInterval, Millis{30'000});
  EXPECT_EQ(config.cooldownPeriod, Millis{300'000});
  EXPECT_EQ(config.minReplicaCount, 0);
  EXPECT_EQ(config.maxReplicaCount, 100);
  // The HPA KEDA writes: minReplicas max(minReplicaCount, 1), spec.behavior unset.
  EXPECT_EQ(config.hpaConfig().minReplicas, 1);
  EXPECT_EQ(config.hpaConfig().maxReplicas, 100);
  EXPECT_FALSE(config.hpaConfig().behavior.has_value());
}

TEST(KedaPolicyTest, ValidateSaysWhatToFix) {
  struct Case {
    std::string name;
    void (*mutate)(KedaKafkaConfig&);
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"threshold 0", [](KedaKafkaConfig& c) { c.lagThreshold = 0; }, "lagThreshold 0 must be > 0"},
      {"negative activation", [](KedaKafkaConfig& c) { c.activationLagThreshold = -1; },
       "activationLagThreshold -1 must be >= 0"},
      {"idle and with-lag",
       [](KedaKafkaConfig& c) {
         c.allowIdleConsumers = true;
         c.limitToPartitionsWithLag = true;
       },
       "allowIdleConsumers and limitToPartitionsWithLag cannot both be true"},
      {"with-lag and even",
       [](KedaKafkaConfig& c) {
         c.limitToPartitionsWithLag = true;
         c.ensureEvenDistributionOfPartitions = true;
       },
       "limitToPartitionsWithLag and ensureEvenDistributionOfPartitions"},
      {"min > max",
       [](KedaKafkaConfig& c) {
         c.minReplicaCount = 5;
         c.maxReplicaCount = 4;
       },
       "minReplicaCount 5 must not exceed maxReplicaCount 4"},
      {"polling 0", [](KedaKafkaConfig& c) { c.pollingInterval = Millis{0}; }, "pollingInterval"},
      {"hpa tolerance", [](KedaKafkaConfig& c) { c.hpa.tolerance = -1; }, "hpa tolerance"},
  };
  for (const Case& c : cases) {
    KedaKafkaConfig config;
    c.mutate(config);
    test::expectInvalid([&] { config.validate(); }, c.fragment, c.name);
    EXPECT_THROW(KedaPolicy{config}, std::invalid_argument) << c.name;
  }
}

TEST(KedaPolicyTest, FromSettings) {
  const KedaKafkaConfig config =
      KedaKafkaConfig::fromSettings({{"lagThreshold", "4000"},
                                     {"activationLagThreshold", "50"},
                                     {"offsetResetPolicy", "Earliest"},
                                     {"allowIdleConsumers", "true"},
                                     {"excludePersistentLag", "1"},
                                     {"scaleToZeroOnInvalidOffset", "TRUE"},
                                     {"pollingInterval", "10s"},
                                     {"cooldownPeriod", "120"},
                                     {"initialCooldownPeriod", "1m"},
                                     {"minReplicaCount", "1"},
                                     {"maxReplicaCount", "24"},
                                     {"tolerance", "0.05"},
                                     {"scaleDownStabilization", "60s"}});
  EXPECT_EQ(config.lagThreshold, 4000);
  EXPECT_EQ(config.activationLagThreshold, 50);
  EXPECT_EQ(config.offsetResetPolicy, OffsetResetPolicy::kEarliest);
  EXPECT_TRUE(config.allowIdleConsumers);
  EXPECT_FALSE(config.limitToPartitionsWithLag);
  EXPECT_TRUE(config.excludePersistentLag);
  EXPECT_TRUE(config.scaleToZeroOnInvalidOffset);
  EXPECT_EQ(config.pollingInterval, Millis{10'000});
  EXPECT_EQ(config.cooldownPeriod, Millis{120'000});
  EXPECT_EQ(config.initialCooldownPeriod, Millis{60'000});
  EXPECT_EQ(config.minReplicaCount, 1);
  EXPECT_EQ(config.maxReplicaCount, 24);
  EXPECT_DOUBLE_EQ(config.hpa.tolerance, 0.05);
  ASSERT_TRUE(config.hpa.behavior.has_value());
  EXPECT_EQ(config.hpa.behavior->scaleDown.stabilizationWindow, Millis{60'000});
  EXPECT_EQ(config.hpaConfig().maxReplicas, 24);

  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> bad = {
      {{{"lagTreshold", "10"}}, "'lagTreshold' is unknown; the keda policy accepts: lagThreshold"},
      {{{"lagThreshold", "0"}}, "lagThreshold='0': use an integer in [1,"},
      {{{"offsetResetPolicy", "none"}}, "offsetResetPolicy='none': use one of latest, earliest"},
      {{{"allowIdleConsumers", "maybe"}}, "allowIdleConsumers='maybe': use true or false"},
      {{{"cooldownPeriod", "5 minutes"}}, "cooldownPeriod='5 minutes'"},
      {{{"minReplicas", "2"}}, "set those instead"},
      {{{"allowIdleConsumers", "true"}, {"limitToPartitionsWithLag", "true"}}, "cannot both"},
  };
  for (const auto& [settings, fragment] : bad) {
    test::expectInvalid([&] { KedaKafkaConfig::fromSettings(settings); }, fragment, fragment);
  }
}

}  // namespace
}  // namespace ebb::scale
