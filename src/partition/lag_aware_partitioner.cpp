#include <algorithm>
#include <cassert>
#include <random>
#include <vector>

#include "ebb/partition/partitioner.h"

namespace ebb::partition {
namespace {

// The share of traffic spread evenly whatever the lag: every partition keeps at least
// kEvenShare / count of the unkeyed messages.
constexpr double kEvenShare = 0.1;

}  // namespace

struct LagAwarePartitioner::State {
  explicit State(uint64_t seed) : engine(seed) {}

  std::mt19937_64 engine;
  std::vector<double> weights;     // sum 1
  std::vector<double> cumulative;  // cumulative[p] = weights[0] + ... + weights[p]
  uint64_t nextRoundRobin = 0;
};

LagAwarePartitioner::LagAwarePartitioner(uint64_t seed) : state_(std::make_unique<State>(seed)) {}
LagAwarePartitioner::~LagAwarePartitioner() = default;
LagAwarePartitioner::LagAwarePartitioner(LagAwarePartitioner&&) noexcept = default;
LagAwarePartitioner& LagAwarePartitioner::operator=(LagAwarePartitioner&&) noexcept = default;

// Why w_p ~ 1 / (1 + lag_p / scale), scale = max(1, mean lag):
// - relative to the mean, so only how lag is spread matters, not its size: equal lags (all zero or
//   all a million) give even weights, and a partition at the mean lag gets half the weight of a
//   lag-free one;
// - hyperbolic, not exponential: a lagging partition's share falls gently (at most 1 + count
//   times below a lag-free one), so traffic does not pile onto the few caught-up partitions and
//   overload their consumers, and a lag snapshot that is already stale does little harm;
// - mixed with an even share (kEvenShare), so no partition ever starves: its consumer keeps
//   receiving work and its lag keeps being measured.
void LagAwarePartitioner::updateLag(std::span<const int64_t> lagByPartition) {
  State& state = *state_;
  const size_t count = lagByPartition.size();
  state.weights.resize(count);
  state.cumulative.resize(count);
  if (count == 0) return;

  double totalLag = 0;
  for (const int64_t lag : lagByPartition)
    totalLag += static_cast<double>(std::max<int64_t>(lag, 0));
  const double scale = std::max(1.0, totalLag / static_cast<double>(count));
  double rawSum = 0;
  for (size_t p = 0; p < count; ++p) {
    const auto lag = static_cast<double>(std::max<int64_t>(lagByPartition[p], 0));
    state.weights[p] = 1.0 / (1.0 + lag / scale);
    rawSum += state.weights[p];
  }
  const double even = kEvenShare / static_cast<double>(count);
  double running = 0;
  for (size_t p = 0; p < count; ++p) {
    state.weights[p] = even + (1.0 - kEvenShare) * state.weights[p] / rawSum;
    running += state.weights[p];
    state.cumulative[p] = running;
  }
}

int32_t LagAwarePartitioner::partition(const Input& input) {
  assert(input.partitionCount > 0);
  State& state = *state_;
  if (input.key) return toPositive(murmur2(*input.key)) % input.partitionCount;
  const auto count = static_cast<size_t>(input.partitionCount);
  if (state.cumulative.size() != count) {
    return static_cast<int32_t>(state.nextRoundRobin++ % count);
  }
  // A uniform double in [0, total) from 53 random bits; the first partition whose cumulative
  // weight exceeds it.
  const double target =
      static_cast<double>(state.engine() >> 11) * 0x1.0p-53 * state.cumulative.back();
  const auto found = std::upper_bound(state.cumulative.begin(), state.cumulative.end(), target);
  const auto index = static_cast<size_t>(found - state.cumulative.begin());
  return static_cast<int32_t>(std::min(index, count - 1));  // rounding can reach total itself
}

std::span<const double> LagAwarePartitioner::weights() const { return state_->weights; }

}  // namespace ebb::partition
