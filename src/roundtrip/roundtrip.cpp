#include "ebb/roundtrip/roundtrip.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <charconv>
#include <string>
#include <thread>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/producer.h"
#include "ebb/latency/envelope.h"

namespace ebb::roundtrip {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kProducerId = "roundtrip";

// Delivery reports arrive on the producing thread (inside poll), so no locking is needed.
class AckRecorder final : public kafka::DeliveryHandler {
 public:
  explicit AckRecorder(uint64_t messages) : sendTimes_(messages, 0) {}
  void sent(uint64_t seq, int64_t nanos) { sendTimes_[seq] = nanos; }
  void onDelivery(const kafka::Delivery& delivery) noexcept override {
    if (delivery.error) {
      if (failed_++ == 0) spdlog::error("delivery failed: {}", delivery.error.message());
      return;
    }
    ++acknowledged_;
    latency_.record(latency::epochNanos() - sendTimes_[delivery.token]);
  }
  uint64_t acknowledged() const { return acknowledged_; }
  uint64_t failed() const { return failed_; }
  const latency::Histogram& latency() const { return latency_; }

 private:
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
        lastReceived_ = Clock::now();
      }
    }
    consumer_.markProcessed(message);
  }

  std::vector<bool> seen_;
  kafka::Consumer consumer_;
  std::atomic<bool> assigned_{false};
  std::atomic<bool> done_{false};
  uint64_t consumed_ = 0;
  uint64_t duplicates_ = 0;
  Clock::time_point lastReceived_{};
  latency::Histogram latency_;
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

// The producing half: a ready producer, paced sends, the flush, and the requests they became.
// Fills sent, produceSeconds and produceRequests; returns the time of the first send.
Clock::time_point produce(const kafka::ClientConfig& config, const Options& options,
                          Clock::time_point deadline, AckRecorder& acks, Result& result) {
  // Statistics count the ProduceRequests: how many requests the load became. Once a second: each
  // reading is a JSON document parsed on this, the sending, thread.
  constexpr auto kStatisticsInterval = std::chrono::seconds(1);
  auto producerConfig = config;
  producerConfig.properties.try_emplace(
      "statistics.interval.ms",
      std::to_string(std::chrono::milliseconds(kStatisticsInterval).count()));
  kafka::Producer producer(producerConfig, &acks);
  // An idempotent producer sends nothing before the broker gave it a producer id: wait for that
  // (seconds on a cluster whose coordinator is still loading), so latency counts from ready.
  if (producer.idempotent()) {
    serveUntil(
        producer, [&] { return producer.statistics().idempotenceState == "Assigned"; },
        std::min(deadline, Clock::now() + std::chrono::seconds(30)));
  }
  const std::string payload(options.payloadBytes, 'x');
  KeyBuffer key;
  const auto start = Clock::now();
  for (uint64_t seq = 0; seq < options.messages && Clock::now() < deadline; ++seq) {
    if (options.rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<int64_t>(
                                                1e9 * static_cast<double>(seq) / options.rate)));
    }
    const int64_t now = latency::epochNanos();
    const latency::DecimalField seqField(static_cast<int64_t>(seq));
    const latency::DecimalField timeField(now);
    const kafka::Header headers[] = {{latency::kSeqHeader, seqField.view()},
                                     {latency::kSendTimeHeader, timeField.view()},
                                     {latency::kProducerHeader, kProducerId}};
    acks.sent(seq, now);
    const auto keyView =
        options.keys > 0 ? std::optional(key.format(seq % options.keys)) : std::nullopt;
    kafka::Error error;
    // A full local queue is back-pressure: serve delivery reports and try again.
    while ((error = producer.send(options.topic, kafka::kAnyPartition, keyView, payload, headers,
                                  seq)) &&
           kafka::isQueueFull(error)) {
      producer.poll(std::chrono::milliseconds(1));
    }
    if (error)
      throw kafka::KafkaError("cannot send to '" + options.topic + "': " + error.message());
    ++result.sent;
    producer.poll(std::chrono::milliseconds(0));
  }
  producer.flush(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  result.produceSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Two more statistics readings after the last acknowledgement: the second was taken after it, so
  // it counts every request.
  const auto readings = producer.statistics().readings;
  serveUntil(
      producer, [&] { return producer.statistics().readings > readings + 1; },
      std::min(deadline, Clock::now() + 2 * kStatisticsInterval + std::chrono::milliseconds(500)));
  result.produceRequests = producer.statistics().produceRequests;

  return start;
}

}  // namespace

Result run(const kafka::ClientConfig& config, const Options& options) {
  const auto deadline = Clock::now() + options.timeout;
  kafka::AdminClient admin(
      config, std::min<std::chrono::milliseconds>(options.timeout, std::chrono::seconds(15)));
  if (options.createTopic) {
    admin.createTopic({.name = options.topic, .partitions = options.partitions});
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
  const auto start = produce(config, options, deadline, acks, result);
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
  return result;
}

}  // namespace ebb::roundtrip
