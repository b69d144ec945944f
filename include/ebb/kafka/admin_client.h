// Cluster administration through librdkafka's admin API: topics, metadata, groups and offsets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/topic_partition.h"

struct rd_kafka_s;

namespace ebb::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replicationFactor = -1;  // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;
};

struct BrokerInfo {
  int32_t id = 0;
  std::string host;
  int port = 0;
};

struct PartitionInfo {
  int32_t id = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> inSyncReplicas;

  // Fewer replicas in sync than assigned: one more failure may lose acknowledged writes.
  bool underReplicated() const { return inSyncReplicas.size() < replicas.size(); }
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
  // One of Kafka's own topics (__consumer_offsets, __transaction_state, __share_group_state).
  bool internal = false;
};

struct ClusterMetadata {
  std::string clusterId;
  // As the Metadata answer names it. In KRaft mode that is any live broker (it forwards controller
  // requests to the active controller), not the quorum leader.
  int32_t controllerId = -1;
  std::vector<BrokerInfo> brokers;
  std::vector<TopicInfo> topics;
};

struct GroupMember {
  std::string memberId;
  std::string clientId;
  std::string host;
  std::vector<TopicPartition> assignment;
};

struct GroupDescription {
  std::string groupId;
  std::string state;     // Stable, PreparingRebalance, Empty, Dead, ...
  std::string type;      // Consumer (KIP-848) or Classic
  std::string assignor;  // classic groups only
  std::vector<GroupMember> members;
};

enum class OffsetSpec { kEarliest, kLatest };

// One entry of a resource's configuration; `isDefault`: nobody set it (the broker's default).
struct ConfigValue {
  std::string value;
  bool isDefault = true;
};

class AdminClient {
 public:
  explicit AdminClient(const ClientConfig& config,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;
  ~AdminClient();

  // Set (borrowed, must outlive the calls): every call gives up within ~100 ms once `stop` is
  // set, throwing KafkaError, instead of waiting out its timeout on a cluster that is away.
  void setStopFlag(const std::atomic<bool>* stop) { stop_ = stop; }

  // Each call throws KafkaError with the broker's reason when it fails.
  void createTopic(const TopicSpec& spec);
  void deleteTopic(const std::string& name);
  // Brokers, controller and cluster id; with topic set, only that topic (KafkaError if unknown).
  ClusterMetadata metadata(const std::string& topic = {});
  // The named topic, for a client about to use it. A topic created a moment ago may not have
  // reached the cache of the broker asked yet (each broker learns it from the controller on its
  // own): "unknown topic" is asked again for up to kTopicPropagation before it is thrown.
  TopicInfo topic(const std::string& name);
  static constexpr std::chrono::milliseconds kTopicPropagation{3000};
  GroupDescription describeGroup(const std::string& groupId);
  // Committed offsets of every partition the group has committed for.
  std::map<TopicPartition, int64_t> listGroupOffsets(const std::string& groupId);
  std::map<TopicPartition, int64_t> listOffsets(const std::vector<TopicPartition>& partitions,
                                                OffsetSpec spec);
  // A group's own configuration (group configs: share.auto.offset.reset, session timeouts...;
  // DescribeConfigs on a GROUP resource, Kafka 4.0+).
  std::map<std::string, ConfigValue> groupConfig(const std::string& groupId);
  // Sets one group config entry (IncrementalAlterConfigs SET), leaving the others as they are.
  void setGroupConfig(const std::string& groupId, const std::string& key, const std::string& value);

 private:
  void waitUntilUsable(const TopicSpec& spec);

  struct Destroy {
    void operator()(rd_kafka_s* handle) const;
  };
  std::unique_ptr<rd_kafka_s, Destroy> handle_;
  const std::atomic<bool>* stop_ = nullptr;
  std::chrono::milliseconds timeout_;
};

}  // namespace ebb::kafka
