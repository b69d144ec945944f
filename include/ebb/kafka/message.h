// A consumed Kafka message: a zero-copy view over librdkafka's message, released when destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "ebb/kafka/error.h"

struct rd_kafka_message_s;

namespace ebb::kafka {

enum class TimestampType { kNone, kCreateTime, kLogAppendTime };

class Message {
 public:
  explicit Message(rd_kafka_message_s* raw);
  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;
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

 private:
  friend class Consumer;
  rd_kafka_message_s* raw() const { return raw_.get(); }

  struct Release {
    void operator()(rd_kafka_message_s* raw) const;
  };
  std::unique_ptr<rd_kafka_message_s, Release> raw_;
};

}  // namespace ebb::kafka
