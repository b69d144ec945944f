// A consumer group member with at-least-once semantics: offsets are stored only for messages the
// caller marks processed (markProcessed) and committed periodically, on revoke and on close.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/error.h"
#include "ebb/kafka/message.h"
#include "ebb/kafka/topic_partition.h"

struct rd_kafka_s;
struct rd_kafka_queue_s;

namespace ebb::kafka {

// KIP-848 `consumer`: the broker assigns partitions incrementally; `classic`: client-side
// assignors.
enum class GroupProtocol { kConsumer, kClassic };

// What kind of group a member joins: a consumer group (each partition has one owner at a time,
// order per partition kept; see GroupProtocol) or a share group (KIP-932: members share the
// partitions and acknowledge each record; see share_consumer.h).
enum class GroupType { kConsumer, kShare };

// Told about partitions arriving and leaving, on the polling thread, inside poll().
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Before fetching starts; returns where to start per partition when the application keeps its
  // own offsets (empty map: from the committed offsets).
  virtual std::map<TopicPartition, int64_t> onAssigned(
      const std::vector<TopicPartition>& partitions) noexcept = 0;
  // Before the partitions go away: finish their in-flight work and commit. `lost`: they already
  // belong to another member (session expired), so committing is pointless.
  virtual void onRevoked(const std::vector<TopicPartition>& partitions, bool lost) noexcept = 0;
};

struct ConsumerOptions {
  std::string groupId;
  GroupProtocol protocol = GroupProtocol::kConsumer;
  // Classic protocol only: cooperative-sticky, range or roundrobin.
  std::string assignor = "cooperative-sticky";
  // Where a group without committed offsets starts: earliest or latest.
  std::string autoOffsetReset = "earliest";
  std::chrono::milliseconds commitInterval{1000};
  // Static membership (KIP-345 / KIP-848): a restart within the session timeout keeps the
  // assignment.
  std::string instanceId;
  // false: offsets are the application's business (nothing is committed to Kafka).
  bool commitToKafka = true;
  // Optional; must outlive the consumer.
  RebalanceListener* listener = nullptr;
};

std::string_view toString(GroupProtocol protocol);
// The subscribed topic does not exist (a consumer error that retrying will not fix).
bool isUnknownTopic(const Error& error);
// Another member holds this static membership id. With the consumer protocol (KIP-848) a member
// that stopped without leaving holds it until its session times out.
bool isInstanceIdInUse(const Error& error);
// Throws std::invalid_argument for anything but "consumer" or "classic".
GroupProtocol parseGroupProtocol(std::string_view name);
std::string_view toString(GroupType type);
// Throws std::invalid_argument for anything but "consumer" or "share".
GroupType parseGroupType(std::string_view name);

class Consumer {
 public:
  Consumer(const ClientConfig& config, const ConsumerOptions& options);
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  // Closes (commits, leaves the group) if close() was not called.
  ~Consumer();

  void subscribe(const std::vector<std::string>& topics);
  // Connects this client to the cluster and fetches its metadata, without joining the group: a
  // standby replica does this ahead of need, so joining later costs only the group protocol.
  Error warmUp(std::chrono::milliseconds timeout);
  // The next message or error, or nothing when the timeout passed.
  std::optional<Message> poll(std::chrono::milliseconds timeout);
  // Appends up to `max` messages (or errors) to `out`: waits up to `timeout` for the first, then
  // takes what is fetched already without waiting. Returns how many it appended. One call
  // takes a batch off librdkafka's queue (a lock and a wake-up per batch, not per message).
  size_t pollBatch(std::vector<Message>& out, size_t max, std::chrono::milliseconds timeout);
  // Partitions currently assigned to this member.
  size_t assignedPartitions() const;
  std::vector<TopicPartition> assignment() const;
  // Records that the message was processed; its offset + 1 is committed with the next commit.
  Error markProcessed(const Message& message);
  // Commits what was marked processed and waits for the broker's answer.
  Error commitSync();
  // What made the client unusable once poll() returned a fatal error (fenced, instance id in
  // use), with librdkafka's original code; no error otherwise.
  Error fatalError() const;
  // Commits, leaves the group and stops fetching. Idempotent.
  Error close();

  // What the rebalance callback shares with poll() (internal).
  struct RebalanceState {
    RebalanceListener* listener = nullptr;
    std::chrono::steady_clock::time_point rebalancedAt;
    bool wakePending = false;  // touched only by the thread that polls
  };

 private:
  void wakeFetchers();
  struct Destroy {
    void operator()(rd_kafka_s* handle) const;
    void operator()(rd_kafka_queue_s* queue) const;
  };
  std::unique_ptr<RebalanceState> rebalance_;  // before handle_: it outlives the callbacks
  std::unique_ptr<rd_kafka_s, Destroy> handle_;
  std::unique_ptr<rd_kafka_queue_s, Destroy> queue_;  // after handle_: released before it
  bool closed_ = false;
};

}  // namespace ebb::kafka
