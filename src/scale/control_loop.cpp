#include "ebb/scale/control_loop.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "ebb/metrics/families.h"
#include "ebb/metrics/group_lag_metrics.h"

namespace ebb::scale {
namespace {
// How often a settling change is checked between rounds: the resolution of a measured handoff.
constexpr std::chrono::milliseconds kWatchEvery{100};
}  // namespace

Observation toObservation(const lag::GroupLag& lag, const std::string& topic, Millis at,
                          int32_t currentReplicas) {
  Observation observation{
      .at = at, .currentReplicas = currentReplicas, .shareGroup = lag.type == "Share"};
  for (const auto& row : lag.partitions) {
    if (row.topic != topic) continue;
    observation.partitions.push_back({.partition = row.partition,
                                      .logStart = row.logStart,
                                      .logEnd = row.logEnd,
                                      // Where the group stands: a share group's acknowledged
                                      // records past its start offset count as done.
                                      .committed = row.committed >= 0 ? row.logEnd - row.lag : -1});
  }
  return observation;
}

nlohmann::json toJson(const Step& step) {
  auto partitions = nlohmann::json::array();
  for (const auto& p : step.observation.partitions) {
    partitions.push_back({p.partition, p.logStart, p.logEnd, p.committed});
  }
  nlohmann::json line{{"observation",
                       {{"at_ms", step.observation.at.count()},
                        {"replicas", step.observation.currentReplicas},
                        {"partitions", partitions}}},
                      {"replicas", step.decision.replicas},
                      {"reason", step.decision.reason}};
  if (step.observation.handoffSeconds) {
    line["observation"]["handoff_s"] = *step.observation.handoffSeconds;
  }
  if (step.wallTime > 0) line["time"] = step.wallTime;
  return line;
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
      exporter_(registry, monitor.group()),
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
  exporter_.published(
      lag,
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  Step result{toObservation(lag, topic_, now, running), {}};
  result.observation.p99Seconds = p99Seconds;
  result.observation.handoffSeconds = measureHandoff(now, lag);
  result.decision = policy_.decide(result.observation);
  result.wallTime =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int32_t desired = result.decision.replicas;
  // A group starting from nothing hands nothing over: only changes of a running group count.
  if (desired != running) {
    pending_.reset();
    if (running > 0) pending_ = PendingChange{now, desired, std::nullopt};
  }
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

// A change has settled once the group has as many members as were asked for, every partition of
// the topic has an owner and every member (up to the partition count) owns one.
void ControlLoop::settle(Millis now, const lag::GroupLagMonitor::Membership& membership) {
  if (!pending_) return;
  if (static_cast<int32_t>(membership.members) != pending_->replicas) return;
  if (!pending_->joinedAt) pending_->joinedAt = now;
  const auto owners = std::min<size_t>(membership.members, partitions_);
  if (membership.ownedPartitions < partitions_ || membership.owningMembers < owners) return;
  measured_ = std::chrono::duration<double>(now - *pending_->joinedAt).count();
  spdlog::debug("the last scale event's handoff took {:.3f} s ({:.3f} s after its decision)",
                *measured_, std::chrono::duration<double>(now - pending_->at).count());
  pending_.reset();
}

std::optional<double> ControlLoop::measureHandoff(Millis now, const lag::GroupLag& lag) {
  lag::GroupLagMonitor::Membership membership{.members = lag.members};
  std::set<std::string> owners;
  partitions_ = 0;
  for (const auto& p : lag.partitions) {
    if (p.topic != topic_) continue;
    ++partitions_;
    if (p.owner.empty()) continue;
    ++membership.ownedPartitions;
    owners.insert(p.memberId);
  }
  membership.owningMembers = owners.size();
  settle(now, membership);
  return std::exchange(measured_, std::nullopt);
}

void ControlLoop::watchHandoff(Millis now) {
  if (!pending_ || partitions_ == 0) return;
  try {
    settle(now, monitor_.membership(topic_));
  } catch (const std::exception& error) {
    spdlog::debug("watching the handoff: {}", error.what());
  }
}

void ControlLoop::run(const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto origin = Clock::now();
  auto next = origin;
  int failedInARow = 0;
  while (!stop.load()) {
    try {
      step(std::chrono::duration_cast<Millis>(Clock::now() - origin));
      failedInARow = 0;
    } catch (const std::exception& error) {
      metrics_->failures.Increment();
      exporter_.failed();
      backend_.reconcile();  // keep replacing crashed replicas while the cluster is away
      spdlog::warn("scaling round skipped: {}", error.what());
      ++failedInARow;
    }
    // A failed round is tried again soon (1 s, 2 s, 4 s... up to the interval) rather than a
    // whole interval later: at start-up that is the time before the first replica runs.
    const auto wait =
        failedInARow == 0
            ? policy_.interval()
            : std::min<Millis>(policy_.interval(), Millis(1000 << std::min(failedInARow - 1, 5)));
    next = std::max(next + wait, Clock::now());
    auto nextWatch = Clock::now() + kWatchEvery;
    while (!stop.load() && Clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (Clock::now() >= nextWatch) {
        watchHandoff(std::chrono::duration_cast<Millis>(Clock::now() - origin));
        nextWatch = Clock::now() + kWatchEvery;
      }
    }
  }
}

}  // namespace ebb::scale
