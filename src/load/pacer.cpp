#include "ebb/load/pacer.h"

#include <algorithm>
#include <cmath>

namespace ebb::load {
namespace {

// The integral advances in steps on a fixed 1 ms grid, so a rate that changes over time is
// followed, the result does not depend on how often the caller asks, and a long run adds up only
// 1000 terms a second however many calls it makes. Each step takes the rate at its middle (the
// midpoint rule): as precise as trapezoids for smooth profiles, and exact for a step or spike on a
// whole millisecond, where a trapezoid would average the rates on both sides of the jump.
constexpr int64_t kStepNanos = 1'000'000;
constexpr int64_t kMaxWaitNanos = 100'000'000;
constexpr double kNanosPerSecond = 1e9;

double seconds(int64_t nanos) { return static_cast<double>(nanos) / kNanosPerSecond; }

}  // namespace

Pacer::Pacer(const Profile& profile) : profile_(profile) {}

double Pacer::dueBy(int64_t elapsedNanos) {
  if (elapsedNanos <= integratedUntil_) return integrated_;
  while (elapsedNanos - integratedUntil_ >= kStepNanos) {
    integrated_ +=
        profile_.rateAt(seconds(integratedUntil_ + kStepNanos / 2)) * seconds(kStepNanos);
    integratedUntil_ += kStepNanos;
  }
  // The partial step up to now is estimated but not committed: the grid stays fixed.
  const int64_t partial = elapsedNanos - integratedUntil_;
  return integrated_ + profile_.rateAt(seconds(integratedUntil_ + partial / 2)) * seconds(partial);
}

uint64_t Pacer::allowed(int64_t elapsedNanos) {
  const double due = std::floor(dueBy(elapsedNanos));
  const auto done = static_cast<double>(sent_);
  // The estimate of a partial step can dip when the rate drops inside it, so due may fall below
  // what was already sent.
  return due > done ? static_cast<uint64_t>(due - done) : 0;
}

void Pacer::sent(uint64_t messages) { sent_ += messages; }

int64_t Pacer::nanosUntilNext(int64_t elapsedNanos) {
  const double missing = static_cast<double>(sent_ + 1) - dueBy(elapsedNanos);
  if (missing <= 0) return 0;
  const double rate = profile_.rateAt(seconds(std::max<int64_t>(elapsedNanos, 0)));
  if (!(rate > 0)) return kMaxWaitNanos;
  const double wait = std::ceil(missing / rate * kNanosPerSecond);
  return wait >= static_cast<double>(kMaxWaitNanos) ? kMaxWaitNanos : static_cast<int64_t>(wait);
}

}  // namespace ebb::load
