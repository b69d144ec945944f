// What `ebb scale --serve-keda` tells KEDA, and the rules for telling it. The control loop
// publishes each decision on a board; KEDA's gRPC calls read it. The metric is the desired replica
// count itself against a target of one per replica: the HPA KEDA creates computes
// ceil(value / target) for an AverageValue target, which is exactly the count ebb's policy chose.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ebb::keda {

using Clock = std::chrono::steady_clock;

inline constexpr std::string_view kMetricName = "ebb-desired-replicas";
inline constexpr double kTargetPerReplica = 1.0;

// The one group and topic this scaler watches.
struct ScalerTarget {
  std::string topic;
  std::string group;
};

struct Recommendation {
  int32_t replicas = 0;  // what ebb's policy wants
  std::string reason;
  Clock::time_point at;

  // KEDA's activity: replicas wanted at all. With minReplicaCount 0 it scales to zero when false.
  bool active() const { return replicas > 0; }
};

// The latest recommendation if it may still be served at `now`, else why not (for KEDA's
// `fallback`, an error is better than a stale count while the cluster cannot be read).
struct Answer {
  std::optional<Recommendation> recommendation;
  std::string unavailable;
};
Answer answerAt(const std::optional<Recommendation>& latest, Clock::time_point now,
                std::chrono::milliseconds staleAfter);

// A ScaledObject's trigger metadata may name `topic` and `consumerGroup` (the kafka trigger's
// keys); when it names others than this scaler's, it was pointed at the wrong scaler. Returns
// why, or "" when it matches.
std::string metadataMismatch(const std::map<std::string, std::string>& metadata,
                             const ScalerTarget& target);

// KEDA asks GetMetrics for the name GetMetricSpec gave, possibly with its trigger index prefix
// ("s0-ebb-desired-replicas").
bool isOurMetric(std::string_view name);

// The latest recommendation, written by the control loop and read by gRPC handlers.
class RecommendationBoard {
 public:
  void publish(Recommendation recommendation);
  std::optional<Recommendation> latest() const;
  // Returns once the latest recommendation's activity differs from `known` (nullopt: any
  // recommendation), `timeout` passes, or close() is called; returns the latest either way.
  std::optional<Recommendation> waitForActivityChange(std::optional<bool> known,
                                                      std::chrono::milliseconds timeout);
  // Wakes every waiter for good (the server is shutting down).
  void close();
  bool closed() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Recommendation> latest_;
  bool closed_ = false;
};

}  // namespace ebb::keda
