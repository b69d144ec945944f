// Rates and time lag of one partition from a short history of its offsets. Lag in seconds follows
// kafka-lag-exporter: the time at which the log end passed the group's committed offset, read off
// the recorded (time, log-end) points by interpolation; "now" minus that time is how long the
// oldest unprocessed message has waited.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace ebb::lag {

class OffsetHistory {
 public:
  // Keeps the points of the last `window` (rates are averaged over it).
  explicit OffsetHistory(std::chrono::milliseconds window = std::chrono::seconds(60));

  // Records an observation; `at` must not go backwards. committed < 0: nothing committed yet.
  void add(std::chrono::milliseconds at, int64_t logEnd, int64_t committed);

  // Messages per second appended to the partition over the window (0 with fewer than 2 points).
  double produceRate() const;
  // Messages per second the group committed over the window.
  double consumeRate() const;
  // Seconds the oldest unprocessed message has waited at the last observation; 0 without lag.
  // Before the history reaches back far enough it extrapolates at the produce rate, and without
  // any rate it reports the age of the oldest point (a lower bound).
  double lagSeconds() const;

 private:
  struct Point {
    std::chrono::milliseconds at;
    int64_t logEnd;
    int64_t committed;
  };
  double secondsBetween(const Point& from, const Point& to) const;

  std::chrono::milliseconds window_;
  std::deque<Point> points_;
};

}  // namespace ebb::lag
