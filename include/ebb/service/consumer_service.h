// The consumer microservice behind `ebb consume`: a group member that processes every message with
// simulated downstream work, measures end-to-end latency (and its two phases), commits only what it
// processed, and drains on SIGTERM.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/consumer.h"
#include "ebb/latency/histogram.h"

namespace prometheus {
class Registry;
}

namespace ebb::service {

struct ConsumerOptions {
  std::vector<std::string> topics;
  std::string group;
  // share: a share group member (no partition cap, no handoff, no order per key; offsets,
  // instance ids and standby are consumer-group things and refused with it).
  kafka::GroupType groupType = kafka::GroupType::kConsumer;
  kafka::GroupProtocol protocol = kafka::GroupProtocol::kConsumer;
  std::string assignor = "cooperative-sticky";  // classic only
  std::string instanceId;                       // static membership when set
  std::string work = "none";                    // WorkSpec grammar
  unsigned workers = 1;                         // partitions processed concurrently, order kept
  std::string auditPath;                        // one line per processed message when set
  // Appends one JSON line per second: messages processed in that second and their end-to-end
  // latency percentiles (for timelines; the summary only has the whole run).
  std::string statsPath;
  std::string offsets = "kafka";  // kafka | file:PATH
  std::chrono::milliseconds commitInterval{1000};
  std::chrono::milliseconds gracePeriod{10'000};
  // How long start-up may take to reach the cluster and find the topics before giving up.
  std::chrono::milliseconds startupTimeout{30'000};
  uint64_t maxMessages = 0;  // stop after this many (0: until stopped)
  uint64_t seed = 1;
  // Share groups: a record delivered more often than this is rejected unprocessed (0: only the
  // broker's group.share.delivery.count.limit applies).
  int maxDeliveries = 0;
  // A warm standby: connect and fetch metadata at start, then join the group only once
  // run()'s `activate` flag is set (ebb consume --standby: on SIGUSR1).
  bool standby = false;
};

struct RebalanceEvent {
  std::string kind;  // assigned, revoked, lost
  size_t partitions = 0;
  double pausedSeconds = 0;  // how long processing of this member was held up by it
};

struct ConsumerSummary {
  uint64_t consumed = 0;
  double busySeconds = 0;  // first message received to last message processed
  // Without a valid ebb envelope: processed and committed all the same in a consumer group,
  // rejected (not processed) in a share group.
  uint64_t malformed = 0;
  // Share groups: acknowledgements sent, by type, and records delivered more than once.
  uint64_t accepted = 0;
  uint64_t released = 0;
  uint64_t rejected = 0;
  uint64_t redelivered = 0;
  std::vector<RebalanceEvent> rebalances;
  latency::Histogram endToEnd;          // ebb-ts -> received
  latency::Histogram producerToBroker;  // ebb-ts -> LogAppendTime (LogAppendTime topics only)
  latency::Histogram brokerToConsumer;  // LogAppendTime -> received
  // The first 64 partitions processed (bounded memory); the others' numbers, without a histogram.
  std::map<int32_t, latency::Histogram> endToEndByPartition;
  std::set<int32_t> untrackedPartitions;
  bool drainedInTime = true;  // false: the grace period ran out; uncommitted work is redelivered
};

class ConsumerService {
 public:
  // Validates the options (work spec, offsets mode, workers) and creates the group member;
  // throws std::invalid_argument or kafka::KafkaError with what to fix.
  ConsumerService(const kafka::ClientConfig& config, const ConsumerOptions& options,
                  std::shared_ptr<prometheus::Registry> registry);
  ~ConsumerService();

  // Consumes until `stop` is set or maxMessages are processed, then drains, commits and leaves.
  // A standby (options.standby) first waits, connected, until `activate` is set (or `stop`: then
  // it ends without ever joining).
  ConsumerSummary run(const std::atomic<bool>& stop, const std::atomic<bool>* activate = nullptr);
  // True once the member has joined its group (received its first assignment, even an empty one).
  bool joined() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ebb::service
