// A share group member (KIP-932, "queues for Kafka"): the members of a share group fetch from the
// same partitions; each poll acquires a batch of records under a time-limited lock, and every
// record is acknowledged explicitly: accepted once processed, released for another delivery, or
// rejected for good. Members joining or leaving hand nothing over; order per key is not kept.
// Built on librdkafka's share consumer (a preview C API).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ebb/kafka/client_config.h"
#include "ebb/kafka/error.h"
#include "ebb/kafka/message.h"

struct rd_kafka_share_s;

namespace ebb::kafka {

enum class Acknowledgement { kAccept, kRelease, kReject };

std::string_view toString(Acknowledgement type);

struct ShareConsumerOptions {
  std::string groupId;
};

// The broker has share groups off or does not know them (a call failed with this error): the
// message says which feature level is needed and how to turn it on.
bool isShareGroupsUnavailable(const Error& error);
std::string shareGroupsUnavailableHint();

class ShareConsumer {
 public:
  ShareConsumer(const ClientConfig& config, const ShareConsumerOptions& options);
  ShareConsumer(const ShareConsumer&) = delete;
  ShareConsumer& operator=(const ShareConsumer&) = delete;
  // Closes (sends pending acknowledgements, leaves the group) if close() was not called.
  ~ShareConsumer();

  // Joins the share group for these topics; the broker decides which partitions this member
  // fetches from, at its next heartbeat.
  void subscribe(const std::vector<std::string>& topics);
  // Appends the next batch of acquired records to `records` (nothing when the timeout passed
  // first). Every record of the previous batch must have been acknowledged. Record-level errors
  // arrive as records with an error; the call's own failure is the returned error.
  Error poll(std::chrono::milliseconds timeout, std::vector<Message>& records);
  // Acknowledges one record of the last batch; sent with the next poll or commit.
  Error acknowledge(const std::string& topic, int32_t partition, int64_t offset,
                    Acknowledgement type);
  // Sends the pending acknowledgements and waits for the broker's answer: the first partition's
  // failure, if any.
  Error commitSync(std::chrono::milliseconds timeout);
  // Sends pending acknowledgements and leaves the group. Idempotent.
  Error close();

 private:
  struct Destroy {
    void operator()(rd_kafka_share_s* handle) const;
  };
  std::unique_ptr<rd_kafka_share_s, Destroy> handle_;
  bool closed_ = false;
};

}  // namespace ebb::kafka
