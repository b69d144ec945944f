#include "ebb/report/scale_cost.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace ebb::report {
namespace {

// `partition` processed every 10 ms in [from, to).
void process(ReplicaTrace& replica, int32_t partition, double from, double to) {
  for (double t = from; t < to - 1e-9; t += 0.01) replica.processed.push_back({t, partition});
}

void sortByTime(ReplicaTrace& replica) {
  std::stable_sort(replica.processed.begin(), replica.processed.end(),
                   [](const Processed& a, const Processed& b) { return a.time < b.time; });
}

// Three replicas: a scale-out at 100 s moves partition 3 from b to c (c's first message 1.3 s
// after the decision, 0.3 s after b's last), and a scale-in at 120 s moves it back (0.2 s gap).
// The group's p99 is 10 ms per second except 250 ms in the second after the scale-out.
std::vector<ReplicaTrace> traces() {
  ReplicaTrace a{.name = "replica-0"}, b{.name = "replica-1"}, c{.name = "replica-2"};
  process(a, 0, 80, 140);
  process(b, 2, 80, 140);
  process(b, 3, 80, 101.0);
  process(c, 3, 101.3, 121.0);
  process(b, 3, 121.2, 140);
  for (auto* r : {&a, &b, &c}) sortByTime(*r);
  for (int s = 80; s < 140; ++s) {
    const double p99 = s == 101 ? 250 : 10;
    a.seconds.push_back({.time = s + 0.5, .consumed = 100, .p50Ms = 5, .p99Ms = p99, .maxMs = p99});
  }
  return {a, b, c};
}

TEST(ScaleCostTest, MeasuresExcessP99GapsAndDecisionToCapacityPerEvent) {
  const std::vector<ScaleDecision> decisions{{60, 0, 2}, {100, 2, 3}, {120, 3, 2}};
  const auto summary = measureScaleCosts(decisions, traces());
  ASSERT_EQ(summary.events.size(), 3u);

  const auto& out = summary.events[1];
  EXPECT_TRUE(out.scaleOut());
  ASSERT_TRUE(out.steadyP99Ms && out.excessP99Ms);
  EXPECT_DOUBLE_EQ(*out.steadyP99Ms, 10);
  EXPECT_DOUBLE_EQ(*out.excessP99Ms, 240);
  EXPECT_EQ(out.partitionsMoved, 1u);
  ASSERT_TRUE(out.longestGapMs);
  EXPECT_NEAR(*out.longestGapMs, 300, 11);
  ASSERT_TRUE(out.decisionToCapacityMs);
  EXPECT_NEAR(*out.decisionToCapacityMs, 1300, 1);

  const auto& in = summary.events[2];
  EXPECT_FALSE(in.scaleOut());
  EXPECT_DOUBLE_EQ(*in.excessP99Ms, 0);
  ASSERT_TRUE(in.longestGapMs);
  EXPECT_NEAR(*in.longestGapMs, 200, 11);
  EXPECT_FALSE(in.decisionToCapacityMs);

  // The start (0 -> 2) is not a scale event of a running group.
  EXPECT_EQ(summary.excessOut.events, 1u);
  EXPECT_EQ(summary.gapIn.events, 1u);
  EXPECT_NEAR(summary.capacityOut.median, 1300, 1);
}

TEST(ScaleCostTest, CapacityIsNotReachedWhenFewerNewReplicasProcessedThanAskedFor) {
  const std::vector<ScaleDecision> decisions{{100, 2, 4}};
  const auto summary = measureScaleCosts(decisions, traces());
  ASSERT_EQ(summary.events.size(), 1u);
  EXPECT_FALSE(summary.events[0].decisionToCapacityMs) << "only one new replica processed";
}

TEST(ScaleCostTest, ReadsDecisionsAndReplicaFiles) {
  const auto dir = std::filesystem::temp_directory_path() / "ebb-scale-cost-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "decisions.jsonl")
      << R"({"observation": {"at_ms": 0, "replicas": 0, "partitions": []}, "replicas": 2, "reason": "", "time": 50.5})"
      << "\n"
      << R"({"observation": {"at_ms": 1000, "replicas": 2, "partitions": []}, "replicas": 2, "reason": ""})"
      << "\n"
      << R"({"observation": {"at_ms": 2000, "replicas": 2, "partitions": []}, "replicas": 3, "reason": "", "time": 52.5})"
      << "\n";
  std::ofstream(dir / "replica-0.audit") << "3\t10\tk\tp1\t7\t52600000\n"
                                         << "3\t11\tk\tp1\t8\n"  // an older line: no time
                                         << "3\t12\tk\tp1\t9\t52700000\n";
  std::ofstream(dir / "replica-0.stats.jsonl")
      << R"({"time": 53.0, "consumed": 2, "malformed": 0, "p50_ms": 1, "p99_ms": 2, "max_ms": 2})"
      << "\n";
  const auto decisions = readDecisions(dir / "decisions.jsonl");
  ASSERT_EQ(decisions.size(), 2u) << "the hold is not an event";
  EXPECT_DOUBLE_EQ(decisions[1].time, 52.5);
  EXPECT_EQ(decisions[1].from, 2);
  EXPECT_EQ(decisions[1].to, 3);
  const auto replicas = readReplicaTraces(dir);
  ASSERT_EQ(replicas.size(), 1u);
  EXPECT_EQ(replicas[0].name, "replica-0");
  ASSERT_EQ(replicas[0].processed.size(), 2u);
  EXPECT_DOUBLE_EQ(replicas[0].processed[0].time, 52.6);
  EXPECT_EQ(replicas[0].seconds.size(), 1u);

  std::ofstream(dir / "bad.jsonl") << "not json\n";
  EXPECT_THROW(readDecisions(dir / "bad.jsonl"), std::runtime_error);
  EXPECT_THROW(readDecisions(dir / "missing.jsonl"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ebb::report
