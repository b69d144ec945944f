#include "ebb/load/pacer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ebb/load/profile.h"

namespace ebb::load {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kTick = 10'000;  // 10 us of simulated time between calls

// Runs a sender that sends everything allowed at every tick; returns the messages sent in each
// whole second.
std::vector<uint64_t> simulate(Pacer& pacer, int seconds, int64_t tick = kTick) {
  std::vector<uint64_t> perSecond;
  uint64_t before = pacer.totalSent();
  for (int64_t now = tick; now <= seconds * kSecond; now += tick) {
    pacer.sent(pacer.allowed(now));
    if (now % kSecond == 0) {
      perSecond.push_back(pacer.totalSent() - before);
      before = pacer.totalSent();
    }
  }
  return perSecond;
}

TEST(PacerTest, ConstantRateWithinOneMessageAtEveryMoment) {
  for (const double rate : {1.0, 1000.0, 100'000.0, 1'000'000.0}) {
    const auto profile = parseProfile("constant", rate);
    Pacer pacer(*profile);
    for (int64_t now = kTick; now <= kSecond; now += kTick) {
      pacer.sent(pacer.allowed(now));
      const double expected = rate * static_cast<double>(now) / kSecond;
      ASSERT_NEAR(static_cast<double>(pacer.totalSent()), expected, 1.0)
          << rate << " msg/s at " << now << " ns";
    }
    EXPECT_NEAR(static_cast<double>(pacer.totalSent()), rate, 1.0) << rate << " msg/s";
  }
}

TEST(PacerTest, FollowsProfilesSecondBySecond) {
  struct Case {
    std::string spec;
    double baseRate;
    std::vector<double> expectedPerSecond;
  };
  const std::vector<Case> cases = {
      {"step:2:100000", 1000, {1000, 1000, 100'000, 100'000}},
      {"step:1:0", 50'000, {50'000, 0, 0}},
      {"spike:1:2:10", 10'000, {10'000, 100'000, 100'000, 10'000}},
      // The integral of a linear ramp over each second: the rate at its middle.
      {"ramp:0:100000:4", 1, {12'500, 37'500, 62'500, 87'500, 100'000}},
  };
  for (const Case& c : cases) {
    const auto profile = parseProfile(c.spec, c.baseRate);
    Pacer pacer(*profile);
    const auto perSecond = simulate(pacer, static_cast<int>(c.expectedPerSecond.size()));
    ASSERT_EQ(perSecond.size(), c.expectedPerSecond.size());
    for (size_t s = 0; s < perSecond.size(); ++s) {
      const double expected = c.expectedPerSecond[s];
      EXPECT_NEAR(static_cast<double>(perSecond[s]), expected, std::max(1.0, expected * 0.01))
          << c.spec << " in second " << s;
    }
  }
}

TEST(PacerTest, SineAveragesToTheBaseRateOverAPeriod) {
  const auto profile = parseProfile("sine:2:0.8", 100'000);
  Pacer pacer(*profile);
  const auto perSecond = simulate(pacer, 4);
  // The first half period is above the base rate, the second below; a whole period averages out.
  EXPECT_GT(perSecond[0], 140'000u);
  EXPECT_LT(perSecond[1], 60'000u);
  EXPECT_NEAR(static_cast<double>(pacer.totalSent()), 400'000, 2);
}

TEST(PacerTest, CallFrequencyDoesNotChangeTheSchedule) {
  const auto profile = parseProfile("ramp:1000:200000:3", 1);
  Pacer fine(*profile);
  Pacer coarse(*profile);
  simulate(fine, 3);
  simulate(coarse, 3, 7'000'000);  // every 7 ms: steps not aligned with the 1 ms grid
  coarse.sent(coarse.allowed(3 * kSecond));
  EXPECT_NEAR(static_cast<double>(fine.totalSent()), static_cast<double>(coarse.totalSent()), 1);
  EXPECT_NEAR(static_cast<double>(fine.totalSent()), 301'500, 1);
}

TEST(PacerTest, AllowedIsZeroWhenAheadAndAtOrBeforeTheStart) {
  const auto profile = parseProfile("constant", 1000);
  Pacer pacer(*profile);
  EXPECT_EQ(pacer.allowed(-5), 0u);
  EXPECT_EQ(pacer.allowed(0), 0u);
  EXPECT_EQ(pacer.allowed(10'000'000), 10u);
  pacer.sent(25);  // the caller sent more than allowed
  EXPECT_EQ(pacer.allowed(20'000'000), 0u);
  EXPECT_EQ(pacer.allowed(30'000'000), 5u);
  EXPECT_EQ(pacer.totalSent(), 25u);
}

TEST(PacerTest, NanosUntilNextIsOneIntervalAtTheCurrentRate) {
  for (const double rate : {1000.0, 100'000.0, 1'000'000.0}) {
    const auto profile = parseProfile("constant", rate);
    Pacer pacer(*profile);
    const double interval = 1e9 / rate;
    EXPECT_NEAR(static_cast<double>(pacer.nanosUntilNext(0)), interval, 1) << rate;
    const int64_t now = 5'000'000;
    pacer.sent(pacer.allowed(now));
    EXPECT_GT(pacer.nanosUntilNext(now), 0) << rate;
    EXPECT_LE(static_cast<double>(pacer.nanosUntilNext(now)), interval + 1) << rate;
    // Behind schedule: due now.
    EXPECT_EQ(pacer.nanosUntilNext(now + static_cast<int64_t>(2 * interval)), 0) << rate;
  }
}

TEST(PacerTest, NanosUntilNextIsCappedAt100Ms) {
  const auto idle = parseProfile("constant", 0);
  Pacer idlePacer(*idle);
  EXPECT_EQ(idlePacer.nanosUntilNext(0), 100'000'000);
  EXPECT_EQ(idlePacer.nanosUntilNext(kSecond), 100'000'000);
  EXPECT_EQ(idlePacer.allowed(kSecond), 0u);

  const auto slow = parseProfile("constant", 1);
  Pacer slowPacer(*slow);
  EXPECT_EQ(slowPacer.nanosUntilNext(0), 100'000'000);
}

// What a real send loop does: send what is allowed, then wait as long as the pacer says.
TEST(PacerTest, SleepingNanosUntilNextKeepsTheRateWithOneWakeUpPerMessage) {
  const auto profile = parseProfile("constant", 100'000);
  Pacer pacer(*profile);
  int64_t now = 0;
  uint64_t wakeUps = 0;
  while (now < kSecond) {
    pacer.sent(pacer.allowed(now));
    const int64_t wait = pacer.nanosUntilNext(now);
    ASSERT_GT(wait, 0);
    now += wait;
    ++wakeUps;
  }
  pacer.sent(pacer.allowed(kSecond));
  EXPECT_NEAR(static_cast<double>(pacer.totalSent()), 100'000, 1);
  // One wake-up a message, and a few more where rounding puts a message's due time a nanosecond
  // after the estimate.
  EXPECT_LE(wakeUps, 100'100u);
}

}  // namespace
}  // namespace ebb::load
