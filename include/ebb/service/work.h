// Simulated downstream work per consumed message: I/O-bound (sleep) or CPU-bound (spin), with a
// fixed, exponential or uniform duration.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace ebb::service {

struct WorkSpec {
  enum class Kind { kNone, kSleep, kCpu };
  enum class Distribution { kFixed, kExponential, kUniform };
  Kind kind = Kind::kNone;
  Distribution distribution = Distribution::kFixed;
  std::chrono::nanoseconds mean{0};

  // none | sleep:DURATION[:fixed|exp|uniform] | cpu:DURATION[:...]; DURATION like 500us, 1ms, 2s.
  // exp: exponential with that mean; uniform: between 0 and twice the mean.
  // Throws std::invalid_argument with the expected form.
  static WorkSpec parse(std::string_view text);
  std::string describe() const;
};

// Parses "250ns", "200us", "1ms", "1.5s"; throws std::invalid_argument otherwise.
std::chrono::nanoseconds parseDuration(std::string_view text);

// Performs the work of one message; one per processing thread (holds its random state).
class Worker {
 public:
  Worker(const WorkSpec& spec, uint64_t seed) : spec_(spec), random_(seed) {}
  // The duration this message's work takes (drawn from the distribution).
  std::chrono::nanoseconds draw();
  void perform();

 private:
  WorkSpec spec_;
  std::mt19937_64 random_;
};

}  // namespace ebb::service
