// The lag of a consumer group, per partition and in total, as `ebb lag` and the scaler see it:
// offsets from the admin API (works for any group, not only ebb's), owners from describe group,
// and rates and time lag from the history of earlier readings. Share groups (KIP-932) read the
// same way through kafka::ShareGroupAdmin: the share-partition start offset stands where a
// consumer group's committed offset does, and the lag is the broker's own (records not yet
// acknowledged, KIP-1226), which counts what is acknowledged past the start offset as done.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/share_admin.h"
#include "ebb/kafka/topic_partition.h"
#include "ebb/lag/offset_history.h"

namespace ebb::lag {

struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t logStart = 0;
  int64_t logEnd = 0;
  int64_t committed = -1;  // -1: nothing committed (share groups: the share-partition start offset)
  int64_t lag = 0;         // messages; a partition without a commit counts from the log start
  double lagSeconds = 0;
  double produceRate = 0;  // messages/s
  double consumeRate = 0;  // messages/s
  std::string owner;       // client id of the member it is assigned to ("" when unassigned)
  std::string ownerHost;
  std::string memberId;
};

struct TopicLag {
  std::string topic;
  int32_t partitions = 0;
  int64_t lag = 0;
  double maxLagSeconds = 0;
  double produceRate = 0;
  double consumeRate = 0;
};

struct GroupLag {
  std::string group;
  std::string state;  // Stable, Empty, Dead (unknown group), ...
  std::string type;   // Consumer (KIP-848), Classic or Share
  size_t members = 0;
  std::vector<PartitionLag> partitions;  // by topic, then partition
  std::vector<TopicLag> topics;
  int64_t lag = 0;
  double maxLagSeconds = 0;
};

class GroupLagMonitor {
 public:
  // `topics` empty: every topic the group has committed offsets for or is assigned.
  // `share`: the group is a share group, read through it (the monitor does not own it).
  GroupLagMonitor(kafka::AdminClient& admin, std::string group, std::vector<std::string> topics,
                  std::chrono::milliseconds rateWindow = std::chrono::seconds(60),
                  kafka::ShareGroupAdmin* share = nullptr);

  // One reading (five admin round trips; share groups: four). `now` is monotonic time for rates.
  // Throws KafkaError when the cluster cannot answer or a named topic does not exist,
  // std::runtime_error when the group has nothing to report and no topic was named.
  GroupLag read(std::chrono::milliseconds now);

  // Just who is in the group and what they own (one admin round trip): for watching a
  // rebalance settle between readings.
  struct Membership {
    size_t members = 0;
    size_t ownedPartitions = 0;  // of `topic` (distinct partitions assigned to some member)
    size_t owningMembers = 0;    // members that own at least one partition of `topic`
  };
  Membership membership(const std::string& topic);
  const std::string& group() const { return group_; }

 private:
  // What the group itself says: state, members and where it stands per partition.
  struct GroupState {
    kafka::GroupDescription description;
    std::map<kafka::TopicPartition, int64_t> committed;  // share groups: start offsets
    std::map<kafka::TopicPartition, int64_t> shareLag;   // share groups: the broker's lag (≥ 0)
  };
  GroupState groupState();
  std::set<std::string> topicsToRead(const GroupState& state) const;

  kafka::AdminClient& admin_;
  kafka::ShareGroupAdmin* share_;
  std::string group_;
  std::vector<std::string> topics_;
  std::chrono::milliseconds rateWindow_;
  std::map<kafka::TopicPartition, OffsetHistory> history_;
};

// Sums the partitions into per-topic and group totals (pure).
void summarize(GroupLag& lag);

}  // namespace ebb::lag
