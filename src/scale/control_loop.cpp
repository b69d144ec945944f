#include "ebb/scale/control_loop.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "ebb/metrics/families.h"
#include "ebb/metrics/group_lag_metrics.h"

namespace ebb::scale {

Observation toObservation(const lag::GroupLag& lag, const std::string& topic, Millis at,
                          int32_t currentReplicas) {
  Observation observation{.at = at, .currentReplicas = currentReplicas};
  for (const auto& row : lag.partitions) {
    if (row.topic != topic) continue;
    observation.partitions.push_back({.partition = row.partition,
                                      .logStart = row.logStart,
                                      .logEnd = row.logEnd,
                                      .committed = row.committed});
  }
  return observation;
}

nlohmann::json toJson(const Step& step) {
  auto partitions = nlohmann::json::array();
  for (const auto& p : step.observation.partitions) {
    partitions.push_back({p.partition, p.logStart, p.logEnd, p.committed});
  }
  return {{"observation",
           {{"at_ms", step.observation.at.count()},
            {"replicas", step.observation.currentReplicas},
            {"partitions", partitions}}},
          {"replicas", step.decision.replicas},
          {"reason", step.decision.reason}};
}

void StepTotals::add(const Step& step) {
  ++decisions;
  if (lastAt.count() >= 0) {
    replicaSeconds +=
        lastReplicas * std::chrono::duration<double>(step.observation.at - lastAt).count();
  }
  if (step.decision.replicas != step.observation.currentReplicas) ++scaleEvents;
  lastAt = step.observation.at;
  lastReplicas = step.decision.replicas;
  maxReplicas = std::max(maxReplicas, step.decision.replicas);
  lastReason = step.decision.reason;
}

struct ControlLoop::Metrics {
  Metrics(prometheus::Registry& registry, std::string_view policy)
      : running(metrics::gauge(registry, "ebb_scale_replicas", "Consumer replicas",
                               {{"state", "running"}})),
        desired(metrics::gauge(registry, "ebb_scale_replicas", "Consumer replicas",
                               {{"state", "desired"}})),
        up(metrics::counter(registry, "ebb_scale_decisions_total", "Decisions of the policy",
                            {{"policy", std::string(policy)}, {"direction", "up"}})),
        down(metrics::counter(registry, "ebb_scale_decisions_total", "Decisions of the policy",
                              {{"policy", std::string(policy)}, {"direction", "down"}})),
        hold(metrics::counter(registry, "ebb_scale_decisions_total", "Decisions of the policy",
                              {{"policy", std::string(policy)}, {"direction", "hold"}})),
        failures(metrics::counter(registry, "ebb_scale_observation_failures_total",
                                  "Rounds skipped because the lag could not be read", {})) {}
  prometheus::Gauge& running;
  prometheus::Gauge& desired;
  prometheus::Counter& up;
  prometheus::Counter& down;
  prometheus::Counter& hold;
  prometheus::Counter& failures;
};

ControlLoop::ControlLoop(lag::GroupLagMonitor& monitor, std::string topic, Policy& policy,
                         orchestrate::ReplicaBackend& backend, prometheus::Registry& registry,
                         std::function<void(const Step&)> onStep)
    : monitor_(monitor),
      topic_(std::move(topic)),
      policy_(policy),
      backend_(backend),
      registry_(registry),
      onStep_(std::move(onStep)),
      metrics_(std::make_unique<Metrics>(registry, policy.name())) {}

ControlLoop::~ControlLoop() = default;

Step ControlLoop::step(Millis now) {
  const int32_t running = backend_.reconcile();
  const auto lag = monitor_.read(now);
  return decideAndActuate(now, lag, running, std::nullopt);
}

Step ControlLoop::step(Millis now, const lag::GroupLag& lag, std::optional<double> p99Seconds) {
  return decideAndActuate(now, lag, backend_.reconcile(), p99Seconds);
}

Step ControlLoop::decideAndActuate(Millis now, const lag::GroupLag& lag, int32_t running,
                                   std::optional<double> p99Seconds) {
  if (running == orchestrate::ReplicaBackend::kCountGroupMembers) {
    running = static_cast<int32_t>(lag.members);
  }
  metrics::publish(registry_, lag);
  Step result{toObservation(lag, topic_, now, running), {}};
  result.observation.p99Seconds = p99Seconds;
  result.decision = policy_.decide(result.observation);
  const int32_t desired = result.decision.replicas;
  (desired > running   ? metrics_->up
   : desired < running ? metrics_->down
                       : metrics_->hold)
      .Increment();
  // Each new decision once at info; repeats (e.g. while KEDA catches up) at debug.
  const auto level = desired != lastDesired_ ? spdlog::level::info : spdlog::level::debug;
  if (desired != running) {
    spdlog::log(level, "scale {} -> {}: {}", running, desired, result.decision.reason);
  } else {
    spdlog::log(level, "hold at {}: {}", running, result.decision.reason);
  }
  lastDesired_ = desired;
  backend_.scaleTo(desired);
  metrics_->running.Set(static_cast<double>(running));
  metrics_->desired.Set(static_cast<double>(desired));
  if (onStep_) onStep_(result);
  return result;
}

void ControlLoop::run(const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto origin = Clock::now();
  auto next = origin;
  while (!stop.load()) {
    try {
      step(std::chrono::duration_cast<Millis>(Clock::now() - origin));
    } catch (const std::exception& error) {
      metrics_->failures.Increment();
      backend_.reconcile();  // keep replacing crashed replicas while the cluster is away
      spdlog::warn("scaling round skipped: {}", error.what());
    }
    next = std::max(next + policy_.interval(), Clock::now());
    while (!stop.load() && Clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace ebb::scale
