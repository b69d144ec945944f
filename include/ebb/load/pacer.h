// Paces sends to follow a Profile precisely, also at 100k msg/s and more: it tracks how many
// messages should have been sent by now (the integral of the rate) and lets the caller send in
// bursts when behind, instead of sleeping once per message. Pure: time is passed in.
#pragma once

#include <cstdint>

#include "ebb/load/profile.h"

namespace ebb::load {

class Pacer {
 public:
  // The profile must outlive the pacer.
  explicit Pacer(const Profile& profile);

  // Messages that may be sent now, at `elapsedNanos` since the start (0 when ahead of schedule).
  // The caller sends up to that many and reports them with sent().
  uint64_t allowed(int64_t elapsedNanos);
  void sent(uint64_t messages);
  // How long to wait from `elapsedNanos` until the next message is due (0 if one is due now).
  // Capped at 100 ms so a rate that rises from 0 is noticed promptly.
  int64_t nanosUntilNext(int64_t elapsedNanos);
  uint64_t totalSent() const { return sent_; }

 private:
  // Messages due by `elapsedNanos`: the integral of the profile's rate, advanced incrementally.
  double dueBy(int64_t elapsedNanos);

  const Profile& profile_;
  uint64_t sent_ = 0;
  int64_t integratedUntil_ = 0;
  double integrated_ = 0;
};

}  // namespace ebb::load
