// The producer microservice behind `ebb produce`: paced load along a profile, keys from a
// distribution, a partitioner chosen per message, the ebb envelope on every message, every delivery
// report checked. Metrics go to a prometheus-cpp registry; the summary is returned.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ebb/kafka/client_config.h"
#include "ebb/latency/histogram.h"
#include "ebb/partition/partitioner.h"

namespace prometheus {
class Registry;
}

namespace ebb::service {

struct ProducerOptions {
  std::string topic;
  std::string producerId;  // ebb-producer header; unique per replica
  double rate = 1000;      // messages/s for the `constant` profile and as the base of others
  std::string profile = "constant";
  std::optional<uint64_t> count;          // stop after this many messages
  std::optional<double> durationSeconds;  // stop after this long (default: the profile's length)
  size_t payloadBytes = 100;
  std::string keys = "none";  // load::parseKeys grammar
  std::string partitioner = "murmur2";
  partition::Options partitionerOptions;
  // lag-aware only: the consumer group whose lag steers unkeyed messages, and how often to look.
  std::string lagGroup;
  std::chrono::milliseconds lagRefresh{1000};
  std::chrono::milliseconds flushTimeout{30'000};
  int connections = 1;  // producer clients the partitions are split over (kafka::Producer)
};

struct ProducerSummary {
  uint64_t sent = 0;
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  std::map<std::string, uint64_t> failuresByReason;
  uint64_t queueFullRetries = 0;  // back-pressure events from the client's local queue
  double elapsedSeconds = 0;      // first send to last report
  latency::Histogram ackLatency;  // send -> broker acknowledgement, nanoseconds
  double achievedRate() const {
    return elapsedSeconds > 0 ? static_cast<double>(sent) / elapsedSeconds : 0;
  }
};

// Named sets of producer properties; -X properties given by the user win over them.
//   latency:    the default's self-clocking window (no linger, one request in flight) with
//               leader-only acknowledgement and no compression
//   throughput: large batches with a linger, lz4 compression, leader-only acknowledgement
// Throws std::invalid_argument for other names.
std::map<std::string, std::string> tunePreset(std::string_view name);

class ProducerService {
 public:
  // Validates everything up front (profile, keys, partitioner, topic exists) and throws
  // std::invalid_argument or kafka::KafkaError with what to fix.
  ProducerService(const kafka::ClientConfig& config, ProducerOptions options,
                  std::shared_ptr<prometheus::Registry> registry);
  ~ProducerService();

  // Produces until the count or duration is reached or `stop` becomes true, then flushes.
  ProducerSummary run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  friend class SendLoop;  // run()'s steps (producer_service.cpp)
  std::unique_ptr<Impl> impl_;
};

}  // namespace ebb::service
