#include "ebb/scale/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace ebb::scale {
namespace {

constexpr double kEpsilon = 1e-9;
// Recovered: within the objective for this long without a break.
constexpr double kRecoveryHoldSeconds = 30;

double toSeconds(Millis m) { return static_cast<double>(m.count()) / 1000.0; }

// Messages of one partition that arrived during one step, spread uniformly over [start, start+dt).
struct Batch {
  int32_t step = 0;
  double start = 0;
  double count = 0;
  double taken = 0;  // consumed so far, from the front
};

struct PartitionState {
  double produced = 0;
  double backlog = 0;
  double committed = 0;  // what the group has committed: consumed, up to the last commit
  int64_t nextCommitMs = 0;
  bool tracked = true;  // latency is accounted (never stuck)
  std::deque<Batch> batches;
};

struct Pending {
  int64_t readyAt = 0;  // ms
  int32_t count = 0;
};

// Weighted quantile of samples already sorted by latency.
double quantile(const std::vector<std::pair<double, double>>& sorted, double total, double q) {
  if (sorted.empty() || total <= 0) return 0;
  const double target = q * total;
  double seen = 0;
  for (const auto& [latency, weight] : sorted) {
    seen += weight;
    if (seen >= target - kEpsilon) return latency;
  }
  return sorted.back().first;
}

double quantileOf(std::vector<std::pair<double, double>> samples, double q) {
  std::sort(samples.begin(), samples.end());
  const double total = std::accumulate(
      samples.begin(), samples.end(), 0.0,
      [](double sum, const std::pair<double, double>& s) { return sum + s.second; });
  return quantile(samples, total, q);
}

bool isStuck(const SimConfig& config, int32_t partition, int64_t nowMs) {
  return std::ranges::any_of(config.stuck, [&](const StuckPartition& s) {
    return s.partition == partition && nowMs >= s.from.count() && nowMs < s.until.count();
  });
}

// Max-min fair share of `capacity` between `demands`: each gets what it asks up to an equal share
// of what is left, so a replica polling several partitions drains the small ones and splits the
// rest. Writes the grants into `grants` (same order).
void shareFairly(double capacity, const std::vector<double>& demands, std::vector<double>& grants,
                 std::vector<size_t>& order) {
  order.resize(demands.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return demands[a] < demands[b]; });
  grants.assign(demands.size(), 0.0);
  double left = capacity;
  for (size_t i = 0; i < order.size(); ++i) {
    const double share = left / static_cast<double>(order.size() - i);
    const double grant = std::min(demands[order[i]], share);
    grants[order[i]] = grant;
    left -= grant;
  }
}

class Simulation {
 public:
  Simulation(const SimConfig& config, const load::Profile& arrivals, Policy& policy)
      : config_(config),
        arrivals_(arrivals),
        policy_(policy),
        dt_(toSeconds(config.step)),
        serviceTime_(1.0 / config.serviceRate),
        partitions_(static_cast<size_t>(config.partitions)),
        running_(config.initialReplicas),
        desired_(config.initialReplicas) {
    for (const StuckPartition& s : config.stuck) {
      partitions_[static_cast<size_t>(s.partition)].tracked = false;
    }
    // Each partition's consumer commits on its own timer: staggered phases, so the group's lag
    // carries about half an interval of processed-but-uncommitted messages at any instant.
    const int64_t commitMs = config.commitInterval.count();
    for (size_t p = 0; p < partitions_.size(); ++p) {
      partitions_[p].nextCommitMs =
          commitMs * static_cast<int64_t>(p) / static_cast<int64_t>(partitions_.size());
    }
  }

  SimResult run() {
    const int64_t stepMs = config_.step.count();
    const int64_t steps = (config_.duration.count() + stepMs - 1) / stepMs;
    result_.timeline.reserve(static_cast<size_t>(steps));
    byStep_.resize(static_cast<size_t>(steps));
    int64_t nextTickMs = 0;
    const int64_t intervalMs = std::max<int64_t>(1, policy_.interval().count());
    for (int64_t i = 0; i < steps; ++i) {
      const int64_t nowMs = i * stepMs;
      const double now = static_cast<double>(nowMs) / 1000.0;
      joinReady(nowMs);
      if (nowMs >= nextTickMs) {
        tick(nowMs);
        nextTickMs += intervalMs;
        if (nextTickMs <= nowMs) nextTickMs = nowMs + intervalMs;
      }
      advance(static_cast<int32_t>(i), nowMs, now);
    }
    finish(static_cast<double>(steps * stepMs) / 1000.0);
    return std::move(result_);
  }

 private:
  // Replicas whose start-up is over join the group: a rebalance.
  void joinReady(int64_t nowMs) {
    int32_t joined = 0;
    std::erase_if(pending_, [&](const Pending& p) {
      if (p.readyAt > nowMs) return false;
      joined += p.count;
      return true;
    });
    if (joined > 0) {
      running_ += joined;
      rebalance(nowMs);
    }
  }

  void rebalance(int64_t nowMs) {
    pauseUntilMs_ = std::max(pauseUntilMs_, nowMs + config_.rebalancePause.count());
    ++result_.summary.rebalances;
    // Consumers commit what they processed before giving partitions up.
    for (PartitionState& state : partitions_) state.committed = state.produced - state.backlog;
  }

  void tick(int64_t nowMs) {
    Observation observation;
    observation.at = Millis(nowMs);
    observation.currentReplicas = running_;
    observation.partitions.reserve(partitions_.size());
    for (size_t p = 0; p < partitions_.size(); ++p) {
      const PartitionState& state = partitions_[p];
      observation.partitions.push_back({static_cast<int32_t>(p), 0,
                                        static_cast<int64_t>(std::floor(state.produced + 1e-6)),
                                        static_cast<int64_t>(std::floor(state.committed + 1e-6))});
    }
    if (config_.observeP99 && !sinceTick_.empty()) {
      observation.p99Seconds = quantileOf(std::move(sinceTick_), 0.99);
    }
    sinceTick_.clear();

    Decision decision = policy_.decide(observation);
    result_.decisions.push_back(
        {static_cast<double>(nowMs) / 1000.0, decision.replicas, std::move(decision.reason)});
    apply(std::clamp(decision.replicas, config_.minReplicas, config_.maxReplicas), nowMs);
  }

  void apply(int32_t target, int64_t nowMs) {
    if (target == desired_) return;
    ++result_.summary.scaleEvents;
    desired_ = target;
    int32_t planned = running_;
    for (const Pending& p : pending_) planned += p.count;
    if (target > planned) {
      if (config_.startupDelay.count() == 0) {
        running_ += target - planned;
        rebalance(nowMs);
      } else {
        pending_.push_back({nowMs + config_.startupDelay.count(), target - planned});
      }
      return;
    }
    // Fewer: cancel replicas still starting (newest first), then stop running ones.
    int32_t remove = planned - target;
    while (remove > 0 && !pending_.empty()) {
      Pending& last = pending_.back();
      const int32_t cancel = std::min(remove, last.count);
      last.count -= cancel;
      remove -= cancel;
      if (last.count == 0) pending_.pop_back();
    }
    if (remove > 0) {
      running_ -= remove;
      rebalance(nowMs);
    }
  }

  void advance(int32_t step, int64_t nowMs, double now) {
    const double rate = std::max(0.0, arrivals_.rateAt(now + dt_ / 2));
    const double perPartition = rate * dt_ / static_cast<double>(partitions_.size());
    for (PartitionState& state : partitions_) {
      state.produced += perPartition;
      state.backlog += perPartition;
      if (state.tracked && perPartition > 0) state.batches.push_back({step, now, perPartition, 0});
    }
    result_.summary.messagesArrived += perPartition * static_cast<double>(partitions_.size());

    // The part of the step a rebalance leaves for consumption, at its end.
    const double stepEnd = now + dt_;
    const double pauseEnd = static_cast<double>(pauseUntilMs_) / 1000.0;
    const double active = std::clamp((stepEnd - pauseEnd) / dt_, 0.0, 1.0);
    const double departStart = stepEnd - active * dt_;
    if (active < 1.0) result_.summary.pausedSeconds += (1.0 - active) * dt_;

    double consumedTotal = 0;
    const int32_t members = std::min<int32_t>(running_, config_.partitions);
    if (running_ > 0 && active > 0) {
      for (int32_t replica = 0; replica < members; ++replica) {
        owned_.clear();
        demands_.clear();
        for (int32_t p = replica; p < config_.partitions; p += running_) {
          owned_.push_back(p);
          const bool stuck = isStuck(config_, p, nowMs);
          demands_.push_back(stuck ? 0.0 : partitions_[static_cast<size_t>(p)].backlog);
        }
        shareFairly(config_.serviceRate * dt_ * active, demands_, grants_, order_);
        for (size_t k = 0; k < owned_.size(); ++k) {
          if (grants_[k] <= 0) continue;
          consume(partitions_[static_cast<size_t>(owned_[k])], grants_[k], departStart,
                  active * dt_);
          consumedTotal += grants_[k];
        }
      }
    }
    result_.summary.messagesConsumed += consumedTotal;
    commit(nowMs + config_.step.count());

    double lag = 0;
    for (const PartitionState& state : partitions_) lag += state.backlog;
    SimPoint point;
    point.seconds = now;
    point.arrivalRate = rate;
    point.consumeRate = consumedTotal / dt_;
    point.lag = lag;
    point.replicasDesired = desired_;
    point.replicasRunning = running_;
    point.paused = active < 1.0;
    result_.timeline.push_back(point);
  }

  // Committed offsets as of `endMs`: at once without a commit interval, else at each partition's
  // commit times (up to a step late).
  void commit(int64_t endMs) {
    const int64_t interval = config_.commitInterval.count();
    for (PartitionState& state : partitions_) {
      if (interval == 0 || endMs >= state.nextCommitMs) {
        state.committed = state.produced - state.backlog;
        while (interval > 0 && state.nextCommitMs <= endMs) state.nextCommitMs += interval;
      }
    }
  }

  // Takes `amount` messages from the front of the partition, departing uniformly over
  // [departStart, departStart + departLength], and records their latencies.
  void consume(PartitionState& state, double amount, double departStart, double departLength) {
    state.backlog -= amount;
    if (state.backlog < kEpsilon) state.backlog = 0;
    if (!state.tracked) return;
    double position = 0;  // messages of this step's departures accounted so far
    while (amount - position > kEpsilon && !state.batches.empty()) {
      Batch& batch = state.batches.front();
      const double take = std::min(batch.count - batch.taken, amount - position);
      const auto departAt = [&](double m) { return departStart + departLength * m / amount; };
      const auto arriveAt = [&](double q) { return batch.start + dt_ * q / batch.count; };
      const double first = departAt(position) - arriveAt(batch.taken);
      const double last = departAt(position + take) - arriveAt(batch.taken + take);
      record(batch.step, first, last, take);
      batch.taken += take;
      position += take;
      if (batch.count - batch.taken <= kEpsilon) state.batches.pop_front();
    }
  }

  // Latency is linear in the message's position over a chunk; two half-weight samples at the
  // quarter points keep quantiles within a quarter of the chunk's spread (one when it has none).
  void record(int32_t step, double first, double last, double weight) {
    const double a = std::max(0.0, (3 * first + last) / 4) + serviceTime_;
    const double b = std::max(0.0, (first + 3 * last) / 4) + serviceTime_;
    auto& samples = byStep_[static_cast<size_t>(step)];
    if (std::abs(a - b) < 1e-6) {
      samples.emplace_back(a, weight);
      if (config_.observeP99) sinceTick_.emplace_back(a, weight);
      return;
    }
    samples.emplace_back(a, weight / 2);
    samples.emplace_back(b, weight / 2);
    if (config_.observeP99) {
      sinceTick_.emplace_back(a, weight / 2);
      sinceTick_.emplace_back(b, weight / 2);
    }
  }

  void finish(double end) {
    // Messages still waiting count with what they have waited so far.
    for (PartitionState& state : partitions_) {
      for (const Batch& batch : state.batches) {
        const double from = batch.start + dt_ * batch.taken / batch.count;
        const double to = batch.start + dt_;
        record(batch.step, end - from, end - to, batch.count - batch.taken);
      }
      state.batches.clear();
    }
    SimSummary& summary = result_.summary;

    // Per-step p99 of the messages that arrived in the step, then the whole run.
    std::vector<std::pair<double, double>> all;
    double total = 0;
    double late = 0;
    for (size_t step = 0; step < byStep_.size(); ++step) {
      auto& samples = byStep_[step];
      if (samples.empty()) continue;
      std::sort(samples.begin(), samples.end());
      double stepTotal = 0;
      for (const auto& [latency, weight] : samples) {
        stepTotal += weight;
        if (latency > config_.objectiveSeconds) late += weight;
        // Equal latencies (a group that keeps up) merge: the sort below stays short.
        if (!all.empty() && all.back().first == latency) {
          all.back().second += weight;
        } else {
          all.emplace_back(latency, weight);
        }
      }
      total += stepTotal;
      result_.timeline[step].p99Seconds = quantile(samples, stepTotal, 0.99);
      samples = {};
    }
    std::sort(all.begin(), all.end());
    summary.p50Seconds = quantile(all, total, 0.50);
    summary.p99Seconds = quantile(all, total, 0.99);
    summary.maxSeconds = all.empty() ? 0 : all.back().first;
    summary.lateFraction = total > 0 ? late / total : 0;

    double peakRate = -1;
    for (const SimPoint& point : result_.timeline) {
      if (point.arrivalRate > peakRate + kEpsilon) {
        peakRate = point.arrivalRate;
        summary.peakAtSeconds = point.seconds;
      }
    }
    bool recovered = false;
    double lastViolationEnd = summary.peakAtSeconds;
    for (const SimPoint& point : result_.timeline) {
      const bool violated = point.p99Seconds > config_.objectiveSeconds;
      if (violated) summary.sloViolationSeconds += dt_;
      if (point.seconds >= summary.peakAtSeconds && !recovered) {
        if (violated) {
          lastViolationEnd = point.seconds + dt_;
          summary.recoverySeconds = lastViolationEnd - summary.peakAtSeconds;
        } else if (point.seconds + dt_ - lastViolationEnd >= kRecoveryHoldSeconds - kEpsilon) {
          recovered = true;  // later violations are new incidents, not this one's tail
        }
      }
      if (point.lag > summary.maxLag) {
        summary.maxLag = point.lag;
        summary.maxLagAtSeconds = point.seconds;
      }
      summary.replicaSeconds += point.replicasDesired * dt_;
      summary.peakReplicas = std::max(summary.peakReplicas, point.replicasDesired);
    }
  }

  const SimConfig& config_;
  const load::Profile& arrivals_;
  Policy& policy_;
  double dt_;
  double serviceTime_;
  std::vector<PartitionState> partitions_;
  int32_t running_;
  int32_t desired_;
  std::vector<Pending> pending_;
  int64_t pauseUntilMs_ = std::numeric_limits<int64_t>::min() / 2;
  // (latency, messages) pieces of the distribution, by the step the messages arrived in.
  std::vector<std::vector<std::pair<double, double>>> byStep_;
  std::vector<std::pair<double, double>> sinceTick_;
  SimResult result_;
  // Scratch space reused every step.
  std::vector<int32_t> owned_;
  std::vector<double> demands_, grants_;
  std::vector<size_t> order_;
};

// splitmix64: a well-mixed 64-bit hash, so neighbouring buckets get unrelated draws.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double unitInterval(uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) / static_cast<double>(uint64_t{1} << 53);
}

[[noreturn]] void bad(std::string_view field, std::string_view what) {
  throw std::invalid_argument(fmt::format("simulator {}: {}", field, what));
}

}  // namespace

void SimConfig::validate() const {
  if (partitions < 1) bad("partitions", fmt::format("must be at least 1, got {}", partitions));
  if (!(serviceRate > 0) || !std::isfinite(serviceRate)) {
    bad("serviceRate", fmt::format("must be a positive number of messages/s, got {}", serviceRate));
  }
  if (step.count() < 1) bad("step", fmt::format("must be at least 1 ms, got {} ms", step.count()));
  if (duration < step) {
    bad("duration", fmt::format("must be at least one step ({} ms), got {} ms", step.count(),
                                duration.count()));
  }
  if (rebalancePause.count() < 0) bad("rebalancePause", "must not be negative");
  if (commitInterval.count() < 0) bad("commitInterval", "must not be negative");
  if (startupDelay.count() < 0) bad("startupDelay", "must not be negative");
  if (minReplicas < 0 || maxReplicas < minReplicas) {
    bad("minReplicas/maxReplicas",
        fmt::format("need 0 <= minReplicas <= maxReplicas, got {} and {}", minReplicas,
                    maxReplicas));
  }
  if (initialReplicas < minReplicas || initialReplicas > maxReplicas) {
    bad("initialReplicas",
        fmt::format("must be within [{}, {}], got {}", minReplicas, maxReplicas, initialReplicas));
  }
  if (!(objectiveSeconds > 0)) {
    bad("objectiveSeconds", fmt::format("must be more than 0, got {}", objectiveSeconds));
  }
  for (const StuckPartition& s : stuck) {
    if (s.partition < 0 || s.partition >= partitions) {
      bad("stuck", fmt::format("partition {} is not in [0, {})", s.partition, partitions));
    }
    if (s.until < s.from) bad("stuck", fmt::format("partition {}: until before from", s.partition));
  }
}

std::string SimSummary::describe() const {
  return fmt::format(
      "violation {:.1f} s, p99 {:.2f} s, late {:.2f}%, max lag {:.0f} at {:.0f} s, "
      "replica-seconds {:.0f}, scale events {}, rebalances {}, peak replicas {}, paused {:.1f} s, "
      "recovery {:.1f} s",
      sloViolationSeconds, p99Seconds, 100 * lateFraction, maxLag, maxLagAtSeconds, replicaSeconds,
      scaleEvents, rebalances, peakReplicas, pausedSeconds, recoverySeconds);
}

SimResult simulate(const SimConfig& config, const load::Profile& arrivals, Policy& policy) {
  config.validate();
  return Simulation(config, arrivals, policy).run();
}

NoisyProfile::NoisyProfile(std::unique_ptr<load::Profile> base, double relativeStdDev,
                           uint64_t seed, double bucketSeconds)
    : base_(std::move(base)),
      relativeStdDev_(relativeStdDev),
      seed_(seed),
      bucketSeconds_(bucketSeconds) {
  if (!base_) throw std::invalid_argument("noisy profile: the base profile is missing");
  if (!(relativeStdDev >= 0) || !std::isfinite(relativeStdDev)) {
    throw std::invalid_argument(fmt::format(
        "noisy profile: relative standard deviation must be >= 0, got {}", relativeStdDev));
  }
  if (!(bucketSeconds > 0)) {
    throw std::invalid_argument(
        fmt::format("noisy profile: bucket must be more than 0 s, got {}", bucketSeconds));
  }
}

double NoisyProfile::rateAt(double seconds) const {
  const auto bucket = static_cast<int64_t>(std::floor(seconds / bucketSeconds_));
  const uint64_t h = mix(seed_ ^ mix(static_cast<uint64_t>(bucket)));
  // Box-Muller from two independent uniforms.
  const double u1 = unitInterval(h);
  const double u2 = unitInterval(mix(h));
  const double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  return base_->rateAt(seconds) * std::max(0.0, 1 + relativeStdDev_ * z);
}

std::string NoisyProfile::describe() const {
  return fmt::format("{} with {:g}% noise per {:g} s (seed {})", base_->describe(),
                     100 * relativeStdDev_, bucketSeconds_, seed_);
}

}  // namespace ebb::scale
