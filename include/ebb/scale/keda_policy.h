// KEDA's Kafka scaler fed through the Kubernetes HPA, as a cluster runs them. The scaler turns
// group offsets into one metric, total lag (kedacore/keda pkg/scalers/kafka_scaler.go). The HPA
// asks for it every sync period and divides by lagThreshold (hpa.h). KEDA's own loop polls
// every pollingInterval and does what the HPA cannot: 0 -> 1 on activity, and 1+ -> 0 after
// cooldownPeriod without it (pkg/scaling/executor/scale_scaledobjects.go). The point is to
// predict what KEDA will do, quirks included.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/scale/hpa.h"
#include "ebb/scale/policy.h"

namespace ebb::scale {

// What KEDA counts for a partition without a committed offset.
enum class OffsetResetPolicy {
  kLatest,    // lag 1 (0 with scaleToZeroOnInvalidOffset): the consumer would start at the end
  kEarliest,  // lag = log-end offset (0 with scaleToZeroOnInvalidOffset), even if the log
              // start has been deleted by retention
};

struct KedaKafkaConfig {
  // Trigger metadata, with KEDA's names and defaults.
  int64_t lagThreshold = 10;           // target lag per replica (the HPA's AverageValue), > 0
  int64_t activationLagThreshold = 0;  // active when lag > this
  OffsetResetPolicy offsetResetPolicy = OffsetResetPolicy::kLatest;
  bool allowIdleConsumers = false;                  // false: replicas never exceed partitions
  bool limitToPartitionsWithLag = false;            // replicas never exceed partitions with lag > 0
  bool ensureEvenDistributionOfPartitions = false;  // round up to a factor of partitions
  bool excludePersistentLag = false;                // skip partitions whose commit did not move
  bool scaleToZeroOnInvalidOffset = false;          // no commit counts 0, not 1 / log end

  // ScaledObject spec.
  Millis pollingInterval{30'000};   // KEDA's loop: activity, 0 <-> 1
  Millis cooldownPeriod{300'000};   // inactive this long before replicas go to 0
  Millis initialCooldownPeriod{0};  // after creation, before the first scale to zero
  int32_t minReplicaCount = 0;
  int32_t maxReplicaCount = 100;

  // The HPA that KEDA creates. Its minReplicas/maxReplicas are ignored: KEDA sets them from
  // minReplicaCount/maxReplicaCount (see hpaConfig()). Its other fields are the ScaledObject's
  // advanced.horizontalPodAutoscalerConfig.behavior and the cluster's controller flags.
  HpaConfig hpa;

  // The HPA spec KEDA writes: minReplicas max(minReplicaCount, 1), maxReplicas maxReplicaCount.
  HpaConfig hpaConfig() const;

  // Throws std::invalid_argument saying what to fix (KEDA's own checks, then the HPA's).
  void validate() const;

  // KEDA's keys: lagThreshold=10 activationLagThreshold=0 offsetResetPolicy=latest|earliest
  //   allowIdleConsumers=false limitToPartitionsWithLag=false
  //   ensureEvenDistributionOfPartitions=false excludePersistentLag=false
  //   scaleToZeroOnInvalidOffset=false pollingInterval=30s cooldownPeriod=5m
  //   initialCooldownPeriod=0s minReplicaCount=0 maxReplicaCount=100
  // plus HpaConfig's keys other than minReplicas/maxReplicas (tolerance, syncPeriod, behavior,
  // scaleUp*, scaleDown*, downscaleStabilization). Unknown keys and bad values throw
  // std::invalid_argument naming the key and what it accepts. The result is validated.
  static KedaKafkaConfig fromSettings(const std::map<std::string, std::string>& settings);
  static const std::vector<std::string_view>& settingKeys();

  std::string describe() const;  // one line for logs
};

// What the scaler remembers between queries: for excludePersistentLag, each partition's
// committed offset at the previous query (kafkaScaler.previousOffsets).
struct KafkaScalerMemory {
  std::map<int32_t, int64_t> previousCommitted;
};

// One query of the scaler (getTotalLag + GetMetricsAndActivity).
struct KafkaLagMetric {
  int64_t partitions = 0;
  int64_t partitionsWithLag = 0;       // partitions whose counted lag is > 0
  int64_t totalLag = 0;                // the per-partition lags summed, before the cap
  int64_t totalLagWithPersistent = 0;  // the same with persistent lag counted; decides activity
  // The replica bound applied to the metric: the partition count, or the partitions with lag
  // (limitToPartitionsWithLag). nullopt with allowIdleConsumers.
  std::optional<int64_t> upperBound;
  std::optional<int64_t> evenFactor;  // ensureEvenDistributionOfPartitions: the factor chosen
  bool capped = false;                // totalLag / lagThreshold exceeded upperBound
  int64_t metric = 0;                 // what the HPA reads: the lag after the cap (never negative)
  bool active = false;                // totalLagWithPersistent > activationLagThreshold
  std::vector<int32_t> persistentPartitions;     // excluded this query (excludePersistentLag)
  std::vector<int32_t> invalidOffsetPartitions;  // no committed offset

  // "lag 1,200,000 over 12 partitions > 12 partitions × 4,000 → metric capped at 48,000; active
  // (lag 1,200,000 > activationLagThreshold 0)"
  std::string describe(const KedaKafkaConfig& config) const;
};

// The scaler's metric and activity for one observation: each partition's lag by KEDA's rules
// (getLagForPartition), summed, then the partition cap. `memory` is read and updated as the
// scaler's previousOffsets is, so call it once per query, in order. Only excludePersistentLag uses
// it.
KafkaLagMetric kafkaLagMetric(const KedaKafkaConfig& config, const Observation& observation,
                              KafkaScalerMemory& memory);

class KedaPolicy final : public Policy {
 public:
  explicit KedaPolicy(KedaKafkaConfig config);  // validates

  std::string_view name() const override { return "keda"; }
  // The HPA's sync period: every decide() is one HPA sync. KEDA's polls are served on the sync
  // tick nearest to when they are due.
  Millis interval() const override { return config_.hpa.syncPeriod; }
  // One tick: the scaler is queried once, the HPA syncs and writes its count, then KEDA polls
  // if a poll is due. The poll sees the HPA's count and may override it: 0 -> minReplicaCount
  // (at least 1) when active, and -> 0 after cooldownPeriod without activity. The first call is
  // the ScaledObject's creation.
  Decision decide(const Observation& observation) override;

  const KedaKafkaConfig& config() const { return config_; }

 private:
  bool pollDue(Millis now);

  KedaKafkaConfig config_;
  Hpa hpa_;
  KafkaScalerMemory memory_;
  std::optional<Millis> createdAt_;
  std::optional<Millis> lastActive_;  // ScaledObject status.lastActiveTime
  Millis nextPoll_{0};
};

}  // namespace ebb::scale
