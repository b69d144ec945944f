#include "ebb/kafka/share_consumer.h"

#include <librdkafka/rdkafka.h>

#include <array>
#include <stdexcept>

#include "handle.h"

namespace ebb::kafka {
namespace {

rd_kafka_share_AcknowledgeType_t toLibrary(Acknowledgement type) {
  switch (type) {
    case Acknowledgement::kAccept:
      return RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_ACCEPT;
    case Acknowledgement::kRelease:
      return RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_RELEASE;
    case Acknowledgement::kReject:
      return RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_REJECT;
  }
  throw std::invalid_argument("unknown acknowledgement type");
}

struct MessagesDestroy {
  void operator()(rd_kafka_messages_t* batch) const { rd_kafka_messages_destroy(batch); }
};

}  // namespace

std::string_view toString(Acknowledgement type) {
  switch (type) {
    case Acknowledgement::kAccept:
      return "accept";
    case Acknowledgement::kRelease:
      return "release";
    case Acknowledgement::kReject:
      return "reject";
  }
  return "?";
}

bool isShareGroupsUnavailable(const Error& error) {
  return error.code() == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
         error.code() == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;
}

std::string shareGroupsUnavailableHint() {
  return "share groups need Apache Kafka 4.2 or later with the share.version feature at level 1 "
         "(on by default for clusters formatted at 4.2+; otherwise: kafka-features.sh "
         "--bootstrap-server B upgrade --feature share.version=1)";
}

ShareConsumer::ShareConsumer(const ClientConfig& config, const ShareConsumerOptions& options) {
  if (options.groupId.empty()) throw std::invalid_argument("a share consumer needs a group id");
  // Explicit acknowledgement: a record counts as done only once the application says so, never
  // because a later poll happened (at-least-once, as with the consumer group's stored offsets).
  const std::map<std::string, std::string> defaults{
      {"group.id", options.groupId},
      {"share.acknowledgement.mode", "explicit"},
  };
  auto conf = detail::makeConf(config, defaults, RD_KAFKA_CONSUMER);
  std::array<char, 512> reason{};
  rd_kafka_share_t* handle = rd_kafka_share_consumer_new(conf.get(), reason.data(), reason.size());
  if (handle == nullptr) {
    throw KafkaError(std::string("cannot create the share consumer: ") + reason.data());
  }
  conf.release();  // the share consumer took ownership
  handle_.reset(handle);
}

ShareConsumer::~ShareConsumer() { close(); }

void ShareConsumer::Destroy::operator()(rd_kafka_share_s* handle) const {
  detail::takeError(rd_kafka_share_destroy(handle));
}

void ShareConsumer::subscribe(const std::vector<std::string>& topics) {
  const auto list = detail::subscriptionList(topics);
  if (const auto err = rd_kafka_share_subscribe(handle_.get(), list.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(std::string("cannot subscribe the share consumer: ") + rd_kafka_err2str(err),
                     detail::toError(err));
  }
}

Error ShareConsumer::poll(std::chrono::milliseconds timeout, std::vector<Message>& records) {
  rd_kafka_messages_t* raw = nullptr;
  if (auto error = detail::takeError(
          rd_kafka_share_poll(handle_.get(), static_cast<int>(timeout.count()), &raw))) {
    return error;
  }
  const size_t count = rd_kafka_messages_count(raw);
  if (count == 0) {
    rd_kafka_messages_destroy(raw);
    return {};
  }
  // Each record shares the batch; the batch (and every record in it) goes with the last one.
  const std::shared_ptr<rd_kafka_messages_t> batch(raw, MessagesDestroy{});
  records.reserve(records.size() + count);
  for (size_t i = 0; i < count; ++i) records.emplace_back(rd_kafka_messages_get(raw, i), batch);
  return {};
}

Error ShareConsumer::acknowledge(const std::string& topic, int32_t partition, int64_t offset,
                                 Acknowledgement type) {
  return detail::toError(rd_kafka_share_acknowledge_offset(handle_.get(), topic.c_str(), partition,
                                                           offset, toLibrary(type)));
}

Error ShareConsumer::commitSync(std::chrono::milliseconds timeout) {
  // librdkafka 2.15.1 crashes when this out-parameter is null: always pass one.
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (auto error = detail::takeError(
          rd_kafka_share_commit_sync(handle_.get(), static_cast<int>(timeout.count()), &raw))) {
    if (raw != nullptr) rd_kafka_topic_partition_list_destroy(raw);
    return error;
  }
  if (raw == nullptr) return {};  // nothing was pending
  const detail::TopicPartitionListPtr results(raw);
  for (int i = 0; i < results->cnt; ++i) {
    if (results->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto& failed = results->elems[i];
      return Error(failed.err, std::string(failed.topic) + "[" + std::to_string(failed.partition) +
                                   "]: " + rd_kafka_err2str(failed.err));
    }
  }
  return {};
}

Error ShareConsumer::close() {
  if (closed_ || !handle_) return {};
  closed_ = true;
  return detail::takeError(rd_kafka_share_consumer_close(handle_.get()));
}

}  // namespace ebb::kafka
