#include "ebb/kafka/consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>

#include "handle.h"

namespace ebb::kafka {
namespace {

std::vector<TopicPartition> toVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> result;
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    result.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return result;
}

// The group will retry or fence this member: log and go on (no exception across a callback).
void logIfFailed(const char* what, rd_kafka_error_t* error) {
  if (const auto failed = detail::takeError(error)) {
    spdlog::error("rebalance: {} failed: {}", what, failed.message());
  }
}

// Hands assignment changes to the listener, then applies them: incrementally for the cooperative
// protocols (KIP-848 `consumer`, classic cooperative-sticky), wholesale for the eager ones.
void rebalanceCallback(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* state = static_cast<Consumer::RebalanceState*>(opaque);
  auto* listener = state->listener;
  state->rebalancedAt = std::chrono::steady_clock::now();
  state->wakePending = true;
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    const auto starts = listener->onAssigned(toVector(partitions));
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& element = partitions->elems[i];
      if (const auto it = starts.find({element.topic, element.partition}); it != starts.end()) {
        element.offset = it->second;
      }
    }
    if (cooperative) {
      logIfFailed("incremental assign", rd_kafka_incremental_assign(handle, partitions));
    } else if (const auto assignErr = rd_kafka_assign(handle, partitions); assignErr) {
      spdlog::error("rebalance: assign failed: {}", rd_kafka_err2str(assignErr));
    }
    return;
  }
  const bool lost = rd_kafka_assignment_lost(handle) != 0;
  listener->onRevoked(toVector(partitions), lost);
  if (cooperative) {
    logIfFailed("incremental unassign", rd_kafka_incremental_unassign(handle, partitions));
  } else {
    rd_kafka_assign(handle, nullptr);
  }
}

}  // namespace

std::string_view toString(GroupProtocol protocol) {
  return protocol == GroupProtocol::kConsumer ? "consumer" : "classic";
}

bool isUnknownTopic(const Error& error) {
  return error.code() == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
         error.code() == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

bool isInstanceIdInUse(const Error& error) {
  return error.code() == RD_KAFKA_RESP_ERR_UNRELEASED_INSTANCE_ID;
}

GroupProtocol parseGroupProtocol(std::string_view name) {
  if (name == "consumer") return GroupProtocol::kConsumer;
  if (name == "classic") return GroupProtocol::kClassic;
  throw std::invalid_argument("unknown group protocol '" + std::string(name) +
                              "' (use consumer for KIP-848 or classic)");
}

std::string_view toString(GroupType type) {
  return type == GroupType::kConsumer ? "consumer" : "share";
}

GroupType parseGroupType(std::string_view name) {
  if (name == "consumer") return GroupType::kConsumer;
  if (name == "share") return GroupType::kShare;
  throw std::invalid_argument("unknown group type '" + std::string(name) +
                              "' (use consumer or share)");
}

Consumer::Consumer(const ClientConfig& config, const ConsumerOptions& options) {
  if (options.groupId.empty()) throw std::invalid_argument("a consumer needs a group id");
  // At-least-once: librdkafka commits, every commitInterval and on revoke/close, only the offsets
  // stored by markProcessed(), never those of messages merely fetched.
  std::map<std::string, std::string> defaults{
      {"group.id", options.groupId},
      {"group.protocol", std::string(toString(options.protocol))},
      {"enable.auto.commit", options.commitToKafka ? "true" : "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.commit.interval.ms", std::to_string(options.commitInterval.count())},
      {"auto.offset.reset", options.autoOffsetReset},
  };
  // The assignor is the broker's business under KIP-848; librdkafka rejects it there.
  if (options.protocol == GroupProtocol::kClassic) {
    defaults["partition.assignment.strategy"] = options.assignor;
  }
  if (!options.instanceId.empty()) defaults["group.instance.id"] = options.instanceId;
  auto conf = detail::makeConf(config, defaults, RD_KAFKA_CONSUMER);
  if (options.listener != nullptr) {
    rd_kafka_conf_set_rebalance_cb(conf.get(), rebalanceCallback);
    rebalance_ = std::make_unique<RebalanceState>(RebalanceState{.listener = options.listener});
    rd_kafka_conf_set_opaque(conf.get(), rebalance_.get());
  }
  handle_.reset(detail::createHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  // Serve the client's events (errors, logs) through consumer poll() as well.
  rd_kafka_poll_set_consumer(handle_.get());
  queue_.reset(rd_kafka_queue_get_consumer(handle_.get()));
}

Consumer::~Consumer() { close(); }

void Consumer::Destroy::operator()(rd_kafka_s* handle) const { rd_kafka_destroy(handle); }
void Consumer::Destroy::operator()(rd_kafka_queue_s* queue) const { rd_kafka_queue_destroy(queue); }

void Consumer::subscribe(const std::vector<std::string>& topics) {
  const auto list = detail::subscriptionList(topics);
  if (const auto err = rd_kafka_subscribe(handle_.get(), list.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(std::string("cannot subscribe: ") + rd_kafka_err2str(err),
                     detail::toError(err));
  }
}

Error Consumer::warmUp(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err =
      rd_kafka_metadata(handle_.get(), 1, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  return detail::toError(err);
}

// librdkafka pauses every assigned partition while the application handles a rebalance and
// resumes them afterwards, but the resume does not wake the broker threads: one that went idle
// meanwhile sleeps up to a second before it fetches the partitions this member kept (measured:
// ~1.1 s without new messages on the kept partitions in one scale-out of two). A request to each
// partition's leader wakes its broker thread; sent a few milliseconds after the rebalance, once
// the resume has been applied.
void Consumer::wakeFetchers() {
  constexpr auto kAfterRebalance = std::chrono::milliseconds(5);
  if (!rebalance_ || !rebalance_->wakePending ||
      std::chrono::steady_clock::now() - rebalance_->rebalancedAt < kAfterRebalance) {
    return;
  }
  rebalance_->wakePending = false;
  std::set<std::string> asked;
  for (const auto& tp : assignment()) {
    // One partition per topic reaches one leader; the others share the broker on small clusters
    // and are woken by their own next fetch response otherwise.
    if (!asked.insert(tp.topic).second) continue;
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_query_watermark_offsets(handle_.get(), tp.topic.c_str(), tp.partition, &low, &high,
                                     200);
  }
}

std::optional<Message> Consumer::poll(std::chrono::milliseconds timeout) {
  wakeFetchers();
  if (rebalance_ && rebalance_->wakePending)
    timeout = std::min(timeout, std::chrono::milliseconds(5));
  rd_kafka_message_t* raw =
      rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count()));
  if (raw == nullptr) return std::nullopt;
  return Message(raw);
}

size_t Consumer::pollBatch(std::vector<Message>& out, size_t max,
                           std::chrono::milliseconds timeout) {
  if (max == 0) return 0;
  auto first = poll(timeout);
  if (!first) return 0;
  out.push_back(std::move(*first));
  size_t appended = 1;
  // The rest without waiting: consume_batch_queue serves rebalances and errors as poll() does.
  std::array<rd_kafka_message_t*, 256> raw{};
  while (appended < max) {
    const size_t want = std::min(raw.size(), max - appended);
    const ssize_t got = rd_kafka_consume_batch_queue(queue_.get(), 0, raw.data(), want);
    if (got <= 0) break;
    for (ssize_t i = 0; i < got; ++i) out.emplace_back(raw[static_cast<size_t>(i)]);
    appended += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < want) break;
  }
  return appended;
}

size_t Consumer::assignedPartitions() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  detail::TopicPartitionListPtr list(raw);
  return static_cast<size_t>(list->cnt);
}

std::vector<TopicPartition> Consumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  detail::TopicPartitionListPtr list(raw);
  return toVector(list.get());
}

Error Consumer::markProcessed(const Message& message) {
  return detail::takeError(rd_kafka_offset_store_message(message.raw()));
}

Error Consumer::commitSync() {
  const auto err = rd_kafka_commit(handle_.get(), nullptr, 0);
  // Nothing processed since the last commit is not a failure.
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return {};
  return detail::toError(err);
}

Error Consumer::fatalError() const {
  std::array<char, 512> reason{};
  const auto code = rd_kafka_fatal_error(handle_.get(), reason.data(), reason.size());
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return Error(code, reason.data(), /*fatal=*/true);
}

Error Consumer::close() {
  if (closed_ || !handle_) return {};
  closed_ = true;
  return detail::toError(rd_kafka_consumer_close(handle_.get()));
}

}  // namespace ebb::kafka
