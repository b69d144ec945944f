// Private to src/kafka: turns a ClientConfig into a librdkafka handle with ebb's logging attached.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/error.h"

namespace ebb::kafka::detail {

struct ConfDestroy {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDestroy>;

struct TopicPartitionListDestroy {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using TopicPartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, TopicPartitionListDestroy>;
// A subscription: every topic, partition unassigned (the group assigns them).
TopicPartitionListPtr subscriptionList(const std::vector<std::string>& topics);

struct ErrorDestroy {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDestroy>;

// Builds a librdkafka config: defaults (ebb's choices for this client kind), then the ClientConfig.
// With `onlyFor`, properties that librdkafka scopes to the other client type are left out: one
// set of properties (-X, -F) serves every client of a command (roundtrip's producer and consumer,
// the admin handles inside produce and consume), each taking what applies to it, without a
// librdkafka CONFWARN per property that does not.
// Throws KafkaError naming the property when librdkafka rejects a key or value.
ConfPtr makeConf(const ClientConfig& config, const std::map<std::string, std::string>& defaults,
                 std::optional<rd_kafka_type_t> onlyFor = std::nullopt);

// The scope of a librdkafka property: 'C' consumer only, 'P' producer only, '*' both; '?' unknown.
// Read from librdkafka's own table (rd_kafka_conf_properties_show), so it matches the linked
// version.
char propertyScope(std::string_view key);

// Creates the client; owns conf on success and on failure.
rd_kafka_t* createHandle(rd_kafka_type_t type, ConfPtr conf);

Error toError(rd_kafka_resp_err_t code);
// An error object librdkafka keeps (part of a result): read, not freed.
Error toError(const rd_kafka_error_t* error);
// An error object librdkafka handed over to the caller: read and freed.
Error takeError(rd_kafka_error_t* error);

// The reason of the client's last authentication (SASL) or TLS handshake failure, if it had one:
// such a failure does not heal by waiting.
std::optional<std::string> credentialFailure(const rd_kafka_t* handle);

}  // namespace ebb::kafka::detail
