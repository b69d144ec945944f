#include "ebb/orchestrate/crash_backoff.h"

#include <algorithm>
#include <stdexcept>

namespace ebb::orchestrate {

CrashBackoff::CrashBackoff(CrashBackoffOptions options) : options_(options) {
  if (options_.initial.count() <= 0 || options_.max < options_.initial) {
    throw std::invalid_argument("crash backoff: need 0 < initial <= max");
  }
}

std::chrono::milliseconds CrashBackoff::crashed(std::chrono::milliseconds ran,
                                                Clock::time_point now) {
  if (ran >= options_.healthyAfter) streak_ = 0;
  ++streak_;
  if (streak_ == 1) {
    delay_ = std::chrono::milliseconds(0);
  } else if (delay_.count() == 0) {
    delay_ = options_.initial;
  } else {
    delay_ = std::min(delay_ * 2, options_.max);
  }
  nextStart_ = std::max(nextStart_, now + delay_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(nextStart_ - now);
}

}  // namespace ebb::orchestrate
