#include "ebb/scale/keda_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "ebb/scale/policy_text.h"

// Sources: kedacore/keda pkg/scalers/kafka_scaler.go (kafkaMetadata, getLagForPartition,
// getTotalLag, GetMetricsAndActivity), pkg/scalers/scaler.go (GenerateMetricInMili),
// pkg/scaling/executor/scale_scaledobjects.go (RequestScale, scaleToZeroOrIdle,
// scaleFromZeroOrIdle), pkg/scaling/scale_handler.go (startScaleLoop), apis/keda/v1alpha1
// (defaults, GetHPAMinReplicas), controllers/keda/hpa.go (the HPA spec KEDA writes).

namespace ebb::scale {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
// Lag figures stay well inside int64 when multiplied by a replica count.
constexpr int64_t kMaxLag = 1'000'000'000'000'000;

// FindFactors: every divisor of n, ascending.
std::vector<int64_t> factorsOf(int64_t n) {
  std::vector<int64_t> low;
  std::vector<int64_t> high;
  for (int64_t i = 1; i * i <= n; ++i) {
    if (n % i != 0) continue;
    low.push_back(i);
    if (i != n / i) high.push_back(n / i);
  }
  low.insert(low.end(), high.rbegin(), high.rend());
  return low;
}

std::string partitionList(const std::vector<int32_t>& partitions) {
  return fmt::format("{}", fmt::join(partitions, ", "));
}

}  // namespace

HpaConfig KedaKafkaConfig::hpaConfig() const {
  HpaConfig result = hpa;
  result.minReplicas = std::max(minReplicaCount, 1);
  result.maxReplicas = maxReplicaCount;
  return result;
}

void KedaKafkaConfig::validate() const {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("keda " + what); };
  if (lagThreshold <= 0) {
    fail(fmt::format("lagThreshold {} must be > 0 (default 10)", lagThreshold));
  }
  if (activationLagThreshold < 0) {
    fail(fmt::format("activationLagThreshold {} must be >= 0 (default 0)", activationLagThreshold));
  }
  if (allowIdleConsumers && limitToPartitionsWithLag) {
    fail("allowIdleConsumers and limitToPartitionsWithLag cannot both be true");
  }
  if (limitToPartitionsWithLag && ensureEvenDistributionOfPartitions) {
    fail("limitToPartitionsWithLag and ensureEvenDistributionOfPartitions cannot both be true");
  }
  if (pollingInterval <= Millis{0}) fail("pollingInterval must be > 0 (default 30s)");
  if (cooldownPeriod < Millis{0}) fail("cooldownPeriod must be >= 0 (default 5m)");
  if (initialCooldownPeriod < Millis{0}) fail("initialCooldownPeriod must be >= 0 (default 0s)");
  if (minReplicaCount < 0) fail(fmt::format("minReplicaCount {} must be >= 0", minReplicaCount));
  if (maxReplicaCount < 1) fail(fmt::format("maxReplicaCount {} must be >= 1", maxReplicaCount));
  if (minReplicaCount > maxReplicaCount) {
    fail(fmt::format("minReplicaCount {} must not exceed maxReplicaCount {}", minReplicaCount,
                     maxReplicaCount));
  }
  hpaConfig().validate();
}

const std::vector<std::string_view>& KedaKafkaConfig::settingKeys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> result = {
        "lagThreshold",         "activationLagThreshold",     "offsetResetPolicy",
        "allowIdleConsumers",   "limitToPartitionsWithLag",   "ensureEvenDistributionOfPartitions",
        "excludePersistentLag", "scaleToZeroOnInvalidOffset", "pollingInterval",
        "cooldownPeriod",       "initialCooldownPeriod",      "minReplicaCount",
        "maxReplicaCount"};
    for (const std::string_view key : HpaConfig::settingKeys()) {
      if (key != "minReplicas" && key != "maxReplicas") result.push_back(key);
    }
    return result;
  }();
  return keys;
}

KedaKafkaConfig KedaKafkaConfig::fromSettings(const std::map<std::string, std::string>& settings) {
  PolicySettings reader("keda", settings);
  for (const std::string_view key : {"minReplicas", "maxReplicas"}) {
    if (reader.has(key)) {
      reader.fail(key,
                  "KEDA writes the HPA's minReplicas/maxReplicas from minReplicaCount/"
                  "maxReplicaCount; set those instead");
    }
  }
  KedaKafkaConfig config;
  if (const auto v = reader.integer("lagThreshold", 1, kMaxLag)) config.lagThreshold = *v;
  if (const auto v = reader.integer("activationLagThreshold", 0, kMaxLag)) {
    config.activationLagThreshold = *v;
  }
  if (const auto v = reader.choice("offsetResetPolicy", {"latest", "earliest"})) {
    config.offsetResetPolicy =
        *v == "latest" ? OffsetResetPolicy::kLatest : OffsetResetPolicy::kEarliest;
  }
  if (const auto v = reader.boolean("allowIdleConsumers")) config.allowIdleConsumers = *v;
  if (const auto v = reader.boolean("limitToPartitionsWithLag")) {
    config.limitToPartitionsWithLag = *v;
  }
  if (const auto v = reader.boolean("ensureEvenDistributionOfPartitions")) {
    config.ensureEvenDistributionOfPartitions = *v;
  }
  if (const auto v = reader.boolean("excludePersistentLag")) config.excludePersistentLag = *v;
  if (const auto v = reader.boolean("scaleToZeroOnInvalidOffset")) {
    config.scaleToZeroOnInvalidOffset = *v;
  }
  if (const auto v = reader.duration("pollingInterval")) config.pollingInterval = *v;
  if (const auto v = reader.duration("cooldownPeriod")) config.cooldownPeriod = *v;
  if (const auto v = reader.duration("initialCooldownPeriod")) config.initialCooldownPeriod = *v;
  if (const auto v = reader.integer("minReplicaCount", 0, kInt32Max)) {
    config.minReplicaCount = static_cast<int32_t>(*v);
  }
  if (const auto v = reader.integer("maxReplicaCount", 0, kInt32Max)) {
    config.maxReplicaCount = static_cast<int32_t>(*v);
  }
  config.hpa = HpaConfig::read(reader);
  reader.rejectUnknown(settingKeys());
  config.validate();
  return config;
}

std::string KedaKafkaConfig::describe() const {
  std::vector<std::string_view> flags;
  if (allowIdleConsumers) flags.push_back("allowIdleConsumers");
  if (limitToPartitionsWithLag) flags.push_back("limitToPartitionsWithLag");
  if (ensureEvenDistributionOfPartitions) flags.push_back("ensureEvenDistributionOfPartitions");
  if (excludePersistentLag) flags.push_back("excludePersistentLag");
  if (scaleToZeroOnInvalidOffset) flags.push_back("scaleToZeroOnInvalidOffset");
  return fmt::format(
      "keda kafka lagThreshold {}, activationLagThreshold {}, offsetResetPolicy {}{}{}, "
      "replicas {}..{}, polling {}, cooldown {}; {}",
      formatFigure(static_cast<double>(lagThreshold)),
      formatFigure(static_cast<double>(activationLagThreshold)),
      offsetResetPolicy == OffsetResetPolicy::kLatest ? "latest" : "earliest",
      flags.empty() ? "" : ", ", fmt::join(flags, ", "), minReplicaCount, maxReplicaCount,
      formatDuration(pollingInterval), formatDuration(cooldownPeriod), hpaConfig().describe());
}

KafkaLagMetric kafkaLagMetric(const KedaKafkaConfig& config, const Observation& observation,
                              KafkaScalerMemory& memory) {
  KafkaLagMetric result;
  for (const PartitionObservation& p : observation.partitions) {
    ++result.partitions;
    int64_t lag = 0;
    int64_t lagWithPersistent = 0;
    if (p.committed < 0) {
      // No committed offset yet: a guess at the lag the consumer would have.
      result.invalidOffsetPartitions.push_back(p.partition);
      if (config.scaleToZeroOnInvalidOffset) {
        lag = 0;
      } else if (config.offsetResetPolicy == OffsetResetPolicy::kLatest) {
        lag = 1;
      } else {
        lag = p.logEnd;  // not logEnd - logStart: KEDA counts from offset 0
      }
      lagWithPersistent = lag;
    } else {
      lag = p.logEnd - p.committed;
      lagWithPersistent = lag;
      if (config.excludePersistentLag) {
        // A commit that did not move since the previous query may be a consumer stuck on a
        // poison message: more replicas would not help, so it does not count for scaling. It
        // still counts for activity, so 0 -> 1 still happens.
        const auto previous = memory.previousCommitted.find(p.partition);
        if (previous == memory.previousCommitted.end()) {
          memory.previousCommitted[p.partition] = p.committed;
        } else if (previous->second == p.committed) {
          lag = 0;
          if (lagWithPersistent > 0) result.persistentPartitions.push_back(p.partition);
        } else {
          previous->second = p.committed;
        }
      }
    }
    result.totalLag += lag;
    result.totalLagWithPersistent += lagWithPersistent;
    if (lag > 0) ++result.partitionsWithLag;
  }

  int64_t metricLag = result.totalLag;
  if (!config.allowIdleConsumers || config.limitToPartitionsWithLag ||
      config.ensureEvenDistributionOfPartitions) {
    int64_t upperBound = result.partitions;
    if (config.ensureEvenDistributionOfPartitions) {
      // The smallest factor of the partition count that covers the lag, so every replica gets
      // the same number of partitions.
      int64_t factor = result.partitions;
      for (const int64_t f : factorsOf(result.partitions)) {
        if (f * config.lagThreshold >= metricLag) {
          factor = f;
          break;
        }
      }
      result.evenFactor = factor;
      metricLag = factor * config.lagThreshold;
    }
    if (config.limitToPartitionsWithLag) upperBound = result.partitionsWithLag;
    result.upperBound = upperBound;
    // Integer division, as in Go: the cap bites only once lag reaches (bound + 1) x threshold.
    if (metricLag / config.lagThreshold > upperBound) {
      metricLag = upperBound * config.lagThreshold;
      result.capped = true;
    }
  }
  // GenerateMetricInMili turns a negative value (commits beyond the log end) into 0.
  result.metric = std::max<int64_t>(metricLag, 0);
  result.active = result.totalLagWithPersistent > config.activationLagThreshold;
  return result;
}

std::string KafkaLagMetric::describe(const KedaKafkaConfig& config) const {
  const std::string threshold = formatFigure(static_cast<double>(config.lagThreshold));
  std::string text = fmt::format("lag {} over {} partitions",
                                 formatFigure(static_cast<double>(totalLag)), partitions);
  if (evenFactor) {
    text += fmt::format(", even distribution: factor {} × {}", *evenFactor, threshold);
  }
  if (capped) {
    text += fmt::format(" > {} {} × {} → metric capped at {}", *upperBound,
                        config.limitToPartitionsWithLag ? "partitions with lag" : "partitions",
                        threshold, formatFigure(static_cast<double>(metric)));
  } else {
    text += fmt::format(" → metric {}", formatFigure(static_cast<double>(metric)));
  }
  if (!persistentPartitions.empty()) {
    text += fmt::format("; persistent lag not counted on partition(s) {} (commit unchanged)",
                        partitionList(persistentPartitions));
  }
  if (!invalidOffsetPartitions.empty()) {
    const std::string_view counted = config.scaleToZeroOnInvalidOffset ? "0"
                                     : config.offsetResetPolicy == OffsetResetPolicy::kLatest
                                         ? "1 (latest)"
                                         : "the log end (earliest)";
    text += fmt::format("; partition(s) {} without a commit count {}",
                        partitionList(invalidOffsetPartitions), counted);
  }
  text += fmt::format("; {} (lag {} {} activationLagThreshold {})", active ? "active" : "inactive",
                      formatFigure(static_cast<double>(totalLagWithPersistent)), active ? ">" : "≤",
                      formatFigure(static_cast<double>(config.activationLagThreshold)));
  return text;
}

namespace {

KedaKafkaConfig validated(KedaKafkaConfig config) {
  config.validate();
  return config;
}

}  // namespace

KedaPolicy::KedaPolicy(KedaKafkaConfig config)
    : config_(validated(std::move(config))), hpa_(config_.hpaConfig()) {}

bool KedaPolicy::pollDue(Millis now) {
  // KEDA polls on its own timer; the policy only acts on sync ticks, so a poll is served on the
  // tick nearest to when it is due.
  if (now + config_.hpa.syncPeriod / 2 < nextPoll_) return false;
  nextPoll_ += config_.pollingInterval;
  if (nextPoll_ <= now) nextPoll_ = now + config_.pollingInterval;  // the loop fell behind
  return true;
}

Decision KedaPolicy::decide(const Observation& observation) {
  const Millis now = observation.at;
  if (!createdAt_) {
    createdAt_ = now;
    nextPoll_ = now;
  }
  const KafkaLagMetric lag = kafkaLagMetric(config_, observation, memory_);
  std::vector<std::string> parts{lag.describe(config_)};

  const HpaRecommendation hpa =
      hpa_.recommend(now, observation.currentReplicas, static_cast<double>(lag.metric),
                     static_cast<double>(config_.lagThreshold));
  parts.push_back("hpa: " + hpa.reason);
  int32_t replicas = hpa.replicas;

  if (pollDue(now)) {
    // RequestScale reads the replica count the HPA just wrote.
    const int32_t current = replicas;
    if (lag.active) {
      lastActive_ = now;
      if (current == 0) {
        replicas = std::max(config_.minReplicaCount, 1);
        parts.push_back(fmt::format("keda: active at 0 replicas → activate to {}", replicas));
      }
    } else if (current > 0 && config_.minReplicaCount == 0) {
      // Without a lastActiveTime (never active since creation) initialCooldownPeriod counts from
      // creation. KEDA compares with Before(now); at equal times a real poll runs a little later,
      // so elapsed >= period scales to zero here.
      const Millis since = now - (lastActive_ ? *lastActive_ : *createdAt_);
      const Millis period = lastActive_ ? config_.cooldownPeriod : config_.initialCooldownPeriod;
      const std::string_view what = lastActive_ ? "cooldownPeriod" : "initialCooldownPeriod";
      if (since >= period) {
        replicas = 0;
        parts.push_back(fmt::format("keda: inactive for {} ≥ {} {} → 0", formatDuration(since),
                                    what, formatDuration(period)));
      } else {
        parts.push_back(fmt::format("keda: inactive for {} < {} {}, cooling down",
                                    formatDuration(since), what, formatDuration(period)));
      }
    } else if (current < config_.minReplicaCount) {
      replicas = config_.minReplicaCount;
      parts.push_back(fmt::format("keda: below minReplicaCount → {}", replicas));
    }
  }
  return {replicas, fmt::format("{}", fmt::join(parts, "; "))};
}

}  // namespace ebb::scale
