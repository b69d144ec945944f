// The demo report's pure pieces: replicas' stats lines, the latency bound that combines them, the
// timeline, its CSV form, and the summary figures of a small synthetic run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "ebb/load/profile.h"
#include "ebb/report/summary.h"
#include "ebb/report/timeline.h"

namespace ebb::report {
namespace {

TEST(StatsLineTest, ParsesWhatConsumeWrites) {
  const auto line = parseStatsLine(
      R"({"time": 1700000000.250, "consumed": 1024, "malformed": 2, "p50_ms": 4.500, )"
      R"("p99_ms": 31.250, "max_ms": 40.000})");
  ASSERT_TRUE(line);
  EXPECT_DOUBLE_EQ(line->time, 1700000000.25);
  EXPECT_EQ(line->consumed, 1024u);
  EXPECT_EQ(line->malformed, 2u);
  EXPECT_DOUBLE_EQ(line->p50Ms, 4.5);
  EXPECT_DOUBLE_EQ(line->p99Ms, 31.25);
  EXPECT_DOUBLE_EQ(line->maxMs, 40);
}

TEST(StatsLineTest, RejectsLinesCutShortOrWithoutFigures) {
  for (const std::string text :
       {R"({"time": 1700000000.250, "consumed": 10, "p50_ms": 1)", "",
        R"({"time": 1, "consumed": 10, "p50_ms": 1, "p99_ms": 2})",
        R"({"time": "x", "consumed": 10, "p50_ms": 1, "p99_ms": 2, "max_ms": 3})",
        R"({"time": 1, "consumed": 1.5, "p50_ms": 1, "p99_ms": 2, "max_ms": 3})", "[1, 2]"}) {
    EXPECT_FALSE(parseStatsLine(text)) << text;
  }
}

TEST(LatencyBoundTest, OnePartIsExact) {
  const std::vector<LatencyPart> parts{{.count = 1000, .p50Ms = 5, .p99Ms = 20, .maxMs = 30}};
  EXPECT_EQ(quantileUpperBound(parts, 0.5), 5);
  EXPECT_EQ(quantileUpperBound(parts, 0.99), 20);
  const auto merged = combine(parts);
  EXPECT_EQ(merged.count, 1000u);
  EXPECT_EQ(merged.p50Ms, 5);
  EXPECT_EQ(merged.p99Ms, 20);
  EXPECT_EQ(merged.maxMs, 30);
}

TEST(LatencyBoundTest, NothingWithoutMessages) {
  EXPECT_FALSE(quantileUpperBound({}, 0.99));
  const std::vector<LatencyPart> empty{{.count = 0, .p50Ms = 9, .p99Ms = 9, .maxMs = 9}};
  EXPECT_FALSE(quantileUpperBound(empty, 0.99));
  EXPECT_EQ(combine(empty).count, 0u);
}

TEST(LatencyBoundTest, EqualPartsGiveTheLargerQuantile) {
  const std::vector<LatencyPart> parts{{.count = 500, .p50Ms = 5, .p99Ms = 100, .maxMs = 150},
                                       {.count = 500, .p50Ms = 8, .p99Ms = 200, .maxMs = 300}};
  EXPECT_EQ(quantileUpperBound(parts, 0.99), 200);
  EXPECT_EQ(quantileUpperBound(parts, 0.5), 8);
}

TEST(LatencyBoundTest, AFewSlowMessagesAmongManyFastOnesDoNotSetIt) {
  // 10 slow messages of 1,010: at most 1 % may be above the p99, so they may all be.
  const std::vector<LatencyPart> parts{{.count = 1000, .p50Ms = 5, .p99Ms = 20, .maxMs = 25},
                                       {.count = 10, .p50Ms = 900, .p99Ms = 990, .maxMs = 1000}};
  EXPECT_EQ(quantileUpperBound(parts, 0.99), 25);
  // With 20 of them they can no longer all hide above it.
  const std::vector<LatencyPart> more{{.count = 1000, .p50Ms = 5, .p99Ms = 20, .maxMs = 25},
                                      {.count = 20, .p50Ms = 900, .p99Ms = 990, .maxMs = 1000}};
  EXPECT_EQ(quantileUpperBound(more, 0.99), 900);
}

// The value at or below which `q` of the sorted values lie (nearest rank), as the histogram
// reports a percentile.
double nearestRank(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::max<size_t>(rank, 1) - 1];
}

TEST(LatencyBoundTest, BoundsTheTrueQuantileOfRandomReplicas) {
  std::mt19937_64 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> all;
    std::vector<LatencyPart> parts;
    const int replicas = 1 + static_cast<int>(random() % 6);
    double largestP99 = 0;
    for (int r = 0; r < replicas; ++r) {
      std::lognormal_distribution<double> latency(std::log(5.0 + 50.0 * r), 0.8);
      std::vector<double> values(1 + random() % 2000);
      for (auto& v : values) v = latency(random);
      std::sort(values.begin(), values.end());
      parts.push_back({.count = values.size(),
                       .p50Ms = nearestRank(values, 0.5),
                       .p99Ms = nearestRank(values, 0.99),
                       .maxMs = values.back()});
      largestP99 = std::max(largestP99, parts.back().p99Ms);
      all.insert(all.end(), values.begin(), values.end());
    }
    std::sort(all.begin(), all.end());
    const auto bound = quantileUpperBound(parts, 0.99);
    ASSERT_TRUE(bound);
    EXPECT_GE(*bound, nearestRank(all, 0.99)) << "trial " << trial;
    EXPECT_LE(*bound, largestP99) << "trial " << trial;
    EXPECT_GE(*quantileUpperBound(parts, 0.5), nearestRank(all, 0.5)) << "trial " << trial;
  }
}

constexpr double kEpoch = 1'700'000'000;

TEST(TimelineTest, JoinsReadingsWithTheReplicasStats) {
  const std::vector<Reading> readings{
      {.t = 0, .targetRate = 100, .logEnd = 0, .lag = 0, .desired = 1, .running = 1, .members = 1},
      {.t = 1,
       .targetRate = 100,
       .logEnd = 100,
       .lag = 40,
       .desired = 1,
       .running = 1,
       .members = 1},
      {.t = 2,
       .targetRate = 300,
       .logEnd = 400,
       .lag = 90,
       .desired = 2,
       .running = 2,
       .members = 1},
      {.t = 4,
       .targetRate = 300,
       .logEnd = 1000,
       .lag = 10,
       .desired = 2,
       .running = 2,
       .members = 2},
  };
  // Replica A: one line per second. Replica B: a single line covering (1.5, 3.5]: its 400
  // messages are spread over two seconds of the timeline.
  const std::vector<std::vector<ReplicaSecond>> replicas{
      {{.time = kEpoch + 1, .consumed = 60, .p50Ms = 4, .p99Ms = 9, .maxMs = 10},
       {.time = kEpoch + 2, .consumed = 100, .p50Ms = 5, .p99Ms = 12, .maxMs = 14},
       {.time = kEpoch + 3, .consumed = 0},
       {.time = kEpoch + 4, .consumed = 200, .p50Ms = 6, .p99Ms = 50, .maxMs = 60}},
      {{.time = kEpoch + 1.5, .consumed = 0},
       {.time = kEpoch + 3.5, .consumed = 400, .p50Ms = 7, .p99Ms = 80, .maxMs = 90}},
  };
  const auto samples = buildTimeline(readings, replicas, kEpoch);
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].produceRate, 0);
  EXPECT_EQ(samples[0].consumeRate, 0);
  EXPECT_EQ(samples[0].latency.count, 0u);

  EXPECT_DOUBLE_EQ(samples[1].produceRate, 100);
  EXPECT_DOUBLE_EQ(samples[1].consumeRate, 60);
  EXPECT_EQ(samples[1].latency.count, 60u);
  EXPECT_EQ(samples[1].latency.p99Ms, 9);

  EXPECT_DOUBLE_EQ(samples[2].produceRate, 300);
  // A's 100, plus B's line over (1.5, 3.5] at 200/s for the half second (1.5, 2].
  EXPECT_DOUBLE_EQ(samples[2].consumeRate, 200);
  EXPECT_EQ(samples[2].latency.count, 100u);  // B's line ends in the next interval
  EXPECT_EQ(samples[2].desired, 2);

  // (2, 4]: two seconds; A 0 + 200, B 300 of its 400.
  EXPECT_DOUBLE_EQ(samples[3].produceRate, 300);
  EXPECT_DOUBLE_EQ(samples[3].consumeRate, 250);
  EXPECT_EQ(samples[3].latency.count, 600u);
  EXPECT_EQ(samples[3].latency.p99Ms, 80);  // 6 of 600 may exceed it: A's 200 cannot hide
  EXPECT_EQ(samples[3].latency.maxMs, 90);
  EXPECT_EQ(samples[3].members, 2);
}

TEST(TimelineTest, CsvHasOneRowPerSampleAndEmptyLatencyWithoutMessages) {
  std::vector<Sample> samples(2);
  samples[0] = {.t = 0.5, .targetRate = 500, .lag = 3, .desired = 1, .running = 1, .members = 0};
  samples[1] = {.t = 1.5,
                .targetRate = 500,
                .produceRate = 498.24,
                .consumeRate = 501,
                .lag = 120,
                .desired = 2,
                .running = 1,
                .members = 1,
                .latency = {.count = 480, .p50Ms = 4.25, .p99Ms = 19.5, .maxMs = 22}};
  EXPECT_EQ(csvHeader(),
            "policy,t_s,target_rate,produce_rate,consume_rate,lag,replicas_desired,"
            "replicas_running,group_members,consumed,p50_ms,p99_ms,max_ms\n");
  EXPECT_EQ(toCsv("slo", samples),
            "slo,0.500,500.0,0.0,0.0,3,1,1,0,0,,,\n"
            "slo,1.500,500.0,498.2,501.0,120,2,1,1,480,4.250,19.500,22.000\n");
}

TEST(LoadWindowTest, FindsTheSpikeTheStepAndNothingInAFlatProfile) {
  const auto spike = findLoadWindow(*load::parseProfile("spike:60:90:8", 500), 240);
  ASSERT_TRUE(spike);
  EXPECT_NEAR(spike->start, 60, 0.011);
  EXPECT_NEAR(spike->end, 150, 0.011);
  EXPECT_EQ(spike->baseRate, 500);
  EXPECT_EQ(spike->peakRate, 4000);
  const auto step = findLoadWindow(*load::parseProfile("step:30:2000", 500), 100);
  ASSERT_TRUE(step);
  EXPECT_NEAR(step->start, 30, 0.011);
  EXPECT_EQ(step->end, 100);
  EXPECT_FALSE(findLoadWindow(*load::parseProfile("constant", 500), 100));
  EXPECT_FALSE(findLoadWindow(*load::parseProfile("spike:60:90:0.5", 500), 240));
}

// A run of 40 s at one sample a second: a spike in [10, 20), p99 over a 100 ms objective
// wherever `slowSeconds` says, replicas 1 then 3 from 12 s on.
std::vector<Sample> syntheticRun(const std::vector<int>& slowSeconds) {
  std::vector<Sample> samples;
  for (int t = 0; t <= 40; ++t) {
    Sample s{.t = static_cast<double>(t),
             .targetRate = t >= 10 && t < 20 ? 800.0 : 100.0,
             .lag = t == 13 ? 5000 : 10 * t,
             .desired = t >= 12 ? 3 : 1,
             .running = t >= 12 ? 3 : 1,
             .members = t >= 12 ? 3 : 1};
    const bool slow = std::find(slowSeconds.begin(), slowSeconds.end(), t) != slowSeconds.end();
    if (t > 0) {
      s.latency = {.count = 100,
                   .p50Ms = slow ? 150.0 : 5.0,
                   .p99Ms = slow ? 400.0 + t : 20.0,
                   .maxMs = slow ? 500.0 : 30.0};
    }
    samples.push_back(s);
  }
  return samples;
}

RunFacts syntheticFacts() {
  return {.policy = "slo",
          .objectiveMs = 100,
          .spike = LoadWindow{.start = 10, .end = 20, .baseRate = 100, .peakRate = 800},
          .acknowledged = 9000,
          .verified = true,
          .processed = 9000};
}

TEST(SummaryTest, FiguresOfASyntheticRun) {
  const auto samples = syntheticRun({11, 12, 13, 14, 16});
  const std::vector<ScaleEvent> events{{.t = 12, .from = 1, .to = 3, .reason = "lag"}};
  const auto summary = summarize(samples, events, syntheticFacts());
  EXPECT_EQ(summary.durationS, 40);
  EXPECT_EQ(summary.maxLag, 5000);
  EXPECT_EQ(summary.maxLagAtS, 13);
  EXPECT_EQ(summary.secondsOverObjective, 5);
  // 12 s at 1 replica (the intervals ending at 1..12), 28 s at 3.
  EXPECT_EQ(summary.replicaSeconds, 12 * 1 + 28 * 3);
  EXPECT_EQ(summary.scaleEvents, 1u);
  EXPECT_EQ(summary.peakReplicas, 3);
  EXPECT_EQ(summary.finalReplicas, 3);
  // Over the objective from 11 to 16 (with a good second between): recovered at 16 s.
  ASSERT_TRUE(summary.recoveryS);
  EXPECT_EQ(*summary.recoveryS, 6);
  // The spike's seconds 11..20: 5 slow ones of 10 x 100 messages. Half of the messages being
  // slow, only each slow second's own 1 % may lie above the bound: the largest slow p99.
  EXPECT_EQ(summary.spikeLatency.count, 1000u);
  EXPECT_EQ(summary.spikeLatency.p99Ms, 416);
  EXPECT_EQ(summary.worstSpikeSecondP99Ms, 416);
  EXPECT_EQ(summary.latency.count, 4000u);

  const auto json = toJson(summary);
  EXPECT_EQ(json["recovery_s"], 6);
  EXPECT_EQ(json["lost"], 0);
  EXPECT_EQ(json["spike"]["peak_rate"], 800);
  EXPECT_EQ(json["spike_latency"]["p99_ms"], 416);
  EXPECT_EQ(json["scale_events"], 1);
}

TEST(SummaryTest, RecoveryIsZeroWhenTheSpikeNeverHurtAndOpenWhenTheRunEndsFirst) {
  const auto fine = summarize(syntheticRun({3, 30}), {}, syntheticFacts());
  ASSERT_TRUE(fine.recoveryS);
  EXPECT_EQ(*fine.recoveryS, 0);
  EXPECT_EQ(fine.secondsOverObjective, 2);

  std::vector<int> untilTheEnd;
  for (int t = 15; t <= 35; t += 2) untilTheEnd.push_back(t);
  const auto open = summarize(syntheticRun(untilTheEnd), {}, syntheticFacts());
  EXPECT_FALSE(open.recoveryS);
  EXPECT_NE(open.recovery.find("not back"), std::string::npos) << open.recovery;

  // Interrupted before the spike: nothing to recover from.
  const auto all = syntheticRun({});
  const std::vector<Sample> early(all.begin(), all.begin() + 8);
  const auto before = summarize(early, {}, syntheticFacts());
  EXPECT_FALSE(before.recoveryS);
  EXPECT_NE(before.recovery.find("before the spike"), std::string::npos) << before.recovery;
  EXPECT_FALSE(before.spikeRan);
  EXPECT_TRUE(open.spikeRan);

  auto facts = syntheticFacts();
  facts.spike.reset();
  const auto flat = summarize(syntheticRun({15}), {}, facts);
  EXPECT_FALSE(flat.recoveryS);
  EXPECT_FALSE(flat.worstSpikeSecondP99Ms);
  EXPECT_EQ(flat.spikeLatency.count, 0u);
}

TEST(SummaryTest, TableHasOneValuePerRunAndSaysWhenNothingWasVerified) {
  auto unverified = syntheticFacts();
  unverified.policy = "keda";
  unverified.verified = false;
  const std::vector<Summary> runs{summarize(syntheticRun({11}), {}, syntheticFacts()),
                                  summarize(syntheticRun({11}), {}, unverified)};
  const auto rows = summaryTable(runs);
  ASSERT_GE(rows.size(), 10u);
  for (const auto& row : rows) EXPECT_EQ(row.values.size(), 2u) << row.label;
  const auto lost = std::find_if(rows.begin(), rows.end(),
                                 [](const TableRow& row) { return row.label == "lost"; });
  ASSERT_NE(lost, rows.end());
  EXPECT_EQ(lost->values[0], "0");
  EXPECT_EQ(lost->values[1], "not verified");
  const auto sent = std::find_if(rows.begin(), rows.end(),
                                 [](const TableRow& row) { return row.label == "messages sent"; });
  ASSERT_NE(sent, rows.end());
  EXPECT_EQ(sent->values[0], "9,000");
}

}  // namespace
}  // namespace ebb::report
