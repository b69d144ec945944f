#include "ebb/service/producer_service.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/producer.h"
#include "ebb/lag/partition_lag.h"
#include "ebb/latency/envelope.h"
#include "ebb/load/keys.h"
#include "ebb/load/pacer.h"
#include "ebb/load/profile.h"
#include "ebb/metrics/families.h"
#include "ebb/metrics/latency_histogram.h"

namespace ebb::service {
namespace {

using Clock = std::chrono::steady_clock;

int64_t steadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Most messages one pass of the loop sends before serving delivery reports again.
constexpr uint64_t kMaxBurst = 1024;

// Delivery reports are served on the producing thread (inside poll), so plain counters suffice.
// The token of each message is its send time on the steady clock.
class DeliveryCounter final : public kafka::DeliveryHandler {
 public:
  void onDelivery(const kafka::Delivery& delivery) noexcept override {
    if (delivery.error) {
      ++failed;
      try {
        ++failuresByReason[delivery.error.message()];
      } catch (...) {  // counting a reason must not take the process down
      }
      return;
    }
    ++acknowledged;
    const int64_t latency = steadyNanos() - static_cast<int64_t>(delivery.token);
    ackLatency.record(latency);
    exported.add(latency);
  }
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  std::map<std::string, uint64_t> failuresByReason;
  latency::Histogram ackLatency;
  metrics::LatencyHistogram::Batch exported;  // not yet in the Prometheus histogram
};

// Reads the lag of the steering group in the background, so the hot loop never waits on the admin
// API; the loop picks up a new reading when one is there.
class LagWatcher {
 public:
  LagWatcher(const kafka::ClientConfig& config, std::string group, std::string topic,
             int32_t partitions, std::chrono::milliseconds every)
      : admin_(config, std::chrono::seconds(10)),
        thread_([this, group = std::move(group), topic = std::move(topic), partitions,
                 every](const std::stop_token& stop) {
          while (!stop.stop_requested()) {
            try {
              const auto offsets = lag::readPartitionOffsets(admin_, group, topic, partitions);
              std::vector<int64_t> lags;
              for (const auto& partition : offsets) lags.push_back(partition.lag());
              std::lock_guard lock(mutex_);
              latest_ = std::move(lags);
              fresh_.store(true, std::memory_order_release);
            } catch (const std::exception& error) {
              spdlog::warn("lag-aware: cannot read the lag of group '{}': {}", group, error.what());
            }
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, stop, every, [] { return false; });
          }
        }) {}

  // A new reading since the last call, if any.
  std::optional<std::vector<int64_t>> take() {
    if (!fresh_.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(mutex_);
    fresh_.store(false, std::memory_order_relaxed);
    return std::move(latest_);
  }

 private:
  kafka::AdminClient admin_;
  std::mutex mutex_;
  std::vector<int64_t> latest_;
  std::atomic<bool> fresh_{false};
  std::condition_variable_any wake_;  // interrupted by the jthread's stop request
  std::jthread thread_;
};

struct Metrics {
  explicit Metrics(prometheus::Registry& registry, const std::string& topic)
      : sent(metrics::counter(registry, "ebb_producer_messages_sent_total",
                              "Messages handed to the Kafka client", {{"topic", topic}})),
        acknowledged(metrics::counter(registry, "ebb_producer_messages_acknowledged_total",
                                      "Messages the broker acknowledged", {{"topic", topic}})),
        failed(metrics::counter(registry, "ebb_producer_messages_failed_total",
                                "Messages whose delivery failed", {{"topic", topic}})),
        targetRate(metrics::gauge(registry, "ebb_producer_target_rate_messages_per_second",
                                  "The load profile's rate right now", {{"topic", topic}})),
        ackLatency(registry, "ebb_producer_ack_latency_seconds", "Send-to-acknowledgement latency",
                   {{"topic", topic}}) {}
  prometheus::Counter& sent;
  prometheus::Counter& acknowledged;
  prometheus::Counter& failed;
  prometheus::Gauge& targetRate;
  metrics::LatencyHistogram ackLatency;
};

}  // namespace

std::map<std::string, std::string> tunePreset(std::string_view name) {
  if (name == "latency") {
    // The default's self-clocking window (one request in flight per connection, no linger, Nagle
    // off), idempotent with acks=all: measured against acks=1 without idempotence (3 interleaved
    // runs, keyed 12 partitions, 1k and 10k msg/s) the weaker acknowledgement bought no latency on
    // the spread, so the preset keeps the default's guarantees and is never worse than it.
    return {{"linger.ms", "0"},
            {"max.in.flight.requests.per.connection", "1"},
            {"socket.nagle.disable", "true"}};
  }
  if (name == "throughput") {
    return {{"linger.ms", "20"},
            {"batch.size", "1000000"},
            {"batch.num.messages", "100000"},
            {"compression.type", "lz4"},
            {"acks", "1"}};
  }
  throw std::invalid_argument("unknown --tune preset '" + std::string(name) +
                              "' (use latency or throughput)");
}

struct ProducerService::Impl {
  ProducerOptions options;
  kafka::ClientConfig config;
  std::unique_ptr<load::Profile> profile;
  std::unique_ptr<load::KeyGenerator> keys;
  std::unique_ptr<partition::Partitioner> partitioner;
  int32_t partitions = 0;
  Metrics metrics;
  DeliveryCounter deliveries;
  kafka::Producer producer;

  Impl(const kafka::ClientConfig& clientConfig, ProducerOptions producerOptions,
       prometheus::Registry& registry)
      : options(std::move(producerOptions)),
        config(clientConfig),
        profile(load::parseProfile(options.profile, options.rate)),
        keys(load::parseKeys(options.keys, options.partitionerOptions.seed)),
        partitioner(partition::makePartitioner(options.partitioner, options.partitionerOptions)),
        metrics(registry, options.topic),
        producer(clientConfig, &deliveries, options.connections) {}
};

ProducerService::ProducerService(const kafka::ClientConfig& config, ProducerOptions options,
                                 std::shared_ptr<prometheus::Registry> registry) {
  if (options.topic.empty()) throw std::invalid_argument("a topic is needed (-t/--topic)");
  if (options.rate < 0) throw std::invalid_argument("--rate must not be negative");
  if (options.partitioner == "lag-aware" && options.lagGroup.empty()) {
    throw std::invalid_argument("--partitioner lag-aware needs --lag-group GROUP to watch");
  }
  impl_ = std::make_unique<Impl>(config, std::move(options), *registry);
  kafka::AdminClient admin(config, std::chrono::seconds(10));
  impl_->partitions = static_cast<int32_t>(admin.topic(impl_->options.topic).partitions.size());
}

ProducerService::~ProducerService() = default;

// One run of the producer: the pacing loop and its steps, over the service's client and state.
class SendLoop {
 public:
  SendLoop(ProducerService::Impl& impl, const std::atomic<bool>& stop)
      : impl_(impl),
        options_(impl.options),
        stop_(stop),
        duration_(options_.durationSeconds ? options_.durationSeconds : impl.profile->duration()),
        limit_(options_.count.value_or(UINT64_MAX)),
        payload_(options_.payloadBytes, 'e'),
        pacer_(*impl.profile),
        // --rate 0 with the constant profile: as fast as the client takes messages.
        unpaced_(options_.profile == "constant" && options_.rate == 0),
        lagAware_(dynamic_cast<partition::LagAwarePartitioner*>(impl.partitioner.get())) {
    if (lagAware_ != nullptr) {
      lagWatcher_.emplace(impl.config, options_.lagGroup, options_.topic, impl.partitions,
                          options_.lagRefresh);
    }
  }

  ProducerSummary run() {
    while (!stopping() && summary_.sent < limit_) {
      const int64_t now = steadyNanos();
      const int64_t elapsed = now - startNanos_;
      if (pastDuration(elapsed)) break;
      if (lagWatcher_) {
        if (auto lags = lagWatcher_->take()) lagAware_->updateLag(*lags);
      }
      const uint64_t due = std::min(
          {unpaced_ ? kMaxBurst : pacer_.allowed(elapsed), limit_ - summary_.sent, kMaxBurst});
      const uint64_t sentBefore = summary_.sent;
      for (uint64_t i = 0; i < due && sendOne(now); ++i) ++summary_.sent;
      pacer_.sent(summary_.sent - sentBefore);
      impl_.producer.poll(std::chrono::milliseconds(0));
      refreshMetrics(elapsed);
      if (due == 0) waitForNext();
    }
    return finish();
  }

 private:
  bool stopping() const { return stop_.load(std::memory_order_relaxed); }
  bool pastDuration(int64_t elapsed) const {
    return duration_ && static_cast<double>(elapsed) >= *duration_ * 1e9;
  }

  // Hands one message to the client. False when the queue stays full until the run ends (stop or
  // --duration); a send error other than a full queue throws.
  bool sendOne(int64_t now) {
    const auto key = impl_.keys->next();
    const int32_t partition = impl_.partitioner->partition({key, impl_.partitions, now});
    const latency::DecimalField seq(static_cast<int64_t>(summary_.sent));
    const latency::DecimalField sentAt(latency::epochNanos());
    const kafka::Header headers[] = {{latency::kSeqHeader, seq.view()},
                                     {latency::kSendTimeHeader, sentAt.view()},
                                     {latency::kProducerHeader, options_.producerId}};
    kafka::Error error;
    while ((error = impl_.producer.send(options_.topic, partition, key, payload_, headers,
                                        static_cast<uint64_t>(steadyNanos()))) &&
           kafka::isQueueFull(error) && !stopping() && !pastDuration(steadyNanos() - startNanos_)) {
      // The broker does not keep up (or is gone): wait for room, still ending on time and still
      // publishing metrics (they show the stall instead of freezing).
      ++summary_.queueFullRetries;
      impl_.producer.poll(std::chrono::milliseconds(1));
      refreshMetrics(steadyNanos() - startNanos_);
    }
    if (!error) return true;
    if (kafka::isQueueFull(error)) return false;
    throw kafka::KafkaError("cannot send to '" + options_.topic + "': " + error.message(), error);
  }

  // Ahead of schedule: wait for the next message, serving delivery reports meanwhile.
  void waitForNext() {
    const auto wait =
        std::min<int64_t>(pacer_.nanosUntilNext(steadyNanos() - startNanos_), 1'000'000);
    if (wait >= 1'000'000) {
      impl_.producer.poll(std::chrono::milliseconds(1));
    } else if (wait > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }

  void refreshMetrics(int64_t elapsed) {
    if (Clock::now() < nextMetrics_) return;
    impl_.metrics.targetRate.Set(impl_.profile->rateAt(static_cast<double>(elapsed) / 1e9));
    publishMetrics();
    nextMetrics_ = std::max(nextMetrics_ + std::chrono::seconds(1), Clock::now());
  }

  void publishMetrics() {
    auto& deliveries = impl_.deliveries;
    impl_.metrics.sent.Increment(static_cast<double>(summary_.sent - reportedSent_));
    impl_.metrics.acknowledged.Increment(
        static_cast<double>(deliveries.acknowledged - reportedAcked_));
    impl_.metrics.failed.Increment(static_cast<double>(deliveries.failed - reportedFailed_));
    reportedSent_ = summary_.sent;
    reportedAcked_ = deliveries.acknowledged;
    reportedFailed_ = deliveries.failed;
    impl_.metrics.ackLatency.publish(deliveries.exported);
  }

  // Flushes what is in flight and fills the summary from the delivery reports.
  ProducerSummary finish() {
    auto& producer = impl_.producer;
    if (!producer.flush(options_.flushTimeout)) {
      spdlog::warn("{} messages still unacknowledged after {} ms", producer.outstanding(),
                   options_.flushTimeout.count());
    }
    const auto outstanding = static_cast<uint64_t>(producer.outstanding());
    summary_.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start_).count();
    summary_.acknowledged = impl_.deliveries.acknowledged;
    summary_.failed = impl_.deliveries.failed + outstanding;
    summary_.failuresByReason = impl_.deliveries.failuresByReason;
    if (outstanding > 0) summary_.failuresByReason["unacknowledged at exit"] += outstanding;
    summary_.ackLatency = impl_.deliveries.ackLatency;
    publishMetrics();
    return summary_;
  }

  ProducerService::Impl& impl_;
  const ProducerOptions& options_;
  const std::atomic<bool>& stop_;
  const std::optional<double> duration_;
  const uint64_t limit_;
  const std::string payload_;
  load::Pacer pacer_;
  const bool unpaced_;
  partition::LagAwarePartitioner* lagAware_;
  std::optional<LagWatcher> lagWatcher_;
  ProducerSummary summary_;
  uint64_t reportedSent_ = 0, reportedAcked_ = 0, reportedFailed_ = 0;
  const Clock::time_point start_ = Clock::now();
  Clock::time_point nextMetrics_ = start_;
  const int64_t startNanos_ = steadyNanos();
};

ProducerSummary ProducerService::run(const std::atomic<bool>& stop) {
  return SendLoop(*impl_, stop).run();
}

}  // namespace ebb::service
