// Share-group (KIP-932) administration that librdkafka's admin API lacks: describing a share group
// (ShareGroupDescribe) and its share-partition start offsets and lag (DescribeShareGroupOffsets v1,
// where the broker computes the lag, KIP-1226). The requests go through a helper built with
// franz-go's admin client (tools/share-admin), started once and kept for every reading; it is
// given the same client properties (bootstrap servers, security) over a socket, never in argv.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/client_config.h"
#include "ebb/kafka/topic_partition.h"

namespace ebb::kafka {

struct SharePartitionOffset {
  int64_t startOffset = -1;  // the share-partition start offset (SPSO); -1: not initialised
  int64_t lag = -1;          // the broker's lag (records not yet acknowledged); -1: unknown
};

struct ShareGroupDescription {
  std::string groupId;
  std::string state;  // Stable, Empty, ...
  std::vector<GroupMember> members;
  std::map<TopicPartition, SharePartitionOffset> offsets;
};

// The helper's path: $EBB_SHARE_ADMIN, else ebb-share-admin next to the running executable, else
// the one this build made, else PATH. Nothing when none is found.
std::optional<std::string> findShareAdminHelper();

class ShareGroupAdmin {
 public:
  // Starts the helper; throws KafkaError when it cannot be found or refuses the configuration
  // (unsupported SASL mechanism, say), with the reason. A helper that died or stopped answering
  // is started again by the next describe().
  explicit ShareGroupAdmin(const ClientConfig& config);
  ~ShareGroupAdmin();
  ShareGroupAdmin(const ShareGroupAdmin&) = delete;
  ShareGroupAdmin& operator=(const ShareGroupAdmin&) = delete;

  // Members, assignment, start offsets and lag of `group` (two round trips to its coordinator).
  // A group the coordinator does not know reads as state "Dead" with nothing in it (as
  // describeGroup does for consumer groups). Throws KafkaError when the cluster cannot answer (or
  // has no share groups: the hint names the feature to enable).
  ShareGroupDescription describe(const std::string& group);
  // The same without offsets (one round trip): for watching members come and go.
  ShareGroupDescription members(const std::string& group);

 private:
  ShareGroupDescription ask(const std::string& op, const std::string& group);
  void start();
  std::string exchange(const std::string& line);
  [[noreturn]] void helperFailed(const std::string& what);

  ClientConfig config_;
  pid_t pid_ = -1;
  int socket_ = -1;
  std::string buffered_;
  std::chrono::milliseconds timeout_;
};

}  // namespace ebb::kafka
