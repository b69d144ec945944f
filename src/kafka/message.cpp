#include "ebb/kafka/message.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <utility>

#include "handle.h"

namespace ebb::kafka {

Message::Message(rd_kafka_message_s* raw) : raw_(raw) {}
Message::Message(rd_kafka_message_s* raw, std::shared_ptr<rd_kafka_messages_s> batch)
    : raw_(raw), batch_(std::move(batch)) {}
Message::Message(Message&& other) noexcept
    : raw_(std::exchange(other.raw_, nullptr)), batch_(std::move(other.batch_)) {}

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    release();
    raw_ = std::exchange(other.raw_, nullptr);
    batch_ = std::move(other.batch_);
  }
  return *this;
}

Message::~Message() { release(); }

// A record of a share batch is destroyed with the batch (rd_kafka_messages_destroy), never alone.
void Message::release() noexcept {
  if (raw_ != nullptr && !batch_) rd_kafka_message_destroy(raw_);
  raw_ = nullptr;
  batch_.reset();
}

int Message::deliveryCount() const {
  return std::max<int>(0, rd_kafka_message_delivery_count(raw_));
}

Error Message::error() const {
  if (raw_->err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  // The message's payload holds librdkafka's description of the error.
  const char* detail = rd_kafka_message_errstr(raw_);
  return Error(raw_->err, detail != nullptr ? detail : rd_kafka_err2str(raw_->err),
               raw_->err == RD_KAFKA_RESP_ERR__FATAL);
}

bool Message::isError() const {
  return raw_->err != RD_KAFKA_RESP_ERR_NO_ERROR && !isPartitionEof();
}
bool Message::isPartitionEof() const { return raw_->err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }

std::string_view Message::topic() const {
  return raw_->rkt != nullptr ? rd_kafka_topic_name(raw_->rkt) : std::string_view();
}
int32_t Message::partition() const { return raw_->partition; }
int64_t Message::offset() const { return raw_->offset; }

std::optional<std::string_view> Message::key() const {
  if (raw_->key == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(raw_->key), raw_->key_len);
}

std::string_view Message::payload() const {
  if (raw_->payload == nullptr) return {};
  return {static_cast<const char*>(raw_->payload), raw_->len};
}

int64_t Message::timestampMs() const {
  rd_kafka_timestamp_type_t type{};
  return rd_kafka_message_timestamp(raw_, &type);
}

TimestampType Message::timestampType() const {
  rd_kafka_timestamp_type_t type{};
  rd_kafka_message_timestamp(raw_, &type);
  switch (type) {
    case RD_KAFKA_TIMESTAMP_CREATE_TIME:
      return TimestampType::kCreateTime;
    case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME:
      return TimestampType::kLogAppendTime;
    default:
      return TimestampType::kNone;
  }
}

std::optional<std::string_view> Message::header(const char* name) const {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(raw_, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), size);
}

}  // namespace ebb::kafka
