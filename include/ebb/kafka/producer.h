// A Kafka producer: asynchronous sends, delivery reports handed to a DeliveryHandler from poll().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/error.h"

struct rd_kafka_s;

namespace ebb::kafka {
struct Header {
  const char* name;
  std::string_view value;
};

struct Delivery {
  Error error;  // empty when the broker acknowledged the message
  int32_t partition;
  int64_t offset;
  // The value given to send(); lets the handler match the report without a lookup.
  uint64_t token;
};

class DeliveryHandler {
 public:
  virtual ~DeliveryHandler() = default;
  // Called from Producer::poll()/flush() on the caller's thread; must not throw.
  virtual void onDelivery(const Delivery& delivery) noexcept = 0;
};

// What librdkafka's statistics (statistics.interval.ms) say about the requests this producer sent.
struct ProducerStatistics {
  uint64_t produceRequests = 0;  // ProduceRequests sent to all brokers so far
  uint64_t readings = 0;         // statistics callbacks served so far
  // eos.idemp_state: "Assigned" once an idempotent producer holds its producer id (it sends
  // nothing before); empty when idempotence is off.
  std::string idempotenceState;
};

inline constexpr int32_t kAnyPartition = -1;

// The producer's local queue is full: back-pressure, not a failure (poll and send again).
bool isQueueFull(const Error& error);

// ebb's producer defaults, under the user's properties (-X/-F always win): linger.ms 0, one request
// in flight per connection (batches grow while it is out: self-clocking), Nagle off, and
// idempotence unless the user's acks (not all) or window (above 5) rule it out.
std::map<std::string, std::string> selfClockingDefaults(const ClientConfig& config);

// librdkafka puts one partition in a ProduceRequest and keeps the window per broker connection, so
// with one connection the partitions a broker leads take turns: a message waits for a request of
// every other partition with data. `connections` producer clients split the partitions
// (partition mod connections); each keeps its own self-clocking window, so the broker serves them
// side by side. One partition always goes through one client: its order and idempotence hold.
inline constexpr int kMaxProducerConnections = 16;

class Producer {
 public:
  // handler may be null (reports are dropped); it must outlive the producer. connections in
  // [1, kMaxProducerConnections]; a message without a partition (kAnyPartition) goes through the
  // client its key hashes to (unkeyed: the next in turn), where librdkafka's partitioner places it.
  Producer(const ClientConfig& config, DeliveryHandler* handler, int connections = 1);
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  ~Producer();

  // Queues one message. Returns an error when the local queue is full (call poll() and retry) or
  // the topic/partition is unknown; the message is not sent then.
  Error send(const std::string& topic, int32_t partition, std::optional<std::string_view> key,
             std::string_view payload, std::span<const Header> headers, uint64_t token);
  // Serves delivery reports; returns how many were handled.
  int poll(std::chrono::milliseconds timeout);
  // Waits until every queued message is acknowledged or failed; false on timeout.
  bool flush(std::chrono::milliseconds timeout);
  // Messages sent and not yet reported to the handler (queued, in flight, or acknowledged with
  // the report not served yet); 0 after a flush() that returned true.
  int outstanding() const;
  // Whether enable.idempotence is in effect (ebb's default or the user's).
  bool idempotent() const;
  // The last statistics reading of every client, summed (all zero unless statistics.interval.ms
  // is set); served by poll() and flush().
  const ProducerStatistics& statistics() const { return statistics_; }
  int connections() const { return static_cast<int>(clients_.size()); }

 private:
  struct Client;
  Client& clientFor(int32_t partition, std::optional<std::string_view> key);
  int serveAll();
  void sumStatistics();

  ProducerStatistics statistics_;
  std::vector<std::unique_ptr<Client>> clients_;
  uint64_t nextUnkeyed_ = 0;
  std::atomic<int64_t> unreported_{0};  // sent, not yet reported (see outstanding())
  // With several clients: an eventfd each client's queue writes to when reports arrive, so one
  // poll() waits for all of them.
  int wakeup_ = -1;
};

}  // namespace ebb::kafka
