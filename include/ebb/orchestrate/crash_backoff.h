// When to replace a replica that keeps dying, in the manner of the kubelet's CrashLoopBackOff: the
// first crash of a streak is replaced at once, each further one waits twice as long as the last
// (from `initial` up to `max`), and a replica that ran for `healthyAfter` before dying starts a new
// streak. A replica that cannot start at all (a wrong flag, a refused group id) then costs a few
// starts a minute instead of one per control interval. Pure: time comes in with each call.
#pragma once

#include <chrono>
#include <cstdint>

namespace ebb::orchestrate {

struct CrashBackoffOptions {
  std::chrono::milliseconds initial{1'000};
  std::chrono::milliseconds max{30'000};
  std::chrono::milliseconds healthyAfter{60'000};
};

class CrashBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CrashBackoff(CrashBackoffOptions options = {});

  // A replica died on its own at `now` after running for `ran`; returns how long from `now` the
  // next start waits.
  std::chrono::milliseconds crashed(std::chrono::milliseconds ran, Clock::time_point now);
  // Whether a replica may start at `now`.
  bool mayStart(Clock::time_point now) const { return now >= nextStart_; }
  // Crashes in the current streak.
  uint32_t streak() const { return streak_; }

 private:
  CrashBackoffOptions options_;
  uint32_t streak_ = 0;
  std::chrono::milliseconds delay_{0};
  Clock::time_point nextStart_{};
};

}  // namespace ebb::orchestrate
