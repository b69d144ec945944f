// A consumed Kafka message: a zero-copy view over librdkafka's message, released when destroyed.
// A share consumer's record belongs to the batch its poll returned: each record of the batch
// shares the batch, which is released with its last record.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "ebb/kafka/error.h"

struct rd_kafka_message_s;
struct rd_kafka_messages_s;

namespace ebb::kafka {

enum class TimestampType { kNone, kCreateTime, kLogAppendTime };

class Message {
 public:
  explicit Message(rd_kafka_message_s* raw);
  Message(rd_kafka_message_s* raw, std::shared_ptr<rd_kafka_messages_s> batch);
  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  // A message may carry a consumer error instead of data (see error()).
  Error error() const;
  bool isError() const;
  // The consumer reached the end of a partition (only with enable.partition.eof=true).
  bool isPartitionEof() const;

  std::string_view topic() const;
  int32_t partition() const;
  int64_t offset() const;
  std::optional<std::string_view> key() const;
  std::string_view payload() const;
  // Milliseconds since the epoch, with the type the topic's message.timestamp.type set.
  int64_t timestampMs() const;
  TimestampType timestampType() const;
  // The last header with this name, if any; points into the message.
  std::optional<std::string_view> header(const char* name) const;
  // How many times a share group has delivered this record (1 the first time); 0 for a record
  // of a consumer group, which has no such count.
  int deliveryCount() const;

 private:
  friend class Consumer;
  rd_kafka_message_s* raw() const { return raw_; }
  void release() noexcept;

  rd_kafka_message_s* raw_ = nullptr;
  std::shared_ptr<rd_kafka_messages_s> batch_;  // empty: raw_ is this message's alone
};

}  // namespace ebb::kafka
