#include "ebb/lag/offset_history.h"

#include <algorithm>

namespace ebb::lag {

OffsetHistory::OffsetHistory(std::chrono::milliseconds window) : window_(window) {}

void OffsetHistory::add(std::chrono::milliseconds at, int64_t logEnd, int64_t committed) {
  points_.push_back({at, logEnd, committed});
  // Keep one point older than the window so rates always span the whole window.
  while (points_.size() > 2 && points_[1].at <= at - window_) points_.pop_front();
}

double OffsetHistory::secondsBetween(const Point& from, const Point& to) const {
  return std::chrono::duration<double>(to.at - from.at).count();
}

double OffsetHistory::produceRate() const {
  if (points_.size() < 2) return 0;
  const double seconds = secondsBetween(points_.front(), points_.back());
  if (seconds <= 0) return 0;
  return static_cast<double>(std::max<int64_t>(0, points_.back().logEnd - points_.front().logEnd)) /
         seconds;
}

double OffsetHistory::consumeRate() const {
  if (points_.size() < 2) return 0;
  const auto& first = points_.front();
  const auto& last = points_.back();
  const double seconds = secondsBetween(first, last);
  if (seconds <= 0 || first.committed < 0 || last.committed < 0) return 0;
  return static_cast<double>(std::max<int64_t>(0, last.committed - first.committed)) / seconds;
}

double OffsetHistory::lagSeconds() const {
  if (points_.empty()) return 0;
  const auto& last = points_.back();
  const int64_t committed = std::max<int64_t>(last.committed, 0);
  if (committed >= last.logEnd) return 0;
  // The newest point whose log end had not yet passed the committed offset, and the one after it:
  // the committed offset was appended between their times.
  for (size_t i = points_.size() - 1; i > 0; --i) {
    const auto& before = points_[i - 1];
    const auto& after = points_[i];
    if (before.logEnd <= committed && after.logEnd > committed) {
      const double fraction = static_cast<double>(committed - before.logEnd) /
                              static_cast<double>(after.logEnd - before.logEnd);
      const double appendedAt = secondsBetween(before, after) * fraction;
      return secondsBetween(before, last) - appendedAt;
    }
  }
  // Older than the whole history: extrapolate backwards at the produce rate.
  const double waitedAtLeast = secondsBetween(points_.front(), last);
  const double rate = produceRate();
  if (rate <= 0) return waitedAtLeast;
  return waitedAtLeast + static_cast<double>(points_.front().logEnd - committed) / rate;
}

}  // namespace ebb::lag
