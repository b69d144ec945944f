#include "ebb/lag/offset_history.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ebb::lag {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

TEST(OffsetHistoryTest, RatesNeedTwoPoints) {
  OffsetHistory history;
  history.add(0ms, 100, 50);
  EXPECT_EQ(history.produceRate(), 0);
  EXPECT_EQ(history.consumeRate(), 0);
}

TEST(OffsetHistoryTest, RatesOverTheWindow) {
  OffsetHistory history(10s);
  for (int s = 0; s <= 20; ++s) history.add(milliseconds(s * 1000), 1000 * s, 800 * s);
  EXPECT_DOUBLE_EQ(history.produceRate(), 1000);
  EXPECT_DOUBLE_EQ(history.consumeRate(), 800);
}

TEST(OffsetHistoryTest, LagSecondsInterpolatesWhenTheLogEndPassedTheCommit) {
  // 1,000 msg/s appended; the group is 2,500 messages behind: those were appended 2.5 s ago.
  OffsetHistory history;
  for (int s = 0; s <= 10; ++s) history.add(milliseconds(s * 1000), 1000 * s, 1000 * s - 2500);
  EXPECT_NEAR(history.lagSeconds(), 2.5, 1e-9);
}

TEST(OffsetHistoryTest, NoLagNoSeconds) {
  OffsetHistory history;
  history.add(0ms, 100, 100);
  history.add(1000ms, 200, 200);
  EXPECT_EQ(history.lagSeconds(), 0);
}

TEST(OffsetHistoryTest, ExtrapolatesBeyondTheHistoryAtTheProduceRate) {
  // History covers 2 s at 100 msg/s, the commit is 500 messages behind the oldest point.
  OffsetHistory history;
  history.add(0ms, 1000, 500);
  history.add(1000ms, 1100, 500);
  history.add(2000ms, 1200, 500);
  EXPECT_NEAR(history.lagSeconds(), 2.0 + 500.0 / 100.0, 1e-9);
}

TEST(OffsetHistoryTest, IdleTopicReportsTheAgeOfItsHistoryAsALowerBound) {
  OffsetHistory history;
  history.add(0ms, 1000, 500);
  history.add(3000ms, 1000, 500);
  EXPECT_NEAR(history.lagSeconds(), 3.0, 1e-9);
}

TEST(OffsetHistoryTest, OldPointsLeaveTheWindow) {
  OffsetHistory history(2s);
  history.add(0ms, 0, 0);
  history.add(1000ms, 10'000, 0);  // a burst long ago
  for (int s = 2; s <= 10; ++s) history.add(milliseconds(s * 1000), 10'000 + 100 * (s - 1), 0);
  EXPECT_NEAR(history.produceRate(), 100, 1e-9);
}

}  // namespace
}  // namespace ebb::lag
