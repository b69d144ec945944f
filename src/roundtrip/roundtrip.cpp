#include "ebb/roundtrip/roundtrip.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/producer.h"
#include "ebb/latency/envelope.h"
#include "ebb/partition/partitioner.h"

namespace ebb::roundtrip {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kProducerId = "roundtrip";

// The token of warm-up messages: acknowledged, but neither counted nor timed.
constexpr uint64_t kWarmupToken = std::numeric_limits<uint64_t>::max();

// Delivery reports are served by a thread of their own while the sender paces (so each is timed
// when it arrives, not at the next send), and by the sending thread before and after: locked.
class AckRecorder final : public kafka::DeliveryHandler {
 public:
  explicit AckRecorder(uint64_t messages) : sendTimes_(messages, 0) {}
  void sent(uint64_t seq, int64_t nanos) { sendTimes_[seq] = nanos; }
  void onDelivery(const kafka::Delivery& delivery) noexcept override {
    const int64_t now = latency::epochNanos();
    const std::scoped_lock lock(mutex_);
    if (delivery.error) {
      if (failed_++ == 0) spdlog::error("delivery failed: {}", delivery.error.message());
      return;
    }
    if (delivery.token == kWarmupToken) return;
    ++acknowledged_;
    latency_.record(now - sendTimes_[delivery.token]);
  }
  // Read once the producer is gone.
  uint64_t acknowledged() const { return acknowledged_; }
  uint64_t failed() const { return failed_; }
  const latency::Histogram& latency() const { return latency_; }

 private:
  std::mutex mutex_;
  std::vector<int64_t> sendTimes_;
  uint64_t acknowledged_ = 0;
  uint64_t failed_ = 0;
  latency::Histogram latency_;
};

// Consumes on its own thread until every message was seen once or it is told to stop.
class Receiver {
 public:
  Receiver(const kafka::ClientConfig& config, const Options& options)
      : seen_(options.messages, false),
        consumer_(config, kafka::ConsumerOptions{.groupId = "ebb-roundtrip-" + options.topic,
                                                 .protocol = options.protocol}) {
    consumer_.subscribe({options.topic});
  }

  void run(const std::stop_token& stop, size_t partitions) {
    while (!stop.stop_requested() && consumed_ < seen_.size()) {
      auto message = consumer_.poll(std::chrono::milliseconds(100));
      if (!assigned_.load(std::memory_order_relaxed) &&
          consumer_.assignedPartitions() >= partitions) {
        assigned_.store(true);
      }
      if (!message) continue;
      if (message->isError()) {
        spdlog::warn("consumer: {}", message->error().message());
        continue;
      }
      handle(*message);
    }
    if (const auto error = consumer_.close()) spdlog::warn("consumer close: {}", error.message());
    done_.store(true);
  }

  bool assigned() const { return assigned_.load(); }
  bool done() const { return done_.load(); }
  uint64_t consumed() const { return consumed_; }
  uint64_t duplicates() const { return duplicates_; }
  Clock::time_point lastReceived() const { return lastReceived_; }
  const latency::Histogram& latency() const { return latency_; }
  const latency::Histogram& toBroker() const { return toBroker_; }
  const latency::Histogram& fromBroker() const { return fromBroker_; }

 private:
  void handle(const kafka::Message& message) {
    const int64_t now = latency::epochNanos();
    const auto envelope = latency::parseEnvelope(message.header(latency::kSeqHeader),
                                                 message.header(latency::kSendTimeHeader),
                                                 message.header(latency::kProducerHeader));
    if (envelope && envelope->producerId == kProducerId && envelope->seq < seen_.size()) {
      if (seen_[envelope->seq]) {
        ++duplicates_;
      } else {
        seen_[envelope->seq] = true;
        ++consumed_;
        latency_.record(now - envelope->sendTimeNanos);
        recordHalves(message, envelope->sendTimeNanos, now);
        lastReceived_ = Clock::now();
      }
    }
    consumer_.markProcessed(message);
  }

  // Producer -> broker and broker -> consumer, split at the broker's append time.
  void recordHalves(const kafka::Message& message, int64_t sentNanos, int64_t receivedNanos) {
    if (message.timestampType() != kafka::TimestampType::kLogAppendTime) return;
    const int64_t appendedNanos = message.timestampMs() * 1'000'000;
    toBroker_.record(std::max<int64_t>(0, appendedNanos - sentNanos));
    fromBroker_.record(std::max<int64_t>(0, receivedNanos - appendedNanos));
  }

  std::vector<bool> seen_;
  kafka::Consumer consumer_;
  std::atomic<bool> assigned_{false};
  std::atomic<bool> done_{false};
  uint64_t consumed_ = 0;
  uint64_t duplicates_ = 0;
  Clock::time_point lastReceived_{};
  latency::Histogram latency_;
  latency::Histogram toBroker_;
  latency::Histogram fromBroker_;
};

// "k<n>" formatted in place: no allocation per message.
class KeyBuffer {
 public:
  std::string_view format(uint64_t n) {
    buffer_[0] = 'k';
    const auto end = std::to_chars(buffer_.data() + 1, buffer_.data() + buffer_.size(), n).ptr;
    return {buffer_.data(), static_cast<size_t>(end - buffer_.data())};
  }

 private:
  std::array<char, 24> buffer_{};
};

template <typename Predicate>
bool waitFor(Predicate done, Clock::time_point deadline) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Serves the producer's callbacks (delivery reports, statistics) until `done` holds or `limit`.
template <typename Predicate>
void serveUntil(kafka::Producer& producer, Predicate done, Clock::time_point limit) {
  while (!done() && Clock::now() < limit) producer.poll(std::chrono::milliseconds(10));
}

// Serves the producer's delivery reports on a thread of its own while the sender paces, so each
// acknowledgement is timed when it arrives. The sender must not poll or flush meanwhile (the
// statistics callback would run on two threads).
class ReportThread {
 public:
  explicit ReportThread(kafka::Producer& producer)
      : thread_([&producer](const std::stop_token& stop) {
          while (!stop.stop_requested()) producer.poll(std::chrono::milliseconds(10));
        }) {}

 private:
  std::jthread thread_;
};

// Sends `count` messages at options.rate (as fast as the client takes them at 0): send(i) sends
// the i-th. Returns the time of the first.
template <typename Send>
Clock::time_point sendPaced(const Options& options, uint64_t count, Clock::time_point deadline,
                            Send send) {
  const auto start = Clock::now();
  for (uint64_t i = 0; i < count && Clock::now() < deadline; ++i) {
    if (options.rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<int64_t>(
                                                1e9 * static_cast<double>(i) / options.rate)));
    }
    send(i);
  }
  return start;
}

// One message; a full local queue is back-pressure: the report thread drains it.
void sendOne(kafka::Producer& producer, const Options& options, uint64_t i, KeyBuffer& key,
             const std::string& payload, std::span<const kafka::Header> headers, uint64_t token) {
  const auto keyView =
      options.keys > 0 ? std::optional(key.format(i % options.keys)) : std::nullopt;
  // A keyed message goes where librdkafka's default partitioner would put it (CRC-32 of the key),
  // named here so that each partition keeps to one of several producer clients.
  const int32_t partition = keyView
                                ? static_cast<int32_t>(partition::crc32(*keyView) %
                                                       static_cast<uint32_t>(options.partitions))
                                : kafka::kAnyPartition;
  kafka::Error error;
  while ((error = producer.send(options.topic, partition, keyView, payload, headers, token)) &&
         kafka::isQueueFull(error)) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (error) throw kafka::KafkaError("cannot send to '" + options.topic + "': " + error.message());
}

// A paced load (sendPaced) with the delivery reports served on their own thread, until every
// message sent has its report (waited for without polling). Returns the time of the first send.
template <typename Send>
Clock::time_point sendAndAwaitReports(kafka::Producer& producer, const Options& options,
                                      uint64_t count, Clock::time_point deadline, Send send) {
  const ReportThread reports(producer);
  const auto start = sendPaced(options, count, deadline, send);
  while (producer.outstanding() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return start;
}

// Serves the producer until a statistics reading newer than the last one (the ProduceRequests
// count is then current); returns that count.
uint64_t currentRequests(kafka::Producer& producer, std::chrono::milliseconds interval,
                         Clock::time_point deadline) {
  const auto readings = producer.statistics().readings;
  serveUntil(
      producer, [&] { return producer.statistics().readings > readings + 1; },
      std::min(deadline, Clock::now() + 2 * interval + std::chrono::milliseconds(500)));
  return producer.statistics().produceRequests;
}

// The producing half: a ready producer, the warm-up, paced sends, and the requests they became.
// Fills sent, produceSeconds and produceRequests; returns the time of the first measured send.
Clock::time_point produce(const kafka::ClientConfig& config, const Options& options,
                          Clock::time_point deadline, AckRecorder& acks, Result& result) {
  // Statistics count the ProduceRequests: how many requests the load became. Once a second: each
  // reading is a JSON document to parse.
  constexpr std::chrono::milliseconds kStatisticsInterval{1000};
  auto producerConfig = config;
  producerConfig.properties.try_emplace("statistics.interval.ms",
                                        std::to_string(kStatisticsInterval.count()));
  kafka::Producer producer(producerConfig, &acks, options.connections);
  // An idempotent producer sends nothing before the broker gave it a producer id: wait for that
  // (seconds on a cluster whose coordinator is still loading), so latency counts from ready.
  if (producer.idempotent()) {
    serveUntil(
        producer, [&] { return producer.statistics().idempotenceState == "Assigned"; },
        std::min(deadline, Clock::now() + std::chrono::seconds(30)));
  }
  const std::string payload(options.payloadBytes, 'x');
  KeyBuffer key;
  uint64_t requestsBefore = 0;
  if (options.warmup > 0) {
    // The same load without the envelope (the receiver skips it), neither counted nor timed: on
    // a new topic the broker's first half second of appends takes tens of ms a request.
    sendAndAwaitReports(producer, options, options.warmup, deadline, [&](uint64_t i) {
      sendOne(producer, options, i, key, payload, {}, kWarmupToken);
    });
    requestsBefore = currentRequests(producer, kStatisticsInterval, deadline);
  }
  const auto start =
      sendAndAwaitReports(producer, options, options.messages, deadline, [&](uint64_t seq) {
        const int64_t now = latency::epochNanos();
        const latency::DecimalField seqField(static_cast<int64_t>(seq));
        const latency::DecimalField timeField(now);
        const kafka::Header headers[] = {{latency::kSeqHeader, seqField.view()},
                                         {latency::kSendTimeHeader, timeField.view()},
                                         {latency::kProducerHeader, kProducerId}};
        acks.sent(seq, now);
        sendOne(producer, options, seq, key, payload, headers, seq);
        ++result.sent;
      });
  result.produceSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.produceRequests =
      currentRequests(producer, kStatisticsInterval, deadline) - requestsBefore;
  return start;
}

}  // namespace

Result run(const kafka::ClientConfig& config, const Options& options) {
  const auto deadline = Clock::now() + options.timeout;
  kafka::AdminClient admin(
      config, std::min<std::chrono::milliseconds>(options.timeout, std::chrono::seconds(15)));
  if (options.createTopic) {
    // Append-time stamps split end-to-end at the broker (producer -> broker, broker -> consumer).
    admin.createTopic({.name = options.topic,
                       .partitions = options.partitions,
                       .configs = {{"message.timestamp.type", "LogAppendTime"}}});
  }
  const auto partitions = admin.topic(options.topic).partitions.size();

  Receiver receiver(config, options);
  // jthread: stopped and joined on every way out, including exceptions.
  std::jthread receiving([&](const std::stop_token& stop) { receiver.run(stop, partitions); });
  // Measure steady state: start sending once the group has handed out every partition.
  if (!waitFor([&] { return receiver.assigned(); }, deadline)) {
    throw kafka::KafkaError("the consumer group did not assign the partitions of '" +
                            options.topic + "' in time");
  }

  AckRecorder acks(options.messages);
  Result result;
  auto sending = options;
  sending.partitions = static_cast<int>(partitions);  // an existing topic's count
  const auto start = produce(config, sending, deadline, acks, result);
  waitFor([&] { return receiver.done(); }, deadline);
  receiving.request_stop();
  receiving.join();

  result.acknowledged = acks.acknowledged();
  result.failed = acks.failed() + (result.sent - acks.acknowledged() - acks.failed());
  result.consumed = receiver.consumed();
  result.duplicates = receiver.duplicates();
  result.totalSeconds =
      std::chrono::duration<double>(std::max(receiver.lastReceived(), start) - start).count();
  result.ackLatency = acks.latency();
  result.endToEndLatency = receiver.latency();
  result.toBrokerLatency = receiver.toBroker();
  result.fromBrokerLatency = receiver.fromBroker();
  return result;
}

}  // namespace ebb::roundtrip
