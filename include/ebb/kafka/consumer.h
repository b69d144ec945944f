// A consumer group member with at-least-once semantics: offsets are stored only for messages the
// caller marks processed (markProcessed) and committed periodically, on revoke and on close.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/error.h"
#include "ebb/kafka/message.h"

struct rd_kafka_s;

namespace ebb::kafka {

// KIP-848 `consumer`: the broker assigns partitions incrementally; `classic`: client-side
// assignors.
enum class GroupProtocol { kConsumer, kClassic };

struct ConsumerOptions {
  std::string groupId;
  GroupProtocol protocol = GroupProtocol::kConsumer;
  // Classic protocol only: cooperative-sticky, range or roundrobin.
  std::string assignor = "cooperative-sticky";
  // Where a group without committed offsets starts: earliest or latest.
  std::string autoOffsetReset = "earliest";
  std::chrono::milliseconds commitInterval{1000};
};

std::string_view toString(GroupProtocol protocol);
// Throws std::invalid_argument for anything but "consumer" or "classic".
GroupProtocol parseGroupProtocol(std::string_view name);

class Consumer {
 public:
  Consumer(const ClientConfig& config, const ConsumerOptions& options);
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  // Closes (commits, leaves the group) if close() was not called.
  ~Consumer();

  void subscribe(const std::vector<std::string>& topics);
  // The next message or error, or nothing when the timeout passed.
  std::optional<Message> poll(std::chrono::milliseconds timeout);
  // Partitions currently assigned to this member.
  size_t assignedPartitions() const;
  // Records that the message was processed; its offset + 1 is committed with the next commit.
  Error markProcessed(const Message& message);
  // Commits what was marked processed and waits for the broker's answer.
  Error commitSync();
  // Commits, leaves the group and stops fetching. Idempotent.
  Error close();

 private:
  struct Destroy {
    void operator()(rd_kafka_s* handle) const;
  };
  std::unique_ptr<rd_kafka_s, Destroy> handle_;
  bool closed_ = false;
};

}  // namespace ebb::kafka
