#include "ebb/scale/slo_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "ebb/scale/policy_text.h"

namespace ebb::scale {
namespace {

constexpr double kEpsilon = 1e-9;
// Weight of a new forecast miss in the arrival noise estimate, and how many of those a trend's
// gain over the lead must exceed to count.
constexpr double kNoiseWeight = 0.3;
constexpr double kTrendSignificance = 3;
// Handoff samples are capped here (a day), which keeps them in range as milliseconds.
constexpr double kMaxHandoffSeconds = 86'400;

double seconds(Millis m) { return static_cast<double>(m.count()) / 1000.0; }

// ---- figures for humans -------------------------------------------------------------------------

std::string trimZero(std::string text) {
  if (const size_t dot = text.find('.'); dot != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

// 48000 -> "48,000".
std::string count(double value) { return formatFigure(std::round(std::max(0.0, value))); }

// 9800 -> "9.8k".
std::string quantity(double value) {
  const double magnitude = std::abs(value);
  if (magnitude >= 1e6) return trimZero(fmt::format("{:.2f}", value / 1e6)) + "M";
  if (magnitude >= 1e4) return trimZero(fmt::format("{:.1f}", value / 1e3)) + "k";
  if (magnitude >= 1e3) return trimZero(fmt::format("{:.2f}", value / 1e3)) + "k";
  return fmt::format("{:.0f}", value);
}

std::string rate(double value) { return quantity(value) + "/s"; }

std::string duration(double value) {
  if (value < 1) return fmt::format("{:.0f} ms", value * 1000);
  if (value < 120) return trimZero(fmt::format("{:.1f}", value)) + " s";
  return trimZero(fmt::format("{:.1f}", value / 60)) + " min";
}

std::string percent(double fraction) { return fmt::format("{:.0f}%", fraction * 100); }

[[noreturn]] void invalid(std::string_view key, std::string_view what) {
  throw std::invalid_argument(fmt::format("slo setting '{}' {}", key, what));
}

}  // namespace

// ---- config -------------------------------------------------------------------------------------

void SloConfig::validate() const {
  const auto positive = [](std::string_view key, Millis value) {
    if (value.count() <= 0)
      invalid(key, fmt::format("must be more than 0 ms, got {} ms", value.count()));
  };
  positive("objective", objective);
  positive("interval", interval);
  positive("drain", drain);
  positive("horizon", horizon);
  if (rebalancePause.count() < 0) invalid("rebalance-pause", "must not be negative");
  if (scaleInDelay.count() < 0) invalid("scale-in-delay", "must not be negative");
  if (commitInterval.count() < 0) invalid("commit-interval", "must not be negative");
  if (stuckAfter < std::max(interval, commitInterval)) {
    invalid("stuck-after",
            fmt::format("must be at least the interval and the commit interval ({} ms), got {} ms",
                        std::max(interval, commitInterval).count(), stuckAfter.count()));
  }
  if (minReplicas < 0) invalid("min-replicas", fmt::format("must be >= 0, got {}", minReplicas));
  if (maxReplicas < 0) invalid("max-replicas", fmt::format("must be >= 0, got {}", maxReplicas));
  if (maxReplicas > 0 && maxReplicas < minReplicas) {
    invalid("max-replicas", fmt::format("must be 0 (the partition count) or >= min-replicas ({}), "
                                        "got {}",
                                        minReplicas, maxReplicas));
  }
  if (!(serviceRate > 0) || !std::isfinite(serviceRate)) {
    invalid("service-rate", fmt::format("must be more than 0 messages/s, got {}", serviceRate));
  }
  const auto within = [](std::string_view key, double value, double low, double high, bool lowOpen,
                         bool highOpen) {
    const bool ok =
        (lowOpen ? value > low : value >= low) && (highOpen ? value < high : value <= high);
    if (!ok || !std::isfinite(value)) {
      invalid(key, fmt::format("must be in {}{}, {}{}, got {}", lowOpen ? "(" : "[", low, high,
                               highOpen ? ")" : "]", value));
    }
  };
  within("smoothing", smoothing, 0, 1, true, false);
  within("trend-smoothing", trendSmoothing, 0, 1, false, false);
  within("service-smoothing", serviceSmoothing, 0, 1, true, false);
  within("handoff-smoothing", handoffSmoothing, 0, 1, true, false);
  within("headroom", headroom, 0, 10, false, false);
  within("scale-in-hysteresis", scaleInHysteresis, 0, 1, false, true);
}

const std::vector<std::string_view>& SloConfig::settingKeys() {
  static const std::vector<std::string_view> kKeys = {"objective",
                                                      "interval",
                                                      "min-replicas",
                                                      "max-replicas",
                                                      "service-rate",
                                                      "smoothing",
                                                      "trend-smoothing",
                                                      "service-smoothing",
                                                      "headroom",
                                                      "drain",
                                                      "horizon",
                                                      "rebalance-pause",
                                                      "handoff-smoothing",
                                                      "scale-in-delay",
                                                      "scale-in-hysteresis",
                                                      "stuck-after",
                                                      "commit-interval"};
  return kKeys;
}

SloConfig SloConfig::fromSettings(const std::map<std::string, std::string>& settings) {
  PolicySettings reader("slo", settings);
  SloConfig config;
  const auto readDuration = [&](std::string_view key, Millis& field) {
    if (const auto v = reader.duration(key)) field = *v;
  };
  const auto readCount = [&](std::string_view key, int32_t& field) {
    if (const auto v = reader.integer(key, 0, std::numeric_limits<int32_t>::max())) {
      field = static_cast<int32_t>(*v);
    }
  };
  // The reader checks closed ranges; validate() then rejects the open ends ((0, 1], [0, 1)).
  const auto readNumber = [&](std::string_view key, double& field, double min, double max) {
    if (const auto v = reader.number(key, min, max)) field = *v;
  };
  constexpr double kUnbounded = std::numeric_limits<double>::infinity();
  readDuration("objective", config.objective);
  readDuration("interval", config.interval);
  readCount("min-replicas", config.minReplicas);
  readCount("max-replicas", config.maxReplicas);
  readNumber("service-rate", config.serviceRate, 0, kUnbounded);
  readNumber("smoothing", config.smoothing, 0, 1);
  readNumber("trend-smoothing", config.trendSmoothing, 0, 1);
  readNumber("service-smoothing", config.serviceSmoothing, 0, 1);
  readNumber("headroom", config.headroom, 0, 10);
  readDuration("drain", config.drain);
  readDuration("horizon", config.horizon);
  readDuration("rebalance-pause", config.rebalancePause);
  readNumber("handoff-smoothing", config.handoffSmoothing, 0, 1);
  readDuration("scale-in-delay", config.scaleInDelay);
  readNumber("scale-in-hysteresis", config.scaleInHysteresis, 0, 1);
  readDuration("stuck-after", config.stuckAfter);
  readDuration("commit-interval", config.commitInterval);
  reader.rejectUnknown(settingKeys());
  config.validate();
  return config;
}

// ---- the fluid model ----------------------------------------------------------------------------

Forecast forecast(double backlog, double arrivalRate, double capacity, double pauseSeconds,
                  double objectiveSeconds, double horizonSeconds) {
  Forecast result;
  const double horizon = std::max(0.0, horizonSeconds);
  const double pause = std::clamp(pauseSeconds, 0.0, horizon);
  if (capacity <= 0) {
    // Nothing is consumed: every waiting message only gets older.
    const bool waiting = backlog > 0 || arrivalRate > 0;
    result.violationSeconds = waiting ? horizon : 0;
    result.backlogAtHorizon = backlog + arrivalRate * horizon;
    return result;
  }
  // During the pause the wait of a message arriving at t is (pause - t) + backlog(t) / capacity:
  // linear in t, so the violating part is found from its two ends. An idle, empty group has no
  // message to wait.
  if (pause > 0 && (backlog > 0 || arrivalRate > 0)) {
    const double slope = arrivalRate / capacity - 1;
    const double first = pauseSeconds + backlog / capacity;
    const double last = first + slope * pause;
    if (first > objectiveSeconds && last > objectiveSeconds) {
      result.violationSeconds += pause;
    } else if (first > objectiveSeconds || last > objectiveSeconds) {
      const double crossing = (objectiveSeconds - first) / slope;
      result.violationSeconds += first > objectiveSeconds ? crossing : pause - crossing;
    }
  }
  // After it the backlog moves at arrivalRate - capacity; a message waits backlog / capacity.
  const double afterPause = backlog + arrivalRate * pause;
  const double rest = horizon - pause;
  const double allowed = objectiveSeconds * capacity;  // backlog at which the wait is the objective
  const double net = arrivalRate - capacity;
  if (net >= 0) {
    if (afterPause > allowed) {
      result.violationSeconds += rest;
    } else if (net > 0) {
      result.violationSeconds += std::max(0.0, rest - (allowed - afterPause) / net);
    }
    result.backlogAtHorizon = afterPause + net * rest;
  } else {
    result.violationSeconds += std::clamp((afterPause - allowed) / -net, 0.0, rest);
    result.backlogAtHorizon = std::max(0.0, afterPause + net * rest);
  }
  return result;
}

double groupCapacity(int32_t replicas, int32_t partitions, int32_t healthy, double perReplicaRate,
                     bool shareGroup) {
  if (replicas <= 0 || partitions <= 0 || healthy <= 0) return 0;
  // A share group past its partition count: the broker's assignor gives each partition some of
  // the members and a member serves only what it is given, so a partition with fewer members than
  // the others limits the group as the busiest member of a consumer group does. Only whole
  // multiples of the partition count are counted on (11 members on 6 partitions: one member held
  // two partitions, and those two fell seconds behind while the rest kept up).
  if (shareGroup && replicas >= partitions) {
    return static_cast<double>(healthy) * perReplicaRate *
           static_cast<double>(replicas / partitions);
  }
  const int32_t members = std::min(replicas, partitions);
  const int32_t busiest = (partitions + members - 1) / members;  // partitions on the busiest
  return static_cast<double>(healthy) * perReplicaRate / static_cast<double>(busiest);
}

// ---- the policy ---------------------------------------------------------------------------------

SloPolicy::SloPolicy(SloConfig config) : config_(std::move(config)) {
  config_.validate();
  estimate_.serviceRate = config_.serviceRate;
  estimate_.handoffSeconds = seconds(config_.rebalancePause);
}

Decision SloPolicy::decide(const Observation& observation) {
  // A handoff is reported once, whatever else the observation holds: never lose it to a baseline.
  shareGroup_ = observation.shareGroup;
  if (!shareGroup_) learnHandoff(observation.handoffSeconds);
  const auto partitions = static_cast<int32_t>(observation.partitions.size());
  const int32_t current = observation.currentReplicas;
  if (partitions == 0) {
    return {current, fmt::format("no partitions observed → keep {}", current)};
  }
  // Consumer groups: replicas beyond the partition count get no partition, never plan for them.
  // Share groups: the group's own limit.
  const int32_t cap = shareGroup_ ? kShareGroupMaxSize : partitions;
  const int32_t upper = config_.maxReplicas > 0 ? std::min(config_.maxReplicas, cap) : cap;
  const int32_t lower = std::min(config_.minReplicas, upper);
  if (!previousAt_ || history_.size() != observation.partitions.size() ||
      observation.at <= *previousAt_) {
    return baseline(observation, lower, upper);
  }
  const Reading reading = read(observation, lower, upper);
  return choose(reading, plan(reading));
}

Decision SloPolicy::baseline(const Observation& observation, int32_t lower, int32_t upper) {
  const std::string why = !previousAt_ ? "first observation"
                          : history_.size() != observation.partitions.size()
                              ? fmt::format("partition count changed {} → {}", history_.size(),
                                            observation.partitions.size())
                              : "observation time did not advance";
  history_.assign(observation.partitions.size(), {});
  int64_t lag = 0;
  for (size_t i = 0; i < observation.partitions.size(); ++i) {
    const PartitionObservation& p = observation.partitions[i];
    const int64_t committed = p.committed >= 0 ? p.committed : p.logStart;
    history_[i] = {p.logEnd, committed, observation.at, observation.at};
    lag += std::max<int64_t>(0, p.logEnd - committed);
  }
  previousAt_ = observation.at;
  if (!startedAt_) startedAt_ = observation.at;
  previousReplicas_ = observation.currentReplicas;
  levelStarted_ = false;
  recommendations_.clear();
  previousLargest_.reset();
  std::vector<int64_t> committed(observation.partitions.size());
  std::vector<int64_t> lags(observation.partitions.size());
  for (size_t i = 0; i < history_.size(); ++i) {
    committed[i] = history_[i].committed;
    lags[i] = std::max<int64_t>(0, history_[i].logEnd - history_[i].committed);
  }
  startWindow(observation.at, committed, lags);
  const int32_t replicas = std::clamp(observation.currentReplicas, lower, upper);
  return {replicas,
          fmt::format("{} ({} partitions, lag {}): baseline for the rates → {} {}", why,
                      observation.partitions.size(), count(static_cast<double>(lag)),
                      replicas == observation.currentReplicas ? "keep" : "set", replicas)};
}

// ---- estimation ---------------------------------------------------------------------------------

// Everything one observation teaches (history, SloEstimate, the service-rate window), before any
// plan is made from it.
SloPolicy::Reading SloPolicy::read(const Observation& observation, int32_t lower, int32_t upper) {
  Reading reading;
  reading.now = observation.at;
  reading.current = observation.currentReplicas;
  reading.partitions = static_cast<int32_t>(observation.partitions.size());
  reading.lower = lower;
  reading.upper = upper;
  reading.p99Seconds = observation.p99Seconds;
  const double dt = seconds(reading.now - *previousAt_);

  const Offsets offsets = readOffsets(observation);
  const std::vector<bool> stuck = findStuck(observation, offsets, reading);
  reading.healthy = static_cast<int32_t>(reading.partitions - estimate_.stuckPartitions.size());
  // Over all partitions: a stuck consumer does not slow its producers.
  reading.arrivalSample = static_cast<double>(offsets.produced) / dt;
  learnArrivalRate(reading.arrivalSample, dt);
  // Lag counts what was processed but not committed yet: with consumers committing on their own
  // timers, half a commit interval of arrivals on average.
  const double share =
      static_cast<double>(reading.healthy) / static_cast<double>(reading.partitions);
  estimate_.uncommitted =
      std::max(0.0, estimate_.arrivalRate) * share * seconds(config_.commitInterval) / 2;

  if (reading.current != previousReplicas_) noteChange(reading.now);
  learnServiceRate(reading.now, reading.current, offsets.committed, offsets.lags, stuck);
  previousAt_ = reading.now;
  previousReplicas_ = reading.current;
  return reading;
}

// Offsets now and what was produced since the last observation; notes which partitions moved.
SloPolicy::Offsets SloPolicy::readOffsets(const Observation& observation) {
  const size_t partitionCount = observation.partitions.size();
  Offsets offsets{std::vector<int64_t>(partitionCount), std::vector<int64_t>(partitionCount), 0};
  for (size_t i = 0; i < partitionCount; ++i) {
    const PartitionObservation& p = observation.partitions[i];
    PartitionHistory& h = history_[i];
    offsets.committed[i] = p.committed >= 0 ? p.committed : p.logStart;
    offsets.lags[i] = std::max<int64_t>(0, p.logEnd - offsets.committed[i]);
    offsets.produced += std::max<int64_t>(0, p.logEnd - h.logEnd);
    if (offsets.committed[i] > h.committed) h.advancedAt = observation.at;
    if (offsets.committed[i] > h.committed || offsets.lags[i] == 0) h.movedAt = observation.at;
  }
  return offsets;
}

// Stuck: lag, no progress for stuckAfter, while some other partition progressed within it.
// Others' progress, not the clock, is the evidence: a paused or absent group stalls every
// partition, and that lag is real work for the replicas. Sets the backlog and the stuck partitions
// (and the reading's note on them), moves the history on to this observation and returns which
// partitions are stuck.
std::vector<bool> SloPolicy::findStuck(const Observation& observation, const Offsets& offsets,
                                       Reading& reading) {
  const Millis now = observation.at;
  int32_t recentlyAdvanced = 0;
  for (const PartitionHistory& h : history_) {
    if (now - h.advancedAt < config_.stuckAfter) ++recentlyAdvanced;
  }
  estimate_.stuckPartitions.clear();
  int64_t backlog = 0;
  std::vector<bool> stuckFlags(history_.size(), false);
  for (size_t i = 0; i < history_.size(); ++i) {
    const PartitionObservation& p = observation.partitions[i];
    PartitionHistory& h = history_[i];
    const bool stuck = observation.currentReplicas > 0 && offsets.lags[i] > 0 &&
                       now - h.movedAt >= config_.stuckAfter && recentlyAdvanced > 0;
    stuckFlags[i] = stuck;
    if (stuck) {
      estimate_.stuckPartitions.push_back(p.partition);
      if (estimate_.stuckPartitions.size() <= 3) {
        reading.stuckNote += fmt::format("partition {} stuck {} (lag {}, ignored); ", p.partition,
                                         duration(seconds(now - h.movedAt)),
                                         count(static_cast<double>(offsets.lags[i])));
      }
    } else {
      backlog += offsets.lags[i];
    }
    h.logEnd = p.logEnd;
    h.committed = offsets.committed[i];
  }
  if (estimate_.stuckPartitions.size() > 3) {
    reading.stuckNote +=
        fmt::format("{} more partitions stuck (ignored); ", estimate_.stuckPartitions.size() - 3);
  }
  estimate_.backlog = backlog;
  return stuckFlags;
}

// Holt's double exponential smoothing of the arrival rate.
void SloPolicy::learnArrivalRate(double sample, double dt) {
  if (!levelStarted_) {
    estimate_.arrivalRate = sample;
    estimate_.arrivalTrend = 0;
    estimate_.arrivalNoise = 0;
    levelStarted_ = true;
    return;
  }
  const double previousLevel = estimate_.arrivalRate;
  // How far samples stray from the one-step forecast: what a trend must beat to mean anything.
  const double residual = sample - (previousLevel + estimate_.arrivalTrend * dt);
  estimate_.arrivalNoise =
      (1 - kNoiseWeight) * estimate_.arrivalNoise + kNoiseWeight * std::abs(residual);
  estimate_.arrivalRate = config_.smoothing * sample +
                          (1 - config_.smoothing) * (previousLevel + estimate_.arrivalTrend * dt);
  estimate_.arrivalTrend = config_.trendSmoothing * (estimate_.arrivalRate - previousLevel) / dt +
                           (1 - config_.trendSmoothing) * estimate_.arrivalTrend;
}

// The first measured handoff replaces the configured pause (a measurement beats a guess, as for
// the service rate); later ones move the estimate by handoff-smoothing.
void SloPolicy::learnHandoff(std::optional<double> sample) {
  if (!sample || !std::isfinite(*sample) || *sample < 0) return;  // nothing measured
  const double value = std::min(*sample, kMaxHandoffSeconds);
  const auto learn = [&](double& estimate, bool& learnt) {
    estimate = learnt ? estimate + config_.handoffSmoothing * (value - estimate) : value;
    learnt = true;
  };
  // After our scale-in it is a scale-in's cost; after our scale-out, a scale-out's; a handoff we
  // did not cause (the first, or another controller's) says something of both.
  if (lastDirection_ != Direction::kIn) learn(estimate_.handoffSeconds, estimate_.handoffLearnt);
  if (lastDirection_ != Direction::kOut) {
    learn(estimate_.scaleInHandoffSeconds, estimate_.scaleInHandoffLearnt);
  }
}

Millis SloPolicy::handoff() const {
  if (shareGroup_) return Millis(0);  // members come and go without moving partitions
  if (!estimate_.handoffLearnt) return config_.rebalancePause;
  return Millis(std::llround(estimate_.handoffSeconds * 1000));
}

std::string SloPolicy::handoffText() const {
  if (shareGroup_) return "no handoff (share group)";
  return estimate_.handoffLearnt
             ? fmt::format("handoff {} measured", duration(seconds(handoff())))
             : fmt::format("rebalance pause {} assumed", duration(seconds(handoff())));
}

void SloPolicy::noteChange(Millis at) {
  lastChangeAt_ = at;
  // What is consumed until the rebalance is over measures the pause, not the replicas; and the
  // first commits after it still cover part of the pause.
  learnAfter_ = at + handoff() + config_.commitInterval;
  window_.reset();
}

void SloPolicy::startWindow(Millis at, const std::vector<int64_t>& committed,
                            const std::vector<int64_t>& lags) {
  window_ = Window{at, committed, lags};
}

void SloPolicy::learnServiceRate(Millis now, int32_t replicas,
                                 const std::vector<int64_t>& committed,
                                 const std::vector<int64_t>& lags, const std::vector<bool>& stuck) {
  if (now < learnAfter_) return;
  if (!window_ || window_->at < learnAfter_) {
    startWindow(now, committed, lags);
    return;
  }
  // Over less than a commit interval, committed offsets move in jumps, not at the rate.
  const Millis span = std::max(config_.interval, config_.commitInterval);
  if (now - window_->at < span) return;
  const double length = seconds(now - window_->at);
  int64_t consumed = 0;
  int32_t healthy = 0;
  bool saturated = true;
  for (size_t i = 0; i < committed.size(); ++i) {
    if (stuck[i]) continue;
    ++healthy;
    const int64_t done = std::max<int64_t>(0, committed[i] - window_->committed[i]);
    consumed += done;
    // Up to one commit interval of processed messages shows as lag; more than that waited for a
    // replica, at both ends of the window.
    const double uncommitted = static_cast<double>(done) / length * seconds(config_.commitInterval);
    saturated = saturated && static_cast<double>(window_->lags[i]) > uncommitted &&
                static_cast<double>(lags[i]) > uncommitted;
  }
  startWindow(now, committed, lags);
  const int32_t busy = shareGroup_ ? replicas : std::min(replicas, healthy);
  if (busy <= 0 || consumed <= 0) return;
  const double sample = static_cast<double>(consumed) / length / busy;
  if (saturated) {
    // Every partition had work throughout: the replicas ran flat out, the sample is the rate.
    estimate_.serviceRate =
        estimate_.serviceRateLearnt
            ? estimate_.serviceRate + config_.serviceSmoothing * (sample - estimate_.serviceRate)
            : sample;
    estimate_.serviceRateLearnt = true;
    serviceRateNote_ = "learnt";
  } else if (sample > estimate_.serviceRate) {
    // Not saturated, but replicas did at least this much: a lower bound beats a lower guess.
    estimate_.serviceRate = sample;
    if (!estimate_.serviceRateLearnt) serviceRateNote_ = "at least";
  }
}

// ---- planning -----------------------------------------------------------------------------------

// The smallest count in [lower, upper] whose capacity, at the planned per-replica rate, serves
// `arrivalRate` and drains `backlog` within the drain time; `upper` when none does.
int32_t SloPolicy::size(double arrivalRate, double backlog, int32_t partitions, int32_t healthy,
                        int32_t lower, int32_t upper) const {
  // Steady state keeps the headroom; draining runs replicas flat out, which is what a backlog is
  // for, so the drain is planned at the full rate.
  const double drainNeed = arrivalRate + backlog / seconds(config_.drain);
  if (drainNeed <= kEpsilon) return lower;
  const double planned = estimate_.serviceRate / (1 + config_.headroom);
  for (int32_t r = std::max(lower, 1); r <= upper; ++r) {
    if (groupCapacity(r, partitions, healthy, planned, shareGroup_) >= arrivalRate - kEpsilon &&
        groupCapacity(r, partitions, healthy, estimate_.serviceRate, shareGroup_) >=
            drainNeed - kEpsilon) {
      return r;
    }
  }
  return upper;
}

SloPolicy::Plan SloPolicy::plan(const Reading& reading) {
  Plan plan;
  // Plan for the arrivals expected once a change would be in effect (one interval to act, one
  // handoff to rebalance); a falling trend is not counted on.
  plan.pause = seconds(handoff());
  const double lead = seconds(config_.interval) + plan.pause;
  const double share =
      static_cast<double>(reading.healthy) / static_cast<double>(reading.partitions);
  const double level = std::max(0.0, estimate_.arrivalRate);
  // Take what is processed but not committed off the work left.
  plan.backlog = std::max(0.0, static_cast<double>(estimate_.backlog) - estimate_.uncommitted);
  // Plan for no less than the last sample: right after a step the smoothed level lags behind a
  // rate that is already there, and undersizing costs a second rebalance.
  plan.rateNow = std::max(level, reading.arrivalSample);
  // The trend counts only when what it adds over the lead beats three times the samples' usual
  // miss of the forecast, while the group keeps up (no backlog beyond what the objective allows),
  // and adds at most the headroom. A steady ramp passes; noise and steps do not: after a step the
  // miss is as large as the step while Holt's level catches up and its trend overshoots, and
  // extrapolating that would size for a load that never comes (the backlog term serves a step).
  const double trendGain = std::max(0.0, estimate_.arrivalTrend) * lead;
  const bool rising = trendGain > kTrendSignificance * estimate_.arrivalNoise &&
                      plan.backlog <= plan.rateNow * share * seconds(config_.objective);
  plan.rise = rising ? std::min(trendGain, config_.headroom * plan.rateNow) : 0.0;
  plan.arrivals = (plan.rateNow + plan.rise) * share;  // healthy partitions
  // A change restarts the pause; keeping the count only waits out what is left of one under way.
  plan.pauseLeft =
      lastChangeAt_ ? std::max(0.0, seconds(*lastChangeAt_ + handoff() - reading.now)) : 0.0;

  // Whether the current count copes: serve the arrivals and drain the backlog in time.
  plan.enough = size(plan.arrivals, plan.backlog, reading.partitions, reading.healthy,
                     reading.lower, reading.upper);
  // The count to change to: a change also has to drain what its own pause piles up.
  plan.needed = size(plan.arrivals, plan.backlog + plan.arrivals * plan.pause, reading.partitions,
                     reading.healthy, reading.lower, reading.upper);
  recommend(reading, plan);

  plan.capacityNow = groupCapacity(reading.current, reading.partitions, reading.healthy,
                                   estimate_.serviceRate, shareGroup_);
  plan.status = describe(reading, plan);
  plan.capacityText = fmt::format("capacity {} ({} × {} {})", rate(plan.capacityNow),
                                  reading.current, rate(estimate_.serviceRate), serviceRateNote_);
  return plan;
}

// Records this decision's `needed` and finds the largest over the scale-in window.
void SloPolicy::recommend(const Reading& reading, Plan& plan) {
  recommendations_.push_back({reading.now, plan.needed});
  while (!recommendations_.empty() &&
         recommendations_.front().at < reading.now - config_.scaleInDelay) {
    recommendations_.pop_front();
  }
  plan.largest = 0;
  plan.largestAt = reading.now;
  for (const Recommendation& r : recommendations_) {
    if (r.replicas >= plan.largest) {
      plan.largest = r.replicas;
      plan.largestAt = r.at;
    }
  }
  plan.settled = previousLargest_ == plan.largest;
  previousLargest_ = plan.largest;
}

// What every reason starts with: the lag, the arrivals and the consumers' p99.
std::string SloPolicy::describe(const Reading& reading, const Plan& plan) const {
  std::string status =
      fmt::format("{}lag {}", reading.stuckNote, count(static_cast<double>(estimate_.backlog)));
  if (estimate_.uncommitted >= 1) {
    status +=
        fmt::format(" (~{} expected processed but uncommitted)", count(estimate_.uncommitted));
  }
  status += fmt::format("; arrival {}", rate(plan.rateNow));
  if (plan.rise > 0) {
    status += fmt::format(" rising {} per s (plan for {})", rate(estimate_.arrivalTrend),
                          rate(plan.rateNow + plan.rise));
  }
  if (reading.p99Seconds) {
    status += fmt::format("; consumers' p99 {}", duration(*reading.p99Seconds));
  }
  return status;
}

Decision SloPolicy::choose(const Reading& reading, const Plan& plan) {
  const int32_t current = reading.current;
  const int32_t upper = reading.upper;
  // Outside the bounds: back inside at once (idle replicas past the partition count are waste).
  if (current > upper) {
    return answer(
        reading, upper,
        fmt::format("{}; {} replicas > {} {} → {}", plan.status, current, upper,
                    upper == reading.partitions ? "partitions (the rest sit idle)" : "max-replicas",
                    upper));
  }
  if (current < reading.lower) {
    return answer(reading, reading.lower,
                  fmt::format("{}; {} replicas < min-replicas {} → {}", plan.status, current,
                              reading.lower, reading.lower));
  }
  if (plan.enough > current) return scaleUp(reading, plan);
  if (plan.needed < current) return scaleIn(reading, plan);
  return answer(
      reading, current,
      fmt::format("{} {} {}, {} busy → keep {}", plan.status,
                  plan.arrivals > plan.capacityNow ? ">" : "≤", plan.capacityText,
                  percent(plan.capacityNow > 0 ? plan.arrivals / plan.capacityNow : 0), current));
}

// Up in one step to the size needed, when that beats waiting it out at the current size.
Decision SloPolicy::scaleUp(const Reading& reading, const Plan& plan) {
  const int32_t current = reading.current;
  const int32_t needed = plan.needed;
  const double mu = estimate_.serviceRate;
  const double objective = seconds(config_.objective);
  const double horizon = seconds(config_.horizon);
  const auto capacity = [&](int32_t replicas, double perReplica) {
    return groupCapacity(replicas, reading.partitions, reading.healthy, perReplica, shareGroup_);
  };
  // The fluid model runs at the full rate: headroom sizes the group, it does not slow it.
  const Forecast keep = forecast(plan.backlog, plan.arrivals, capacity(current, mu), plan.pauseLeft,
                                 objective, horizon);
  const Forecast change =
      forecast(plan.backlog, plan.arrivals, capacity(needed, mu), plan.pause, objective, horizon);
  const bool tie = std::abs(change.violationSeconds - keep.violationSeconds) <= kEpsilon;
  const bool better = change.violationSeconds < keep.violationSeconds - kEpsilon ||
                      (tie && change.backlogAtHorizon < keep.backlogAtHorizon - 0.5);
  const std::string_view versus = plan.arrivals > plan.capacityNow ? ">" : "≤";
  if (!better) {
    return answer(reading, current,
                  fmt::format("{} {} {}; {} replicas would add capacity but a {} rebalance puts "
                              "~{} over the {} objective vs ~{} if kept ({}) → keep {}",
                              plan.status, versus, plan.capacityText, needed, duration(plan.pause),
                              duration(change.violationSeconds), duration(objective),
                              duration(keep.violationSeconds), handoffText(), current));
  }
  std::string comparison = fmt::format("~{} over the {} objective in the next {} vs ~{} if kept",
                                       duration(change.violationSeconds), duration(objective),
                                       duration(horizon), duration(keep.violationSeconds));
  if (tie) {
    comparison += fmt::format(", with {} behind at the end vs {}", count(change.backlogAtHorizon),
                              count(keep.backlogAtHorizon));
  }
  const double toDrain = plan.backlog + plan.arrivals * plan.pause;
  const double capacityNew = capacity(needed, mu / (1 + config_.headroom));
  const double real = capacity(needed, mu);
  std::string sizing;
  if (capacityNew + kEpsilon < plan.arrivals ||
      real - plan.arrivals < toDrain / seconds(config_.drain)) {
    sizing = fmt::format(
        "{} ({} planned with {} headroom) for {} and {} to drain is the most, capped at {}",
        rate(real), rate(capacityNew), percent(config_.headroom), rate(plan.arrivals),
        count(toDrain),
        reading.upper == config_.maxReplicas ? "max-replicas"
        : shareGroup_                        ? "the share group's size limit"
                                             : "the partition count");
  } else {
    sizing = fmt::format("{} serves {} with {} headroom ({} planned) and drains {} ({}) in {}",
                         rate(real), rate(plan.arrivals), percent(config_.headroom),
                         rate(capacityNew), count(toDrain),
                         shareGroup_ ? std::string("lag; no rebalance in a share group")
                                     : fmt::format("lag + {} rebalance", duration(plan.pause)),
                         duration(toDrain / (real - plan.arrivals)));
  }
  return answer(reading, needed,
                fmt::format("{} {} {} → {} replicas: {}; {}; {}", plan.status, versus,
                            plan.capacityText, needed, sizing, comparison, handoffText()));
}

// Down to the largest count needed over the whole scale-in window, if that saves enough and, once
// a handoff has been measured, the handoff to the smaller group keeps within the objective.
Decision SloPolicy::scaleIn(const Reading& reading, const Plan& plan) {
  const int32_t current = reading.current;
  const int32_t largest = plan.largest;
  const Millis now = reading.now;
  const std::string delay = duration(seconds(config_.scaleInDelay));
  const std::string head = fmt::format(
      "{} ≤ {} ({} busy); {} would suffice", plan.status, plan.capacityText,
      percent(plan.capacityNow > 0 ? plan.arrivals / plan.capacityNow : 0), plan.needed);
  const auto hold = [&](const std::string& why) {
    return answer(reading, current, fmt::format("{}{} → keep {}", head, why, current));
  };
  const double watched = seconds(now - *startedAt_);
  if (watched < seconds(config_.scaleInDelay)) {
    return hold(
        fmt::format(", but only {} of the {} scale-in delay observed", duration(watched), delay));
  }
  if (lastChangeAt_ && now - *lastChangeAt_ < config_.scaleInDelay) {
    // One scale-in per delay at most: each costs a pause, and the load it was sized for may
    // still be settling.
    return hold(fmt::format(", but the count changed {} ago (scale-in delay {})",
                            duration(seconds(now - *lastChangeAt_)), delay));
  }
  if (largest >= current) {
    return hold(fmt::format(", but {} were needed {} ago (scale-in delay {})", largest,
                            duration(seconds(now - plan.largestAt)), delay));
  }
  if (!plan.settled) {
    // The largest count of the window is still falling (the load dropped less than a window
    // ago): wait for it to settle and scale in once instead of in several paused steps.
    return hold(fmt::format("; at most {} needed for the last {}, still falling", largest, delay));
  }
  const auto minimumSaving = std::max<int32_t>(
      1, static_cast<int32_t>(std::ceil(config_.scaleInHysteresis * current - kEpsilon)));
  if (current - largest < minimumSaving) {
    return hold(fmt::format("; {} over the last {} saves {} of {} (< {} hysteresis)", largest,
                            delay, current - largest, current, percent(config_.scaleInHysteresis)));
  }
  // A measured scale-in handoff is what scaling in will cost: hold when it makes messages late.
  // Neither the prior nor a scale-out's handoff holds it (rebalance-pause is a guess, longer than
  // the default objective; a scale-out also waits for new members to join).
  const bool measured = estimate_.scaleInHandoffLearnt;
  const double pause = measured ? estimate_.scaleInHandoffSeconds : plan.pause;
  const std::string pauseText =
      measured ? fmt::format("handoff {} measured", duration(pause)) : handoffText();
  const Forecast cost = forecast(plan.backlog, plan.arrivals,
                                 groupCapacity(largest, reading.partitions, reading.healthy,
                                               estimate_.serviceRate, shareGroup_),
                                 pause, seconds(config_.objective), seconds(config_.horizon));
  if (measured && cost.violationSeconds > kEpsilon) {
    return hold(
        fmt::format("; at most {} needed for the last {}, but with {} the {} puts ~{} "
                    "over the {} objective",
                    largest, delay, largest, pauseText, duration(cost.violationSeconds),
                    duration(seconds(config_.objective))));
  }
  return answer(reading, largest,
                fmt::format("{}; at most {} needed for the last {} → {} replicas (saves {}; the {} "
                            "rebalance costs ~{} over the objective; {})",
                            head, largest, delay, largest, current - largest, duration(pause),
                            duration(cost.violationSeconds), pauseText));
}

Decision SloPolicy::answer(const Reading& reading, int32_t replicas, std::string reason) {
  if (replicas != reading.current) {
    lastDirection_ = replicas > reading.current ? Direction::kOut : Direction::kIn;
    noteChange(reading.now);
    previousReplicas_ = replicas;  // the change we asked for is not news when it shows up
  }
  return Decision{replicas, std::move(reason)};
}

}  // namespace ebb::scale
