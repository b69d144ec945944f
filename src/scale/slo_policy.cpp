#include "ebb/scale/slo_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <utility>

#include "ebb/scale/policy_text.h"
#include "ebb/util/parse_number.h"

namespace ebb::scale {
namespace {

constexpr double kEpsilon = 1e-9;
// Weight of a new forecast miss in the arrival noise estimate, and how many of those a trend's
// gain over the lead must exceed to count.
constexpr double kNoiseWeight = 0.3;
constexpr double kTrendSignificance = 3;

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

// ---- settings -----------------------------------------------------------------------------------

[[noreturn]] void badSetting(std::string_view key, std::string_view text,
                             std::string_view accepted) {
  throw std::invalid_argument(
      fmt::format("slo setting '{}': '{}' is not accepted; {}", key, text, accepted));
}

constexpr std::string_view kDurationForm =
    "use a whole number of milliseconds written as 500ms, 1.5s, 5m or 1h (a bare number is "
    "seconds)";

// The duration grammar every policy's settings share (policy_text.h).
Millis durationSetting(std::string_view key, std::string_view text) {
  const auto value = parseDuration(text);
  if (!value) badSetting(key, text, kDurationForm);
  return *value;
}

double parseDouble(std::string_view key, std::string_view text, std::string_view accepted) {
  const auto value = util::parseNumber(text);
  if (!value) badSetting(key, text, accepted);
  return *value;
}

int32_t parseCount(std::string_view key, std::string_view text, std::string_view accepted) {
  int32_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) {
    badSetting(key, text, accepted);
  }
  return value;
}

using Setter = std::function<void(SloConfig&, std::string_view key, std::string_view text)>;

Setter durationOf(Millis SloConfig::*field) {
  return [field](SloConfig& c, std::string_view key, std::string_view text) {
    c.*field = durationSetting(key, text);
  };
}

Setter numberOf(double SloConfig::*field, std::string_view accepted) {
  return [field, accepted](SloConfig& c, std::string_view key, std::string_view text) {
    c.*field = parseDouble(key, text, accepted);
  };
}

Setter countOf(int32_t SloConfig::*field, std::string_view accepted) {
  return [field, accepted](SloConfig& c, std::string_view key, std::string_view text) {
    c.*field = parseCount(key, text, accepted);
  };
}

const std::vector<std::pair<std::string_view, Setter>>& setters() {
  static const std::vector<std::pair<std::string_view, Setter>> kSetters = {
      {"objective", durationOf(&SloConfig::objective)},
      {"interval", durationOf(&SloConfig::interval)},
      {"min-replicas", countOf(&SloConfig::minReplicas, "use a whole number >= 0, e.g. 1")},
      {"max-replicas",
       countOf(&SloConfig::maxReplicas, "use a whole number >= 0 (0: the partition count)")},
      {"service-rate", numberOf(&SloConfig::serviceRate,
                                "use messages/s one replica consumes, a number > 0, e.g. 1500")},
      {"smoothing", numberOf(&SloConfig::smoothing, "use a number in (0, 1], e.g. 0.5")},
      {"trend-smoothing", numberOf(&SloConfig::trendSmoothing, "use a number in [0, 1], e.g. 0.3")},
      {"service-smoothing",
       numberOf(&SloConfig::serviceSmoothing, "use a number in (0, 1], e.g. 0.3")},
      {"headroom", numberOf(&SloConfig::headroom, "use a number in [0, 10], e.g. 0.2 for 20%")},
      {"drain", durationOf(&SloConfig::drain)},
      {"horizon", durationOf(&SloConfig::horizon)},
      {"rebalance-pause", durationOf(&SloConfig::rebalancePause)},
      {"scale-in-delay", durationOf(&SloConfig::scaleInDelay)},
      {"scale-in-hysteresis",
       numberOf(&SloConfig::scaleInHysteresis, "use a number in [0, 1), e.g. 0.2 for 20%")},
      {"stuck-after", durationOf(&SloConfig::stuckAfter)},
      {"commit-interval", durationOf(&SloConfig::commitInterval)},
  };
  return kSetters;
}

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
  within("headroom", headroom, 0, 10, false, false);
  within("scale-in-hysteresis", scaleInHysteresis, 0, 1, false, true);
}

const std::vector<std::string_view>& SloConfig::settingKeys() {
  static const std::vector<std::string_view> kKeys = [] {
    std::vector<std::string_view> keys;
    for (const auto& entry : setters()) keys.push_back(entry.first);
    return keys;
  }();
  return kKeys;
}

SloConfig SloConfig::fromSettings(const std::map<std::string, std::string>& settings) {
  SloConfig config;
  for (const auto& [key, text] : settings) {
    const auto& table = setters();
    const auto found = std::ranges::find(table, std::string_view(key),
                                         &std::pair<std::string_view, Setter>::first);
    if (found == table.end()) {
      std::string known;
      for (const auto& entry : table)
        known += fmt::format("{}{}", known.empty() ? "" : ", ", entry.first);
      throw std::invalid_argument(
          fmt::format("slo setting '{}' is unknown; the slo policy accepts: {}", key, known));
    }
    found->second(config, key, text);
  }
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
  // linear in t, so the violating part is found from its two ends.
  if (pause > 0) {
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

double groupCapacity(int32_t replicas, int32_t partitions, int32_t healthy, double perReplicaRate) {
  if (replicas <= 0 || partitions <= 0 || healthy <= 0) return 0;
  const int32_t members = std::min(replicas, partitions);
  const int32_t busiest = (partitions + members - 1) / members;  // partitions on the busiest
  return static_cast<double>(healthy) * perReplicaRate / static_cast<double>(busiest);
}

// ---- the policy ---------------------------------------------------------------------------------

SloPolicy::SloPolicy(SloConfig config) : config_(std::move(config)) {
  config_.validate();
  estimate_.serviceRate = config_.serviceRate;
}

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
    if (groupCapacity(r, partitions, healthy, planned) >= arrivalRate - kEpsilon &&
        groupCapacity(r, partitions, healthy, estimate_.serviceRate) >= drainNeed - kEpsilon) {
      return r;
    }
  }
  return upper;
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

void SloPolicy::noteChange(Millis at) {
  lastChangeAt_ = at;
  // What is consumed until the rebalance is over measures the pause, not the replicas; and the
  // first commits after it still cover part of the pause.
  learnAfter_ = at + config_.rebalancePause + config_.commitInterval;
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
  const int32_t busy = std::min(replicas, healthy);
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

Decision SloPolicy::decide(const Observation& observation) {
  const auto partitions = static_cast<int32_t>(observation.partitions.size());
  const int32_t current = observation.currentReplicas;
  if (partitions == 0) {
    return {current, fmt::format("no partitions observed → keep {}", current)};
  }
  // Replicas beyond the partition count get no partition: never plan for them.
  const int32_t upper =
      config_.maxReplicas > 0 ? std::min(config_.maxReplicas, partitions) : partitions;
  const int32_t lower = std::min(config_.minReplicas, upper);
  if (!previousAt_ || history_.size() != observation.partitions.size() ||
      observation.at <= *previousAt_) {
    return baseline(observation, lower, upper);
  }

  const Millis now = observation.at;
  const double dt = seconds(now - *previousAt_);

  // Offsets since the last observation, per partition.
  const size_t partitionCount = observation.partitions.size();
  std::vector<int64_t> lags(partitionCount);
  std::vector<int64_t> committedNow(partitionCount);
  int64_t produced = 0;
  for (size_t i = 0; i < partitionCount; ++i) {
    const PartitionObservation& p = observation.partitions[i];
    PartitionHistory& h = history_[i];
    committedNow[i] = p.committed >= 0 ? p.committed : p.logStart;
    lags[i] = std::max<int64_t>(0, p.logEnd - committedNow[i]);
    produced += std::max<int64_t>(0, p.logEnd - h.logEnd);
    if (committedNow[i] > h.committed) h.advancedAt = now;
    if (committedNow[i] > h.committed || lags[i] == 0) h.movedAt = now;
  }

  // Stuck: lag, no progress for stuckAfter, while some other partition progressed within it.
  // Others' progress, not the clock, is the evidence: a paused or absent group stalls every
  // partition, and that lag is real work for the replicas.
  int32_t recentlyAdvanced = 0;
  for (const PartitionHistory& h : history_) {
    if (now - h.advancedAt < config_.stuckAfter) ++recentlyAdvanced;
  }
  estimate_.stuckPartitions.clear();
  std::string stuckNote;
  int64_t backlog = 0;
  std::vector<bool> stuckFlags(partitionCount, false);
  for (size_t i = 0; i < partitionCount; ++i) {
    const PartitionObservation& p = observation.partitions[i];
    PartitionHistory& h = history_[i];
    const bool stuck =
        current > 0 && lags[i] > 0 && now - h.movedAt >= config_.stuckAfter && recentlyAdvanced > 0;
    stuckFlags[i] = stuck;
    if (stuck) {
      estimate_.stuckPartitions.push_back(p.partition);
      if (estimate_.stuckPartitions.size() <= 3) {
        stuckNote +=
            fmt::format("partition {} stuck {} (lag {}, ignored); ", p.partition,
                        duration(seconds(now - h.movedAt)), count(static_cast<double>(lags[i])));
      }
    } else {
      backlog += lags[i];
    }
    h.logEnd = p.logEnd;
    h.committed = committedNow[i];
  }
  if (estimate_.stuckPartitions.size() > 3) {
    stuckNote +=
        fmt::format("{} more partitions stuck (ignored); ", estimate_.stuckPartitions.size() - 3);
  }
  const auto healthy = static_cast<int32_t>(partitions - estimate_.stuckPartitions.size());
  estimate_.backlog = backlog;

  // Holt's double exponential smoothing of the arrival rate over all partitions (a stuck
  // consumer does not slow its producers).
  const double arrivalSample = static_cast<double>(produced) / dt;
  if (!levelStarted_) {
    estimate_.arrivalRate = arrivalSample;
    estimate_.arrivalTrend = 0;
    estimate_.arrivalNoise = 0;
    levelStarted_ = true;
  } else {
    const double previousLevel = estimate_.arrivalRate;
    // How far samples stray from the one-step forecast: what a trend must beat to mean anything.
    const double residual = arrivalSample - (previousLevel + estimate_.arrivalTrend * dt);
    estimate_.arrivalNoise =
        (1 - kNoiseWeight) * estimate_.arrivalNoise + kNoiseWeight * std::abs(residual);
    estimate_.arrivalRate = config_.smoothing * arrivalSample +
                            (1 - config_.smoothing) * (previousLevel + estimate_.arrivalTrend * dt);
    estimate_.arrivalTrend = config_.trendSmoothing * (estimate_.arrivalRate - previousLevel) / dt +
                             (1 - config_.trendSmoothing) * estimate_.arrivalTrend;
  }

  if (current != previousReplicas_) noteChange(now);
  learnServiceRate(now, current, committedNow, lags, stuckFlags);
  previousAt_ = now;
  previousReplicas_ = current;

  // Plan for the arrivals expected once a change would be in effect (one interval to act, one
  // pause to rebalance); a falling trend is not counted on.
  const double pause = seconds(config_.rebalancePause);
  const double lead = seconds(config_.interval) + pause;
  const double share = static_cast<double>(healthy) / static_cast<double>(partitions);
  const double level = std::max(0.0, estimate_.arrivalRate);
  // Lag counts what was processed but not committed yet: with consumers committing on their own
  // timers, half a commit interval of arrivals on average. Take it off the work left.
  estimate_.uncommitted = level * share * seconds(config_.commitInterval) / 2;
  const double b = std::max(0.0, static_cast<double>(backlog) - estimate_.uncommitted);
  // Plan for no less than the last sample: right after a step the smoothed level lags behind a
  // rate that is already there, and undersizing costs a second rebalance.
  const double rateNow = std::max(level, arrivalSample);
  // The trend counts only when what it adds over the lead beats three times the samples' usual
  // miss of the forecast, while the group keeps up (no backlog beyond what the objective allows),
  // and adds at most the headroom. A steady ramp passes; noise and steps do not: after a step the
  // miss is as large as the step while Holt's level catches up and its trend overshoots, and
  // extrapolating that would size for a load that never comes (the backlog term serves a step).
  const double trendGain = std::max(0.0, estimate_.arrivalTrend) * lead;
  const bool rising = trendGain > kTrendSignificance * estimate_.arrivalNoise &&
                      b <= rateNow * share * seconds(config_.objective);
  const double rise = rising ? std::min(trendGain, config_.headroom * rateNow) : 0.0;
  const double arrivals = (rateNow + rise) * share;  // healthy partitions
  const double mu = estimate_.serviceRate;
  const double planned = mu / (1 + config_.headroom);
  const double objective = seconds(config_.objective);
  const double horizon = seconds(config_.horizon);
  // A change restarts the pause; keeping the count only waits out what is left of one under way.
  const double pauseLeft =
      lastChangeAt_ ? std::max(0.0, seconds(*lastChangeAt_ + config_.rebalancePause - now)) : 0.0;

  // Whether the current count copes: serve the arrivals and drain the backlog in time.
  const int32_t enough = size(arrivals, b, partitions, healthy, lower, upper);
  // The count to change to: a change also has to drain what its own rebalance pause piles up.
  const int32_t needed = size(arrivals, b + arrivals * pause, partitions, healthy, lower, upper);
  recommendations_.push_back({now, needed});
  while (!recommendations_.empty() && recommendations_.front().at < now - config_.scaleInDelay) {
    recommendations_.pop_front();
  }
  int32_t largest = 0;  // the most needed over the scale-in window, and when
  Millis largestAt = now;
  for (const Recommendation& r : recommendations_) {
    if (r.replicas >= largest) {
      largest = r.replicas;
      largestAt = r.at;
    }
  }
  const bool settled = previousLargest_ == largest;  // not falling since the last decision
  previousLargest_ = largest;

  const double capacityNow = groupCapacity(current, partitions, healthy, mu);
  std::string status = fmt::format("{}lag {}", stuckNote, count(static_cast<double>(backlog)));
  if (estimate_.uncommitted >= 1) {
    status +=
        fmt::format(" (~{} expected processed but uncommitted)", count(estimate_.uncommitted));
  }
  status += fmt::format("; arrival {}", rate(rateNow));
  if (rise > 0) {
    status += fmt::format(" rising {} per s (plan for {})", rate(estimate_.arrivalTrend),
                          rate(rateNow + rise));
  }
  if (observation.p99Seconds)
    status += fmt::format("; consumers' p99 {}", duration(*observation.p99Seconds));
  const std::string capacityText = fmt::format("capacity {} ({} × {} {})", rate(capacityNow),
                                               current, rate(mu), serviceRateNote_);

  const auto decision = [&](int32_t replicas, std::string reason) {
    if (replicas != current) {
      noteChange(now);
      previousReplicas_ = replicas;  // the change we asked for is not news when it shows up
    }
    return Decision{replicas, std::move(reason)};
  };

  // Outside the bounds: back inside at once (idle replicas past the partition count are waste).
  if (current > upper) {
    return decision(
        upper, fmt::format("{}; {} replicas > {} {} → {}", status, current, upper,
                           upper == partitions ? "partitions (the rest sit idle)" : "max-replicas",
                           upper));
  }
  if (current < lower) {
    return decision(lower, fmt::format("{}; {} replicas < min-replicas {} → {}", status, current,
                                       lower, lower));
  }

  if (enough > current) {
    // Up in one step to the size needed, when that beats waiting it out at the current size.
    const double capacityNew = groupCapacity(needed, partitions, healthy, planned);
    // The fluid model runs at the full rate: headroom sizes the group, it does not slow it.
    const Forecast keep = forecast(b, arrivals, groupCapacity(current, partitions, healthy, mu),
                                   pauseLeft, objective, horizon);
    const Forecast change = forecast(b, arrivals, groupCapacity(needed, partitions, healthy, mu),
                                     pause, objective, horizon);
    const bool better = change.violationSeconds < keep.violationSeconds - kEpsilon ||
                        (std::abs(change.violationSeconds - keep.violationSeconds) <= kEpsilon &&
                         change.backlogAtHorizon < keep.backlogAtHorizon - 0.5);
    const double toDrain = b + arrivals * pause;
    std::string comparison = fmt::format("~{} over the {} objective in the next {} vs ~{} if kept",
                                         duration(change.violationSeconds), duration(objective),
                                         duration(horizon), duration(keep.violationSeconds));
    if (std::abs(change.violationSeconds - keep.violationSeconds) <= kEpsilon) {
      comparison += fmt::format(", with {} behind at the end vs {}", count(change.backlogAtHorizon),
                                count(keep.backlogAtHorizon));
    }
    if (!better) {
      return decision(
          current,
          fmt::format(
              "{} {} {}; {} replicas would add capacity but a {} rebalance puts {} → keep {}",
              status, arrivals > capacityNow ? ">" : "≤", capacityText, needed, duration(pause),
              fmt::format("~{} over the {} objective vs ~{} if kept",
                          duration(change.violationSeconds), duration(objective),
                          duration(keep.violationSeconds)),
              current));
    }
    const double real = groupCapacity(needed, partitions, healthy, mu);
    std::string sizing;
    if (capacityNew + kEpsilon < arrivals || real - arrivals < toDrain / seconds(config_.drain)) {
      sizing = fmt::format(
          "{} ({} planned with {} headroom) for {} and {} to drain is the most, "
          "capped at {}",
          rate(real), rate(capacityNew), percent(config_.headroom), rate(arrivals), count(toDrain),
          upper == partitions ? "the partition count" : "max-replicas");
    } else {
      sizing = fmt::format(
          "{} serves {} with {} headroom ({} planned) and drains {} (lag + {} "
          "rebalance) in {}",
          rate(real), rate(arrivals), percent(config_.headroom), rate(capacityNew), count(toDrain),
          duration(pause), duration(toDrain / (real - arrivals)));
    }
    return decision(needed, fmt::format("{} {} {} → {} replicas: {}; {}", status,
                                        arrivals > capacityNow ? ">" : "≤", capacityText, needed,
                                        sizing, comparison));
  }

  if (enough <= current && needed < current) {
    // Down to the largest count needed over the whole scale-in window, if that saves enough.
    const double watched = seconds(now - *startedAt_);
    const auto minimumSaving = std::max<int32_t>(
        1, static_cast<int32_t>(std::ceil(config_.scaleInHysteresis * current - kEpsilon)));
    const std::string head =
        fmt::format("{} ≤ {} ({} busy); {} would suffice", status, capacityText,
                    percent(capacityNow > 0 ? arrivals / capacityNow : 0), needed);
    if (watched < seconds(config_.scaleInDelay)) {
      return decision(current, fmt::format("{}, but only {} of the {} scale-in delay observed → "
                                           "keep {}",
                                           head, duration(watched),
                                           duration(seconds(config_.scaleInDelay)), current));
    }
    if (lastChangeAt_ && now - *lastChangeAt_ < config_.scaleInDelay) {
      // One scale-in per delay at most: each costs a pause, and the load it was sized for may
      // still be settling.
      return decision(current, fmt::format("{}, but the count changed {} ago (scale-in delay {}) "
                                           "→ keep {}",
                                           head, duration(seconds(now - *lastChangeAt_)),
                                           duration(seconds(config_.scaleInDelay)), current));
    }
    if (largest >= current) {
      return decision(
          current, fmt::format("{}, but {} were needed {} ago (scale-in delay {}) → keep {}", head,
                               largest, duration(seconds(now - largestAt)),
                               duration(seconds(config_.scaleInDelay)), current));
    }
    if (!settled) {
      // The largest count of the window is still falling (the load dropped less than a window
      // ago): wait for it to settle and scale in once instead of in several paused steps.
      return decision(current,
                      fmt::format("{}; at most {} needed for the last {}, still falling → "
                                  "keep {}",
                                  head, largest, duration(seconds(config_.scaleInDelay)), current));
    }
    if (current - largest < minimumSaving) {
      return decision(
          current,
          fmt::format("{}; {} over the last {} saves {} of {} (< {} hysteresis) → "
                      "keep {}",
                      head, largest, duration(seconds(config_.scaleInDelay)), current - largest,
                      current, percent(config_.scaleInHysteresis), current));
    }
    const Forecast cost = forecast(b, arrivals, groupCapacity(largest, partitions, healthy, mu),
                                   pause, objective, horizon);
    return decision(
        largest, fmt::format("{}; at most {} needed for the last {} → {} replicas (saves {}; "
                             "the {} rebalance costs ~{} over the objective)",
                             head, largest, duration(seconds(config_.scaleInDelay)), largest,
                             current - largest, duration(pause), duration(cost.violationSeconds)));
  }

  return decision(
      current,
      fmt::format("{} {} {}, {} busy → keep {}", status, arrivals > capacityNow ? ">" : "≤",
                  capacityText, percent(capacityNow > 0 ? arrivals / capacityNow : 0), current));
}

}  // namespace ebb::scale
