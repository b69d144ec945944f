#include "ebb/kafka/admin_client.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>
#include <thread>

#include "ebb/kafka/error.h"
#include "handle.h"

namespace ebb::kafka {
namespace {

struct QueueDestroy {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct EventDestroy {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};
struct OptionsDestroy {
  void operator()(rd_kafka_AdminOptions_t* options) const {
    rd_kafka_AdminOptions_destroy(options);
  }
};
struct MetadataDestroy {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDestroy>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDestroy>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDestroy>;

// Between two tries of a request the broker called retriable.
constexpr std::chrono::milliseconds kMaxBackoff{1000};

// How often a blocking call looks at its stop flag.
constexpr std::chrono::milliseconds kStopCheck{100};

bool stopRequested(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(); }

int toInt(std::chrono::milliseconds timeout) { return static_cast<int>(timeout.count()); }

// One admin request in flight: its own result queue and options with the client's timeout.
class Request {
 public:
  Request(rd_kafka_t* handle, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout,
          const std::atomic<bool>* stop)
      : queue_(rd_kafka_queue_new(handle)),
        options_(rd_kafka_AdminOptions_new(handle, op)),
        timeout_(timeout),
        stop_(stop) {
    std::array<char, 256> reason{};
    rd_kafka_AdminOptions_set_request_timeout(options_.get(), toInt(timeout), reason.data(),
                                              reason.size());
    rd_kafka_AdminOptions_set_operation_timeout(options_.get(), toInt(timeout), reason.data(),
                                                reason.size());
  }
  rd_kafka_queue_t* queue() const { return queue_.get(); }
  rd_kafka_AdminOptions_t* options() const { return options_.get(); }

  // Waits for the result event; throws with `what` when none comes or the request failed as a
  // whole.
  EventPtr await(const std::string& what) const {
    // Leave the request's own timeout room to report its reason before giving up on the queue;
    // wait in slices so that a stop request is seen at once.
    const auto deadline = std::chrono::steady_clock::now() + timeout_ + std::chrono::seconds(5);
    EventPtr event;
    while (!event) {
      if (stopRequested(stop_)) throw KafkaError(what + ": stopped while waiting for the cluster");
      if (std::chrono::steady_clock::now() >= deadline) {
        throw KafkaError(what + ": no answer from the cluster in time");
      }
      event.reset(rd_kafka_queue_poll(queue_.get(), toInt(kStopCheck)));
    }
    if (const auto err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError(what + ": " + rd_kafka_event_error_string(event.get()),
                       detail::toError(err));
    }
    return event;
  }

 private:
  QueuePtr queue_;
  OptionsPtr options_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>* stop_;
};

// What the broker answered. librdkafka leaves the text empty after its "RequestName: " prefix
// when the broker sent a code without a message: then the code's own description is the answer.
std::string describeError(const rd_kafka_error_t* error) {
  std::string text = rd_kafka_error_string(error);
  const auto code = rd_kafka_error_code(error);
  if (text.empty() || text.ends_with(": ") || text.ends_with(":")) {
    if (!text.empty() && text.back() != ' ') text += ' ';
    text += std::string(rd_kafka_err2str(code)) + " (" + rd_kafka_err2name(code) + ")";
  }
  return text;
}

void throwIfFailed(const rd_kafka_error_t* error, const std::string& what) {
  if (error != nullptr)
    throw KafkaError(what + ": " + describeError(error), detail::toError(error));
}

// The group's coordinator is not ready yet (a fresh broker loads __consumer_offsets on first use,
// a coordinator moves after a broker restart): asking again in a moment is the answer.
bool coordinatorNotReady(const rd_kafka_error_t* error) {
  switch (rd_kafka_error_code(error)) {
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
      return true;
    default:
      return rd_kafka_error_is_retriable(error) != 0;
  }
}

std::vector<TopicPartition> toTopicPartitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> result;
  if (list == nullptr) return result;
  for (int i = 0; i < list->cnt; ++i) {
    result.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return result;
}

GroupDescription toGroupDescription(const std::string& groupId,
                                    const rd_kafka_ConsumerGroupDescription_t* group) {
  GroupDescription description;
  description.groupId = groupId;
  description.state =
      rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(group));
  description.type =
      rd_kafka_consumer_group_type_name(rd_kafka_ConsumerGroupDescription_type(group));
  if (const char* assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(group)) {
    description.assignor = assignor;
  }
  for (size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(group); ++i) {
    const auto* member = rd_kafka_ConsumerGroupDescription_member(group, i);
    description.members.push_back(GroupMember{
        .memberId = rd_kafka_MemberDescription_consumer_id(member),
        .clientId = rd_kafka_MemberDescription_client_id(member),
        .host = rd_kafka_MemberDescription_host(member),
        .assignment = toTopicPartitions(
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(member))),
    });
  }
  return description;
}

// A partition's leader is moving or not known yet (a topic just created, a broker restarting):
// the client's next metadata refresh finds it, so asking again shortly is worth it.
bool leadershipInFlux(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

// Adds one partition's offset, failing on a partition-level error.
void addOffset(std::map<TopicPartition, int64_t>& offsets,
               const rd_kafka_topic_partition_t& element, const std::string& what) {
  if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(what + " for " + element.topic + "[" + std::to_string(element.partition) +
                         "]: " + rd_kafka_err2str(element.err),
                     detail::toError(element.err));
  }
  offsets[{element.topic, element.partition}] = element.offset;
}

// CreateTopics and DeleteTopics answer per topic; the first failure is the caller's error.
void throwIfAnyTopicFailed(const rd_kafka_topic_result_t** results, size_t count,
                           const std::string& what) {
  for (size_t i = 0; i < count; ++i) {
    if (const auto err = rd_kafka_topic_result_error(results[i]); err) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      throw KafkaError(what + ": " + (message != nullptr ? message : rd_kafka_err2str(err)),
                       detail::toError(err));
    }
  }
}

// The names Kafka's Topic.isInternal() accepts (kafka-clients 4.3.1), whence the Metadata answer's
// is_internal flag, which librdkafka's public metadata struct does not carry.
bool isInternalTopic(std::string_view name) {
  return name == "__consumer_offsets" || name == "__transaction_state" ||
         name == "__share_group_state";
}

// One metadata request, asked again in short slices until it is answered, the timeout passed or
// the stop flag is set (rd_kafka_metadata itself cannot be interrupted).
rd_kafka_resp_err_t fetchMetadata(rd_kafka_t* handle, rd_kafka_topic_t* only,
                                  const rd_kafka_metadata_t** raw,
                                  std::chrono::milliseconds timeout,
                                  const std::atomic<bool>* stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // Slices: a stop request, or a wrong password or untrusted certificate (which no wait
    // heals), ends the wait at once.
    const auto slice = std::clamp(left, kStopCheck, 5 * kStopCheck);
    const auto err = rd_kafka_metadata(handle, only == nullptr ? 1 : 0, only, raw, toInt(slice));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return err;
    rd_kafka_poll(handle, 0);  // serves the error callback, which notes credential failures
    if (detail::credentialFailure(handle)) return RD_KAFKA_RESP_ERR__AUTHENTICATION;
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT) return err;
    if (stopRequested(stop) || std::chrono::steady_clock::now() >= deadline) return err;
  }
}

}  // namespace

AdminClient::AdminClient(const ClientConfig& config, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  // A consumer-type handle with a group of its own, never subscribed: librdkafka 2.15.1 answers a
  // NOT_COORDINATOR reply to ListConsumerGroupOffsets by poking the handle's consumer group, which
  // a producer-type handle lacks (a NULL dereference). With one, it re-queries and retries instead.
  // The user's producer properties (ebb produce --tune) do not apply to it: left out.
  handle_.reset(detail::createHandle(
      RD_KAFKA_CONSUMER,
      detail::makeConf(
          config, {{"group.id", "ebb-admin-" + config.clientId}, {"group.protocol", "classic"}},
          RD_KAFKA_CONSUMER)));
}

AdminClient::~AdminClient() = default;

void AdminClient::Destroy::operator()(rd_kafka_s* handle) const { rd_kafka_destroy(handle); }

void AdminClient::createTopic(const TopicSpec& spec) {
  const std::string what = "cannot create topic '" + spec.name + "'";
  std::array<char, 512> reason{};
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
      spec.name.c_str(), spec.partitions, spec.replicationFactor, reason.data(), reason.size());
  if (topic == nullptr) throw KafkaError(what + ": " + reason.data());
  std::unique_ptr<rd_kafka_NewTopic_t, decltype(&rd_kafka_NewTopic_destroy)> owned(
      topic, rd_kafka_NewTopic_destroy);
  for (const auto& [key, value] : spec.configs) {
    if (const auto err = rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str()); err) {
      throw KafkaError(what + ": config " + key + ": " + rd_kafka_err2str(err));
    }
  }
  Request request(handle_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_, stop_);
  rd_kafka_CreateTopics(handle_.get(), &topic, 1, request.options(), request.queue());
  auto event = request.await(what);
  size_t count = 0;
  const auto** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  throwIfAnyTopicFailed(results, count, what);
  waitUntilUsable(spec);
}

// The controller answers CreateTopics before every broker's metadata cache has the topic; wait
// until it is visible with a leader for each partition, so the caller can use it at once.
void AdminClient::waitUntilUsable(const TopicSpec& spec) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    try {
      const auto topic = metadata(spec.name).topics.front();
      const bool led = std::all_of(topic.partitions.begin(), topic.partitions.end(),
                                   [](const PartitionInfo& p) { return p.leader >= 0; });
      const bool complete =
          spec.partitions <= 0 || topic.partitions.size() == static_cast<size_t>(spec.partitions);
      if (led && complete) return;
    } catch (const KafkaError&) {
      // not visible yet
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw KafkaError("topic '" + spec.name + "' was created but has no leaders after " +
                       std::to_string(timeout_.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TopicInfo AdminClient::topic(const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + std::min(timeout_, kTopicPropagation);
  while (true) {
    try {
      return metadata(name).topics.front();
    } catch (const KafkaError& e) {
      const bool unknown = e.error().code() == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      if (!unknown || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void AdminClient::deleteTopic(const std::string& name) {
  const std::string what = "cannot delete topic '" + name + "'";
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
  std::unique_ptr<rd_kafka_DeleteTopic_t, decltype(&rd_kafka_DeleteTopic_destroy)> owned(
      topic, rd_kafka_DeleteTopic_destroy);
  Request request(handle_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout_, stop_);
  rd_kafka_DeleteTopics(handle_.get(), &topic, 1, request.options(), request.queue());
  auto event = request.await(what);
  size_t count = 0;
  const auto** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  throwIfAnyTopicFailed(results, count, what);
}

ClusterMetadata AdminClient::metadata(const std::string& topic) {
  const rd_kafka_metadata_t* raw = nullptr;
  // A named topic is asked for alone: a lag reading runs this every interval, and a request for
  // every topic costs the broker (and the answer's size) in proportion to the cluster.
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> only(
      topic.empty() ? nullptr : rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr),
      rd_kafka_topic_destroy);
  if (const auto err = fetchMetadata(handle_.get(), only.get(), &raw, timeout_, stop_); err) {
    if (const auto failure = detail::credentialFailure(handle_.get())) {
      throw KafkaError("cannot fetch cluster metadata: " + *failure +
                           " (check the credentials, security.protocol and ssl.ca.location)",
                       detail::toError(RD_KAFKA_RESP_ERR__AUTHENTICATION));
    }
    throw KafkaError(std::string("cannot fetch cluster metadata: ") + rd_kafka_err2str(err) +
                         " (is bootstrap.servers right and the cluster up?)",
                     detail::toError(err));
  }
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDestroy> owned(raw);
  ClusterMetadata result;
  if (char* id = rd_kafka_clusterid(handle_.get(), toInt(timeout_)); id != nullptr) {
    result.clusterId = id;
    rd_kafka_mem_free(handle_.get(), id);
  }
  result.controllerId = rd_kafka_controllerid(handle_.get(), toInt(timeout_));
  for (int i = 0; i < raw->broker_cnt; ++i) {
    result.brokers.push_back({raw->brokers[i].id, raw->brokers[i].host, raw->brokers[i].port});
  }
  for (int t = 0; t < raw->topic_cnt; ++t) {
    const auto& rawTopic = raw->topics[t];
    if (!topic.empty() && topic != rawTopic.topic) continue;
    if (rawTopic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;  // thrown below
    if (rawTopic.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError("cannot fetch the metadata of topic '" + std::string(rawTopic.topic) +
                           "': " + rd_kafka_err2str(rawTopic.err),
                       detail::toError(rawTopic.err));
    }
    TopicInfo info{rawTopic.topic, {}, isInternalTopic(rawTopic.topic)};
    for (int p = 0; p < rawTopic.partition_cnt; ++p) {
      const auto& part = rawTopic.partitions[p];
      info.partitions.push_back(
          {part.id, part.leader,
           std::vector<int32_t>(part.replicas, part.replicas + part.replica_cnt),
           std::vector<int32_t>(part.isrs, part.isrs + part.isr_cnt)});
    }
    result.topics.push_back(std::move(info));
  }
  if (!topic.empty() && result.topics.empty()) {
    throw KafkaError("unknown topic '" + topic + "' (create it first, or check the name)",
                     detail::toError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
  }
  return result;
}

GroupDescription AdminClient::describeGroup(const std::string& groupId) {
  const std::string what = "cannot describe group '" + groupId + "'";
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (std::chrono::milliseconds backoff{50};; backoff = std::min(2 * backoff, kMaxBackoff)) {
    Request request(handle_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_, stop_);
    const char* groups[] = {groupId.c_str()};
    rd_kafka_DescribeConsumerGroups(handle_.get(), groups, 1, request.options(), request.queue());
    auto event = request.await(what);
    size_t count = 0;
    const auto** results = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(event.get()), &count);
    if (count != 1) throw KafkaError(what + ": unexpected answer");
    const auto* error = rd_kafka_ConsumerGroupDescription_error(results[0]);
    if (error != nullptr && coordinatorNotReady(error) && !stopRequested(stop_) &&
        std::chrono::steady_clock::now() + backoff < deadline) {
      std::this_thread::sleep_for(backoff);
      continue;
    }
    throwIfFailed(error, what);
    return toGroupDescription(groupId, results[0]);
  }
}

std::map<TopicPartition, int64_t> AdminClient::listGroupOffsets(const std::string& groupId) {
  const std::string what = "cannot list committed offsets of group '" + groupId + "'";
  Request request(handle_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_, stop_);
  rd_kafka_ListConsumerGroupOffsets_t* query =
      rd_kafka_ListConsumerGroupOffsets_new(groupId.c_str(), nullptr);
  std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t,
                  decltype(&rd_kafka_ListConsumerGroupOffsets_destroy)>
      owned(query, rd_kafka_ListConsumerGroupOffsets_destroy);
  rd_kafka_ListConsumerGroupOffsets(handle_.get(), &query, 1, request.options(), request.queue());
  auto event = request.await(what);
  size_t count = 0;
  const auto** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
  if (count != 1) throw KafkaError(what + ": unexpected answer");
  throwIfFailed(rd_kafka_group_result_error(results[0]), what);
  std::map<TopicPartition, int64_t> offsets;
  const auto* list = rd_kafka_group_result_partitions(results[0]);
  for (int i = 0; list != nullptr && i < list->cnt; ++i) addOffset(offsets, list->elems[i], what);
  return offsets;
}

std::map<TopicPartition, int64_t> AdminClient::listOffsets(
    const std::vector<TopicPartition>& partitions, OffsetSpec spec) {
  const std::string what = "cannot list offsets";
  if (partitions.empty()) return {};
  detail::TopicPartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
        spec == OffsetSpec::kEarliest ? RD_KAFKA_OFFSET_SPEC_EARLIEST : RD_KAFKA_OFFSET_SPEC_LATEST;
  }
  // 100 + 200 + 400 + 800 ms: enough for a new topic's leaders or a moved leader to become known.
  constexpr int kRetries = 4;
  for (int attempt = 0;; ++attempt) {
    Request request(handle_.get(), RD_KAFKA_ADMIN_OP_LISTOFFSETS, timeout_, stop_);
    rd_kafka_ListOffsets(handle_.get(), list.get(), request.options(), request.queue());
    auto event = request.await(what);
    size_t count = 0;
    const auto** infos =
        rd_kafka_ListOffsets_result_infos(rd_kafka_event_ListOffsets_result(event.get()), &count);
    bool inFlux = false;
    for (size_t i = 0; i < count; ++i) {
      inFlux |= leadershipInFlux(rd_kafka_ListOffsetsResultInfo_topic_partition(infos[i])->err);
    }
    if (inFlux && attempt < kRetries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      continue;
    }
    std::map<TopicPartition, int64_t> offsets;
    for (size_t i = 0; i < count; ++i) {
      addOffset(offsets, *rd_kafka_ListOffsetsResultInfo_topic_partition(infos[i]), what);
    }
    return offsets;
  }
}

namespace {

using ConfigResourcePtr =
    std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)>;

ConfigResourcePtr groupResource(const std::string& groupId) {
  return {rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_GROUP, groupId.c_str()),
          rd_kafka_ConfigResource_destroy};
}

void throwIfResourceFailed(const rd_kafka_ConfigResource_t* resource, const std::string& what) {
  if (const auto err = rd_kafka_ConfigResource_error(resource); err) {
    const char* reason = rd_kafka_ConfigResource_error_string(resource);
    throw KafkaError(what + ": " + (reason != nullptr && *reason ? reason : rd_kafka_err2str(err)),
                     detail::toError(err));
  }
}

}  // namespace

std::map<std::string, ConfigValue> AdminClient::groupConfig(const std::string& groupId) {
  const std::string what = "cannot read the configuration of group '" + groupId + "'";
  auto resource = groupResource(groupId);
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  Request request(handle_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_, stop_);
  rd_kafka_DescribeConfigs(handle_.get(), resources, 1, request.options(), request.queue());
  auto event = request.await(what);
  size_t count = 0;
  const auto** results = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  if (count != 1) throw KafkaError(what + ": unexpected answer");
  throwIfResourceFailed(results[0], what);
  size_t entries = 0;
  const auto** configs = rd_kafka_ConfigResource_configs(results[0], &entries);
  std::map<std::string, ConfigValue> values;
  for (size_t i = 0; i < entries; ++i) {
    const char* value = rd_kafka_ConfigEntry_value(configs[i]);
    values[rd_kafka_ConfigEntry_name(configs[i])] = {
        value != nullptr ? value : "", rd_kafka_ConfigEntry_is_default(configs[i]) != 0};
  }
  return values;
}

void AdminClient::setGroupConfig(const std::string& groupId, const std::string& key,
                                 const std::string& value) {
  const std::string what = "cannot set " + key + " of group '" + groupId + "'";
  auto resource = groupResource(groupId);
  const detail::ErrorPtr added(rd_kafka_ConfigResource_add_incremental_config(
      resource.get(), key.c_str(), RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, value.c_str()));
  throwIfFailed(added.get(), what);
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  Request request(handle_.get(), RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS, timeout_, stop_);
  rd_kafka_IncrementalAlterConfigs(handle_.get(), resources, 1, request.options(), request.queue());
  auto event = request.await(what);
  size_t count = 0;
  const auto** results = rd_kafka_IncrementalAlterConfigs_result_resources(
      rd_kafka_event_IncrementalAlterConfigs_result(event.get()), &count);
  if (count != 1) throw KafkaError(what + ": unexpected answer");
  throwIfResourceFailed(results[0], what);
}

}  // namespace ebb::kafka
