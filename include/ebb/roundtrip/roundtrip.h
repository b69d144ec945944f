// One producer and one group consumer in a single process push N messages through a topic and
// measure throughput, send-to-ack and end-to-end latency: the quickest proof that a cluster and
// ebb's client path work, and the first figure to look at.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/consumer.h"
#include "ebb/latency/histogram.h"

namespace ebb::roundtrip {

struct Options {
  std::string topic;
  int partitions = 12;
  uint64_t messages = 100'000;
  size_t payloadBytes = 100;
  uint64_t keys = 1000;     // keys "k0".."k{keys-1}", round robin; 0: unkeyed
  double rate = 0;          // messages per second; 0: as fast as the client takes them
  bool createTopic = true;  // false: the topic must exist
  uint64_t warmup = 0;      // untimed messages (same rate and keys) before the measured ones
  int connections = 1;      // producer clients the partitions are split over (kafka::Producer)
  kafka::GroupProtocol protocol = kafka::GroupProtocol::kConsumer;
  std::chrono::seconds timeout{120};  // for the whole run
};

struct Result {
  uint64_t sent = 0;
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  uint64_t consumed = 0;  // distinct messages consumed
  uint64_t duplicates = 0;
  double produceSeconds = 0;           // first send to last acknowledgement
  double totalSeconds = 0;             // first send to last message consumed
  uint64_t produceRequests = 0;        // ProduceRequests the producer sent (librdkafka statistics)
  latency::Histogram ackLatency;       // send -> broker acknowledgement
  latency::Histogram endToEndLatency;  // send -> consumer received
  // The two halves of end-to-end, on topics with message.timestamp.type=LogAppendTime (the new
  // topic roundtrip creates has it): send -> broker append, and append -> consumer received. The
  // append time is in milliseconds, so each half is within 1 ms (their sum is end-to-end).
  latency::Histogram toBrokerLatency;
  latency::Histogram fromBrokerLatency;
  bool complete() const { return failed == 0 && consumed == sent && sent > 0; }
};

// Throws kafka::KafkaError when the cluster cannot be used (unreachable, topic problems).
Result run(const kafka::ClientConfig& config, const Options& options);

}  // namespace ebb::roundtrip
