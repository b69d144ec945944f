#include "ebb/service/orphan_watch.h"

#include <gtest/gtest.h>

namespace ebb::service {
namespace {

using namespace std::chrono_literals;
using TP = kafka::TopicPartition;

kafka::GroupDescription group(std::string state, std::vector<std::vector<TP>> assignments) {
  kafka::GroupDescription description{.groupId = "g", .state = std::move(state)};
  for (auto& assignment : assignments) {
    description.members.push_back({.memberId = "m", .assignment = std::move(assignment)});
  }
  return description;
}

TEST(UnownedPartitions, ArePartitionsOfTheSubscribedTopicsThatNoMemberHas) {
  const auto stable = group("Stable", {{{"t", 0}, {"t", 2}}, {{"u", 0}}});
  EXPECT_EQ(unownedPartitions(stable, {{"t", 4}, {"u", 1}}), (std::set<TP>{{"t", 1}, {"t", 3}}));
  EXPECT_EQ(unownedPartitions(stable, {{"t", 3}}), (std::set<TP>{{"t", 1}}));
}

TEST(UnownedPartitions, AreNoneWhileTheGroupRebalances) {
  // Between JoinGroup and SyncGroup every member's assignment is empty: nothing is stranded.
  EXPECT_TRUE(unownedPartitions(group("PreparingRebalance", {{}, {}}), {{"t", 12}}).empty());
  EXPECT_TRUE(unownedPartitions(group("CompletingRebalance", {{}}), {{"t", 12}}).empty());
  EXPECT_TRUE(unownedPartitions(group("Empty", {}), {{"t", 12}}).empty());
}

TEST(StrandedPartitions, AreTheSameUnownedSetSeenForTheWholeConfirmPeriod) {
  StrandedPartitions stranded(15s);
  const StrandedPartitions::Clock::time_point t0{};
  const std::set<TP> half{{"t", 0}, {"t", 1}};
  EXPECT_FALSE(stranded.observe(half, t0));
  EXPECT_FALSE(stranded.observe(half, t0 + 10s));
  const auto found = stranded.observe(half, t0 + 15s);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, half);
  // After acting it starts over: the next reading is a first sighting.
  EXPECT_FALSE(stranded.observe(half, t0 + 16s));
  EXPECT_TRUE(stranded.observe(half, t0 + 31s));
}

TEST(StrandedPartitions, StartOverWhenTheSetChangesOrEveryPartitionIsOwned) {
  StrandedPartitions stranded(15s);
  const StrandedPartitions::Clock::time_point t0{};
  EXPECT_FALSE(stranded.observe({{"t", 0}, {"t", 1}}, t0));
  // The second round of a cooperative rebalance is under way: fewer partitions wait.
  EXPECT_FALSE(stranded.observe({{"t", 1}}, t0 + 10s));
  EXPECT_FALSE(stranded.observe({{"t", 1}}, t0 + 20s));
  EXPECT_FALSE(stranded.observe({}, t0 + 24s));
  EXPECT_FALSE(stranded.observe({{"t", 1}}, t0 + 30s));
  EXPECT_FALSE(stranded.observe({{"t", 1}}, t0 + 44s));
  EXPECT_TRUE(stranded.observe({{"t", 1}}, t0 + 45s));
}

}  // namespace
}  // namespace ebb::service
