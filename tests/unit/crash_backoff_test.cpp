#include "ebb/orchestrate/crash_backoff.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ebb/orchestrate/local_backend.h"
#include "ebb/orchestrate/process.h"

namespace ebb::orchestrate {
namespace {

using namespace std::chrono_literals;
using Clock = CrashBackoff::Clock;

TEST(CrashBackoffTest, FirstCrashIsReplacedAtOnceThenTheWaitDoublesUpToTheMax) {
  CrashBackoff backoff({.initial = 1s, .max = 8s, .healthyAfter = 60s});
  auto now = Clock::time_point{} + 1h;
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 6; ++i) {
    const auto wait = backoff.crashed(200ms, now);
    waits.push_back(wait);
    EXPECT_FALSE(wait.count() > 0 && backoff.mayStart(now));
    now += wait;  // the replacement starts when allowed and dies again at once
    EXPECT_TRUE(backoff.mayStart(now));
  }
  const std::vector<std::chrono::milliseconds> expected{0s, 1s, 2s, 4s, 8s, 8s};
  EXPECT_EQ(waits, expected);
  EXPECT_EQ(backoff.streak(), 6u);
}

TEST(CrashBackoffTest, AReplicaThatRanHealthyStartsANewStreak) {
  CrashBackoff backoff({.initial = 1s, .max = 30s, .healthyAfter = 60s});
  auto now = Clock::time_point{} + 1h;
  backoff.crashed(1s, now);
  EXPECT_EQ(backoff.crashed(1s, now), 1s);
  now += 1s;
  EXPECT_EQ(backoff.crashed(2min, now + 2min), 0s);
  EXPECT_EQ(backoff.streak(), 1u);
  EXPECT_EQ(backoff.crashed(1s, now + 2min), 1s);
}

TEST(CrashBackoffTest, CrashesWhileWaitingDoNotShortenTheWait) {
  CrashBackoff backoff({.initial = 4s, .max = 30s, .healthyAfter = 10s});
  const auto now = Clock::time_point{} + 1h;
  backoff.crashed(1s, now);
  EXPECT_EQ(backoff.crashed(1s, now), 4s);
  // Another replica, healthy for a long time, dies within those 4 s: still 4 s to wait.
  EXPECT_EQ(backoff.crashed(1h, now + 1s), 3s);
  EXPECT_FALSE(backoff.mayStart(now + 3s));
  EXPECT_TRUE(backoff.mayStart(now + 4s));
}

TEST(CrashBackoffTest, RejectsAnEmptyOrInvertedRange) {
  EXPECT_THROW(CrashBackoff({.initial = 0s, .max = 1s}), std::invalid_argument);
  EXPECT_THROW(CrashBackoff({.initial = 2s, .max = 1s}), std::invalid_argument);
}

// A replica command that exits at once (a wrong flag, say): the backend keeps replacing it, but
// spaced out by the backoff rather than on every reconcile.
TEST(LocalBackendTest, ACrashLoopingReplicaIsRestartedWithBackoff) {
  LocalBackend backend({.command = {"/bin/false"},
                        .gracePeriod = 1s,
                        .crashBackoff = {.initial = 200ms, .max = 800ms, .healthyAfter = 60s}});
  backend.scaleTo(1);
  const auto deadline = Clock::now() + 2s;
  while (Clock::now() < deadline) {
    backend.reconcile();
    std::this_thread::sleep_for(10ms);
  }
  // Starts at about 0, 0, 0.2, 0.6, 1.4 s; reconciling every 10 ms without a backoff restarts it
  // well over a hundred times.
  EXPECT_GE(backend.restarts(), 3u);
  EXPECT_LE(backend.restarts(), 7u);
  backend.stopAll();
}

// A signal sent the instant spawn() returns must find it blocked already: the standby's SIGUSR1
// activation used to kill a standby it reached before the child had blocked it (seen once in a
// make test run: "replica 2 killed by User defined signal 1 after 0.0 s").
TEST(SpawnTest, SignalsToBlockAreBlockedFromTheChildsFirstInstruction) {
  for (int i = 0; i < 100; ++i) {
    const pid_t pid = spawn({"/bin/sleep", "0.05"}, {.blockedSignals = {SIGUSR1}});
    ASSERT_EQ(::kill(pid, SIGUSR1), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_FALSE(WIFSIGNALED(status)) << "child " << i << ": " << describeWaitStatus(status);
  }
}

// Standbys: started ahead of need, activated first on scale-out (the same processes become
// replicas) and refilled behind; a standby that dies is replaced; stopAll ends them too.
TEST(LocalBackendTest, WarmStandbysAreActivatedFirstAndRefilled) {
  // sleep starts with SIGUSR1 blocked as a standby: the activation stays pending, harmless.
  LocalBackend backend(
      {.command = {"/bin/sleep", "60"}, .gracePeriod = 2s, .warm = 2, .standbyArgs = {}});
  backend.scaleTo(1);
  EXPECT_EQ(backend.pids().size(), 1u);
  const auto standbys = backend.standbyPids();
  ASSERT_EQ(standbys.size(), 2u);

  backend.scaleTo(3);
  const auto running = backend.pids();
  ASSERT_EQ(running.size(), 3u);
  for (const pid_t pid : standbys) {
    EXPECT_NE(std::find(running.begin(), running.end(), pid), running.end())
        << "standby " << pid << " was not the one activated";
  }
  EXPECT_EQ(backend.activations(), 2u);
  const auto refilled = backend.standbyPids();
  ASSERT_EQ(refilled.size(), 2u);
  EXPECT_EQ(std::find(refilled.begin(), refilled.end(), standbys[0]), refilled.end());

  ::kill(refilled[0], SIGKILL);
  const auto deadline = Clock::now() + 5s;
  while (backend.restarts() == 0 && Clock::now() < deadline) {
    backend.reconcile();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(backend.restarts(), 1u);
  EXPECT_EQ(backend.standbyPids().size(), 2u) << "the dead standby is replaced";
  EXPECT_EQ(backend.pids().size(), 3u);

  backend.stopAll();
  EXPECT_TRUE(backend.pids().empty());
  EXPECT_TRUE(backend.standbyPids().empty());
  for (const pid_t pid : running) EXPECT_NE(::kill(pid, 0), 0) << pid << " outlived stopAll";
}

}  // namespace
}  // namespace ebb::orchestrate
