#include "ebb/report/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ebb/load/profile.h"

namespace ebb::report {
namespace {

constexpr double kScanStep = 0.01;
constexpr double kRise = 1.1;

// 1234567 -> "1,234,567".
std::string grouped(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(static_cast<size_t>(at), ",");
  }
  return value < 0 ? "-" + digits : digits;
}

std::string milliseconds(double ms) {
  if (ms >= 10'000) return fmt::format("{:.1f} s", ms / 1000);
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  return fmt::format("{:.1f} ms", ms);
}

nlohmann::json optionalNumber(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json latencyJson(const LatencyPart& part) {
  if (part.count == 0) return nullptr;
  return {{"count", part.count},
          {"p50_ms", part.p50Ms},
          {"p99_ms", part.p99Ms},
          {"max_ms", part.maxMs}};
}

}  // namespace

std::optional<LoadWindow> findLoadWindow(const load::Profile& profile, double duration) {
  const double base = profile.rateAt(0);
  const double threshold = base > 0 ? base * kRise : 0;
  std::optional<LoadWindow> window;
  const auto steps = static_cast<int64_t>(std::floor(duration / kScanStep));
  for (int64_t i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) * kScanStep;
    const double rate = profile.rateAt(t);
    if (rate > threshold) {
      if (!window) window = LoadWindow{.start = t, .end = duration, .baseRate = base};
      window->peakRate = std::max(window->peakRate, rate);
    } else if (window) {
      window->end = t;
      break;
    }
  }
  return window;
}

bool overObjective(const Sample& sample, double objectiveMs) {
  return sample.latency.count > 0 && sample.latency.p99Ms > objectiveMs;
}

Summary summarize(std::span<const Sample> samples, std::span<const ScaleEvent> events,
                  const RunFacts& facts) {
  Summary summary{.facts = facts};
  summary.scaleEvents = events.size();
  if (samples.empty()) return summary;
  summary.durationS = samples.back().t - samples.front().t;
  summary.finalReplicas = samples.back().running;
  std::vector<LatencyPart> all;
  std::vector<LatencyPart> spike;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (s.lag > summary.maxLag) {
      summary.maxLag = s.lag;
      summary.maxLagAtS = s.t;
    }
    summary.peakReplicas = std::max(summary.peakReplicas, s.running);
    all.push_back(s.latency);
    if (i > 0) {
      const double length = s.t - samples[i - 1].t;
      // The replicas that ran through the interval are those running at its start.
      summary.replicaSeconds += samples[i - 1].running * length;
      if (overObjective(s, facts.objectiveMs)) summary.secondsOverObjective += length;
    }
    if (facts.spike && s.t > facts.spike->start && s.t <= facts.spike->end) {
      spike.push_back(s.latency);
      if (s.latency.count > 0) {
        summary.worstSpikeSecondP99Ms =
            std::max(summary.worstSpikeSecondP99Ms.value_or(0), s.latency.p99Ms);
      }
    }
  }
  summary.latency = combine(all);
  summary.spikeLatency = combine(spike);

  if (!facts.spike) {
    summary.recovery = "no spike in the load profile";
    return summary;
  }
  const double start = facts.spike->start;
  const double end = facts.spike->end;
  if (samples.back().t <= start) {
    summary.recovery = "the run ended before the spike began";
    return summary;
  }
  summary.spikeRan = true;
  const Sample* first = nullptr;
  size_t i = 0;
  for (; i < samples.size(); ++i) {
    if (samples[i].t > start && samples[i].t <= end + 1 &&
        overObjective(samples[i], facts.objectiveMs)) {
      first = &samples[i];
      break;
    }
  }
  if (first == nullptr) {
    summary.recoveryS = 0;
    summary.recovery = fmt::format("p99 never over the {} objective during the spike",
                                   milliseconds(facts.objectiveMs));
    return summary;
  }
  const Sample* last = first;
  bool recovered = false;
  for (++i; i < samples.size(); ++i) {
    if (samples[i].t - last->t > kRecoveryHoldSeconds) {
      recovered = true;
      break;
    }
    if (overObjective(samples[i], facts.objectiveMs)) last = &samples[i];
  }
  if (!recovered && !samples.empty() && samples.back().t - last->t >= kRecoveryHoldSeconds) {
    recovered = true;
  }
  if (!recovered) {
    summary.recovery = fmt::format("p99 not back within the {} objective by the end of the run",
                                   milliseconds(facts.objectiveMs));
    return summary;
  }
  summary.recoveryS = std::max(0.0, last->t - start);
  summary.recovery = fmt::format(
      "p99 back within the {} objective {:.0f} s after the spike began (over it "
      "from {:.0f} s to {:.0f} s)",
      milliseconds(facts.objectiveMs), *summary.recoveryS, first->t - 1, last->t);
  return summary;
}

nlohmann::json toJson(const Summary& summary) {
  const auto& f = summary.facts;
  nlohmann::json spike = nullptr;
  if (f.spike) {
    spike = {{"start_s", f.spike->start},
             {"end_s", f.spike->end},
             {"base_rate", f.spike->baseRate},
             {"peak_rate", f.spike->peakRate}};
  }
  return {{"policy", f.policy},
          {"settings", f.settings},
          {"objective_ms", f.objectiveMs},
          {"duration_s", summary.durationS},
          {"interrupted", f.interrupted},
          {"sent", f.sent},
          {"acknowledged", f.acknowledged},
          {"producer_failed", f.producerFailed},
          {"verified", f.verified},
          {"processed", f.processed},
          {"lost", f.lost},
          {"duplicates", f.duplicates},
          {"order_violations", f.orderViolations},
          {"unprocessed_at_stop", f.lagAtStop},
          {"spike", spike},
          {"max_lag", summary.maxLag},
          {"max_lag_at_s", summary.maxLagAtS},
          {"latency", latencyJson(summary.latency)},
          {"spike_latency", latencyJson(summary.spikeLatency)},
          {"spike_worst_second_p99_ms", optionalNumber(summary.worstSpikeSecondP99Ms)},
          {"recovery_s", optionalNumber(summary.recoveryS)},
          {"recovery", summary.recovery},
          {"seconds_over_objective", summary.secondsOverObjective},
          {"replica_seconds", summary.replicaSeconds},
          {"scale_events", summary.scaleEvents},
          {"peak_replicas", summary.peakReplicas},
          {"final_replicas", summary.finalReplicas}};
}

std::vector<TableRow> summaryTable(std::span<const Summary> runs) {
  std::vector<TableRow> rows;
  const auto add = [&](std::string label, std::string note, auto value) {
    TableRow row{.label = std::move(label), .note = std::move(note)};
    for (const auto& run : runs) row.values.push_back(value(run));
    rows.push_back(std::move(row));
  };
  const auto latency = [](const std::optional<double>& ms) {
    return ms ? milliseconds(*ms) : std::string("–");
  };
  add("messages sent", "acknowledged by the broker (failed deliveries in brackets when any)",
      [](const Summary& s) {
        const auto& f = s.facts;
        std::string text = grouped(static_cast<int64_t>(f.acknowledged));
        if (f.producerFailed > 0) text += fmt::format(" ({} failed)", f.producerFailed);
        return text;
      });
  add("messages consumed", "processed by the replicas, replays included (audit files)",
      [](const Summary& s) { return grouped(static_cast<int64_t>(s.facts.processed)); });
  add("lost", "acknowledged but never processed: must be 0 (ebb verify on the audit files)",
      [](const Summary& s) {
        if (!s.facts.verified) return std::string("not verified");
        std::string text = grouped(static_cast<int64_t>(s.facts.lost));
        if (s.facts.lost > 0 && s.facts.lagAtStop > 0) {
          text += fmt::format(" ({} still in the topic at the stop)", grouped(s.facts.lagAtStop));
        }
        return text;
      });
  add("duplicates", "processed more than once (at-least-once replays after a rebalance)",
      [](const Summary& s) { return grouped(static_cast<int64_t>(s.facts.duplicates)); });
  add("max lag", "messages behind at the worst reading, and when", [](const Summary& s) {
    return fmt::format("{} at {:.0f} s", grouped(s.maxLag), s.maxLagAtS);
  });
  add("time to recover", "from the spike's start until p99 is back within the objective for 10 s",
      [](const Summary& s) {
        if (s.recoveryS) return fmt::format("{:.0f} s", *s.recoveryS);
        return std::string(s.spikeRan ? "not recovered" : "–");
      });
  add("p99 during the spike", "upper bound over every message processed within the spike window",
      [&](const Summary& s) {
        return s.spikeLatency.count > 0 ? latency(s.spikeLatency.p99Ms) : std::string("–");
      });
  add("worst second's p99 in the spike", "the highest per-second p99 within the spike window",
      [&](const Summary& s) { return latency(s.worstSpikeSecondP99Ms); });
  add("p99 over the run", "upper bound over every message of the run", [&](const Summary& s) {
    return s.latency.count > 0 ? latency(s.latency.p99Ms) : std::string("–");
  });
  add("seconds over the objective", "seconds whose p99 exceeded the objective",
      [](const Summary& s) { return fmt::format("{:.0f} s", s.secondsOverObjective); });
  add("replica-seconds", "running replicas integrated over the run: what the capacity cost",
      [](const Summary& s) { return grouped(std::llround(s.replicaSeconds)); });
  add("scale events", "changes of the replica count after the load started",
      [](const Summary& s) { return std::to_string(s.scaleEvents); });
  add("peak replicas", "most replicas running at once",
      [](const Summary& s) { return std::to_string(s.peakReplicas); });
  return rows;
}

}  // namespace ebb::report
