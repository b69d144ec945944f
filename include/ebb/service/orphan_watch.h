// Classic cooperative groups with static members have one way to strand partitions: a static member
// killed between the two rounds of a cooperative rebalance (it had sent the leader's assignment but
// not yet rejoined after revoking) is replaced by a member with its --instance-id, and the broker
// hands the replacement the killed member's stored assignment without a rebalance (KIP-345). The
// partitions it was revoking then belong to nobody until something else rebalances the group
// (measured: 6 of 12 partitions unprocessed for 120 s). The watch notices a Stable group whose
// subscribed partitions stay unowned and makes the group rebalance: a short-lived member joins
// (every member rejoins with what it owns and the leader assigns the stranded partitions) and
// leaves again. It processes and commits nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/client_config.h"
#include "ebb/kafka/topic_partition.h"

namespace ebb::service {

// The subscribed partitions (topic -> partition count) no member of the group owns; empty unless
// the group is Stable (during a rebalance nobody owns anything for a moment, as the protocol says).
std::set<kafka::TopicPartition> unownedPartitions(const kafka::GroupDescription& group,
                                                  const std::map<std::string, int32_t>& topics);

// Decides when unowned partitions are stranded rather than between a rebalance's rounds: the same
// set, seen unowned in a Stable group for at least `confirm`.
class StrandedPartitions {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StrandedPartitions(std::chrono::milliseconds confirm) : confirm_(confirm) {}
  // One reading; returns the set once it has been stranded for `confirm`, then starts over.
  std::optional<std::set<kafka::TopicPartition>> observe(std::set<kafka::TopicPartition> unowned,
                                                         Clock::time_point now);

 private:
  std::chrono::milliseconds confirm_;
  std::set<kafka::TopicPartition> seen_;
  Clock::time_point since_{};
};

struct OrphanWatchOptions {
  std::string group;
  std::vector<std::string> topics;
  std::string assignor;
  std::chrono::milliseconds interval{5000};  // between readings of the group
  std::chrono::milliseconds confirm{15000};  // see StrandedPartitions
  std::function<void()> onRebalance;         // called for each rebalance the watch caused
};

// The watch runs on its own thread from construction to destruction (which returns within ~100 ms).
class OrphanWatch {
 public:
  OrphanWatch(kafka::ClientConfig config, OrphanWatchOptions options);
  OrphanWatch(const OrphanWatch&) = delete;
  OrphanWatch& operator=(const OrphanWatch&) = delete;
  ~OrphanWatch();

 private:
  void run();
  std::optional<std::set<kafka::TopicPartition>> reading(kafka::AdminClient& admin);
  void rebalanceGroup(const std::set<kafka::TopicPartition>& stranded);

  kafka::ClientConfig config_;
  OrphanWatchOptions options_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ebb::service
