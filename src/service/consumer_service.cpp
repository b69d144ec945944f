#include "ebb/service/consumer_service.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/share_consumer.h"
#include "ebb/latency/envelope.h"
#include "ebb/metrics/families.h"
#include "ebb/metrics/latency_histogram.h"
#include "ebb/service/offset_file.h"
#include "ebb/service/orphan_watch.h"
#include "ebb/service/work.h"

namespace ebb::service {
namespace {

using Clock = std::chrono::steady_clock;

// Messages handled between two offset stores / audit flushes: bounds both the syscalls per message
// and how much is redelivered after a crash.
constexpr size_t kMaxBatch = 256;
// Messages waiting for workers before the poll loop waits for them (bounds memory).
constexpr size_t kMaxQueued = 8192;
// Partitions with a histogram of their own (~148 KiB each): 64 cost ~9.5 MiB. A member that owns
// more over its life still measures every message in the group-wide histogram.
constexpr size_t kMaxPartitionHistograms = 64;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One message's measurements, gathered without a lock and recorded per batch under one.
struct Sample {
  int32_t partition;
  int64_t endToEnd;
  int64_t producerToBroker;  // -1: topic without LogAppendTime
  int64_t brokerToConsumer;
};

struct Metrics {
  Metrics(prometheus::Registry& registry, const std::string& group)
      : consumed(metrics::counter(registry, "ebb_consumer_messages_consumed_total",
                                  "Messages processed", {{"group", group}})),
        malformed(metrics::counter(registry, "ebb_consumer_messages_malformed_total",
                                   "Messages without a valid ebb envelope (processed all the same)",
                                   {{"group", group}})),
        rebalances(metrics::counter(registry, "ebb_consumer_rebalances_total",
                                    "Assignment changes seen by this member", {{"group", group}})),
        paused(metrics::counter(registry, "ebb_consumer_rebalance_pause_seconds_total",
                                "Time processing was held up by rebalances", {{"group", group}})),
        strandedRebalances(metrics::counter(
            registry, "ebb_consumer_stranded_partition_rebalances_total",
            "Rebalances this member had the group make because partitions stayed unowned",
            {{"group", group}})),
        assigned(metrics::gauge(registry, "ebb_consumer_assigned_partitions",
                                "Partitions currently assigned to this member",
                                {{"group", group}})),
        accepted(acknowledgements(registry, group, kafka::Acknowledgement::kAccept)),
        released(acknowledgements(registry, group, kafka::Acknowledgement::kRelease)),
        rejected(acknowledgements(registry, group, kafka::Acknowledgement::kReject)),
        redelivered(metrics::counter(registry, "ebb_consumer_redelivered_messages_total",
                                     "Share group records delivered more than once",
                                     {{"group", group}})),
        endToEnd(registry, "ebb_consumer_end_to_end_latency_seconds",
                 "Send-to-processing latency (producer's send to this member's processing)",
                 {{"group", group}}) {}
  prometheus::Counter& consumed;
  prometheus::Counter& malformed;
  prometheus::Counter& rebalances;
  prometheus::Counter& paused;
  prometheus::Counter& strandedRebalances;
  prometheus::Gauge& assigned;
  prometheus::Counter& accepted;
  prometheus::Counter& released;
  prometheus::Counter& rejected;
  prometheus::Counter& redelivered;
  metrics::LatencyHistogram endToEnd;

  static prometheus::Counter& acknowledgements(prometheus::Registry& registry,
                                               const std::string& group,
                                               kafka::Acknowledgement type) {
    return metrics::counter(registry, "ebb_consumer_acknowledgements_total",
                            "Share group acknowledgements sent, by type (accept, release, reject)",
                            {{"group", group}, {"type", std::string(kafka::toString(type))}});
  }
};

// A share group record's fate, decided by whoever handled it and sent by the polling thread (the
// share consumer is used from one thread only). `topic` points into the options' topics.
struct PendingAck {
  const std::string* topic;
  int32_t partition;
  int64_t offset;
  kafka::Acknowledgement type;
};

// A processing thread's reusable buffers for one batch.
struct Scratch {
  std::vector<Sample> samples;
  std::string auditLines;
  std::vector<PendingAck> acks;
  uint64_t redelivered = 0;
  void clear() {
    samples.clear();
    auditLines.clear();
    acks.clear();
    redelivered = 0;
  }
};

// A processing thread with its own queue; a partition always goes to the same worker, so each
// partition is processed in order.
struct WorkerThread {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<kafka::Message> queue;
  bool busy = false;
  std::jthread thread;
};

kafka::KafkaError unknownTopicError(const kafka::Error& error) {
  return kafka::KafkaError(
      "cannot consume: " + error.message() + " (create the topic first, or check the name)", error);
}

kafka::KafkaError fatalConsumerError(const kafka::Error& cause, const ConsumerOptions& options) {
  std::string what = "the consumer cannot go on: " + cause.message();
  if (kafka::isInstanceIdInUse(cause)) {
    what += " (another member still holds --instance-id '" + options.instanceId +
            "'; after a crash the group keeps it until the member's session times out: start "
            "again after that, or use another id)";
  }
  return kafka::KafkaError(what, cause);
}

}  // namespace

struct ConsumerService::Impl final : kafka::RebalanceListener {
  kafka::ClientConfig config;
  ConsumerOptions options;
  WorkSpec work;
  std::optional<std::filesystem::path> offsetFile;
  Metrics metrics;

  // Shared by the processing threads; each takes these locks once per batch.
  std::mutex statsMutex;
  ConsumerSummary summary;
  std::mutex auditMutex;
  std::FILE* audit = nullptr;
  std::FILE* stats = nullptr;
  latency::Histogram interval;     // end-to-end of the current second; guarded by statsMutex
  uint64_t intervalMalformed = 0;  // guarded by statsMutex
  std::mutex offsetsMutex;
  OffsetMap fileOffsets;

  std::vector<std::unique_ptr<WorkerThread>> workers;
  std::mutex drainMutex;
  std::condition_variable drained;
  size_t queued = 0;  // guarded by drainMutex
  // Set when the grace period ran out: workers stop after the message in hand, and what they
  // did not process is neither audited nor stored, so the close commits only finished work.
  std::atomic<bool> abandoned{false};
  const std::atomic<bool>* stopRequested = nullptr;  // a share member's stop flag
  std::optional<Clock::time_point> shareDeadline;    // polling thread: set at the stop
  std::atomic<uint64_t> unprocessed{0};  // messages given up by abandonQueued() and processBatch()

  std::optional<Clock::time_point> firstMessageAt;  // guarded by statsMutex
  std::atomic<bool> joinedGroup{false};
  std::optional<Clock::time_point> pausedSince;
  std::unique_ptr<kafka::Consumer> consumer;            // a consumer group member, or
  std::unique_ptr<kafka::ShareConsumer> shareConsumer;  // a share group member
  std::mutex acksMutex;
  std::vector<PendingAck> acks;  // decided, not yet sent; guarded by acksMutex

  Impl(const kafka::ClientConfig& clusterConfig, const ConsumerOptions& consumerOptions,
       prometheus::Registry& registry)
      : config(clusterConfig),
        options(consumerOptions),
        work(WorkSpec::parse(consumerOptions.work)),
        metrics(registry, consumerOptions.group) {
    if (options.topics.empty()) throw std::invalid_argument("at least one topic is needed (-t)");
    if (options.workers < 1 || options.workers > 256) {
      throw std::invalid_argument("--workers must be between 1 and 256");
    }
    if (share()) refuseConsumerGroupOptions();
    if (options.offsets.starts_with("file:") && options.offsets.size() > 5) {
      offsetFile = options.offsets.substr(5);
      fileOffsets = loadOffsets(*offsetFile);  // fail now on a corrupt file
    } else if (options.offsets != "kafka") {
      throw std::invalid_argument("--offsets must be kafka or file:PATH, got '" + options.offsets +
                                  "'");
    }
    if (!options.auditPath.empty()) {
      audit = std::fopen(options.auditPath.c_str(), "a");
      if (audit == nullptr) {
        throw std::invalid_argument("cannot open the audit file " + options.auditPath);
      }
    }
    if (!options.statsPath.empty()) {
      stats = std::fopen(options.statsPath.c_str(), "a");
      if (stats == nullptr) {
        throw std::invalid_argument("cannot open the stats file " + options.statsPath);
      }
    }
    // Fail at start-up, with the reason, when the cluster is unreachable or a topic is unknown,
    // instead of waiting in the group forever.
    {
      kafka::AdminClient admin(config, options.startupTimeout);
      for (const auto& topic : options.topics) admin.topic(topic);
      if (share()) startShareGroupAtEarliest(admin);
    }
    if (share()) {
      shareConsumer = std::make_unique<kafka::ShareConsumer>(
          config, kafka::ShareConsumerOptions{.groupId = options.group});
    } else {
      createConsumer();
    }
    if (options.workers > 1) {
      for (unsigned i = 0; i < options.workers; ++i) {
        auto worker = std::make_unique<WorkerThread>();
        worker->thread = std::jthread(
            [this, w = worker.get(), i](const std::stop_token& stop) { workerLoop(*w, i, stop); });
        workers.push_back(std::move(worker));
      }
    }
  }

  bool share() const { return options.groupType == kafka::GroupType::kShare; }

  // A share group starts where its share.auto.offset.reset says, `latest` by default: records
  // produced before a share partition's first fetch would never be delivered. Like ebb's
  // consumer groups (auto.offset.reset earliest), a share group nobody configured starts from
  // the earliest record; a value someone set is kept.
  void startShareGroupAtEarliest(kafka::AdminClient& admin) const {
    constexpr const char* kReset = "share.auto.offset.reset";
    try {
      const auto configs = admin.groupConfig(options.group);
      if (const auto it = configs.find(kReset); it != configs.end() && !it->second.isDefault) {
        spdlog::info("share group {}: {}={} (set on the group)", options.group, kReset,
                     it->second.value);
        return;
      }
      admin.setGroupConfig(options.group, kReset, "earliest");
      spdlog::info("share group {}: {}=earliest set on the group (it had none)", options.group,
                   kReset);
    } catch (const kafka::KafkaError& error) {
      spdlog::warn(
          "share group {}: {}; records produced before its first fetch may not be "
          "delivered ({} keeps the broker's default, latest)",
          options.group, error.what(), kReset);
    }
  }

  // What a share group has no use for: its state (what was delivered, acknowledged) lives on the
  // broker, and a member joins without taking anything over.
  void refuseConsumerGroupOptions() const {
    const auto refuse = [](const std::string& what) {
      throw std::invalid_argument(what + " is for consumer groups, not share groups");
    };
    if (options.offsets != "kafka") refuse("--offsets " + options.offsets);
    if (!options.instanceId.empty()) refuse("--instance-id (static membership)");
    if (options.maxDeliveries < 0) throw std::invalid_argument("--max-deliveries must be >= 0");
  }

  // An error the consumer's poll returned: the topic missing or the client fenced end the run;
  // anything else librdkafka retries by itself.
  void consumerError(const kafka::Error& error) const {
    if (kafka::isUnknownTopic(error)) {
      throw unknownTopicError(error);
    }
    // Fenced or refused by the group: this client can never fetch again. Exiting lets the
    // orchestrator start a fresh member; what was processed but not committed is redelivered.
    if (error.isFatal()) throw fatalConsumerError(consumer->fatalError(), options);
    spdlog::warn("consumer: {}", error.message());
  }

  void createConsumer() {
    auto clientConfig = config;
    // Bound what librdkafka prefetches so one replica stays well inside a 128 MiB container...
    clientConfig.properties.try_emplace("queued.max.messages.kbytes", "8192");
    // ...and refill that queue as soon as it has room: librdkafka's default waits 1 s once the
    // queue was full, which starves a consumer faster than its fetches (measured: 170k msg/s with
    // the default, 1.3M msg/s with 10 ms, 100 B messages on one local broker).
    clientConfig.properties.try_emplace("fetch.queue.backoff.ms", "10");
    consumer = std::make_unique<kafka::Consumer>(
        clientConfig, kafka::ConsumerOptions{.groupId = options.group,
                                             .protocol = options.protocol,
                                             .assignor = options.assignor,
                                             .commitInterval = options.commitInterval,
                                             .instanceId = options.instanceId,
                                             .commitToKafka = !offsetFile.has_value(),
                                             .listener = this});
  }

  // Reached without run()'s close when the grace period ran out or something threw: the workers
  // stop first, then the consumer is closed while the rebalance listener's state (this object's
  // workers, audit and offsets) is still alive, and only then are the files closed.
  ~Impl() override {
    abandonQueued();
    stopWorkers();
    if (consumer) {
      if (const auto error = consumer->close()) {
        spdlog::warn("leaving the group: {}", error.message());
      }
      consumer.reset();
    }
    if (shareConsumer) {
      sendAcknowledgements();  // what was decided; the rest returns after its lock times out
      if (const auto error = shareConsumer->close()) {
        spdlog::warn("leaving the share group: {}", error.message());
      }
      shareConsumer.reset();
    }
    if (audit != nullptr) std::fclose(audit);
    if (stats != nullptr) std::fclose(stats);
  }

  // Only a static member of a classic cooperative group can find partitions stranded (see
  // orphan_watch.h); a revocation takes up to the grace period, so "stranded" waits longer.
  std::unique_ptr<OrphanWatch> watchOwnership() {
    if (options.protocol != kafka::GroupProtocol::kClassic || options.instanceId.empty() ||
        options.assignor != "cooperative-sticky") {
      return nullptr;
    }
    return std::make_unique<OrphanWatch>(
        config,
        OrphanWatchOptions{.group = options.group,
                           .topics = options.topics,
                           .assignor = options.assignor,
                           .confirm = options.gracePeriod + std::chrono::seconds(5),
                           .onRebalance = [this] { metrics.strandedRebalances.Increment(); }});
  }

  // Drops every message still waiting in a worker's queue; the workers finish the message in hand.
  // A share group gets the dropped records back at once (released), not after their locks expire.
  void abandonQueued() {
    abandoned.store(true);
    size_t dropped = 0;
    std::vector<PendingAck> releases;
    for (auto& worker : workers) {
      std::lock_guard lock(worker->mutex);
      dropped += worker->queue.size();
      if (share()) {
        for (const auto& message : worker->queue) {
          releases.push_back(decided(message, kafka::Acknowledgement::kRelease));
        }
      }
      worker->queue.clear();
    }
    queueAcknowledgements(releases);
    unprocessed += dropped;
    {
      std::lock_guard lock(drainMutex);
      queued -= std::min(queued, dropped);
    }
    drained.notify_all();
  }

  void stopWorkers() {
    for (auto& worker : workers) {
      {
        // Under the worker's mutex: a worker that has just found its queue empty and no stop
        // requested is between that check and its wait, and would miss a notify sent now.
        std::lock_guard lock(worker->mutex);
        worker->thread.request_stop();
      }
      worker->wake.notify_all();
    }
    workers.clear();  // joins
  }

  // Processes a batch: measure, work, audit; then make it durable (audit flushed before offsets
  // are stored, so every committed message is in the audit) and store one offset per partition.
  // A share group's records are acknowledged instead (accepted, or rejected when malformed).
  void processBatch(std::vector<kafka::Message>& batch, Worker& worker, Scratch& scratch) {
    const auto batchStart = Clock::now();
    scratch.clear();
    const uint64_t malformed = performBatch(batch, worker, scratch);
    if (audit != nullptr) {
      std::lock_guard lock(auditMutex);
      std::fwrite(scratch.auditLines.data(), 1, scratch.auditLines.size(), audit);
      std::fflush(audit);
    }
    if (share()) {
      queueAcknowledgements(scratch.acks);
    } else {
      storeOffsets(batch);
    }
    recordBatch(batch.size(), malformed, scratch, batchStart);
    batch.clear();
  }

  PendingAck decided(const kafka::Message& message, kafka::Acknowledgement type) const {
    const auto topic = std::find(options.topics.begin(), options.topics.end(), message.topic());
    return {topic != options.topics.end() ? &*topic : &options.topics.front(), message.partition(),
            message.offset(), type};
  }

  void queueAcknowledgements(const std::vector<PendingAck>& decisions) {
    if (decisions.empty()) return;
    std::lock_guard lock(acksMutex);
    acks.insert(acks.end(), decisions.begin(), decisions.end());
  }

  // On the polling thread: hands every decided acknowledgement to the share consumer (sent with
  // its next poll or commit) and counts them.
  void sendAcknowledgements() {
    std::vector<PendingAck> pending;
    {
      std::lock_guard lock(acksMutex);
      pending.swap(acks);
    }
    std::array<uint64_t, 3> sent{};
    for (const auto& ack : pending) {
      if (const auto error =
              shareConsumer->acknowledge(*ack.topic, ack.partition, ack.offset, ack.type)) {
        // The record returns to the group when its lock expires: redelivered, never lost.
        spdlog::warn("acknowledging {}[{}]@{}: {}", *ack.topic, ack.partition, ack.offset,
                     error.message());
        continue;
      }
      ++sent[static_cast<size_t>(ack.type)];
    }
    metrics.accepted.Increment(static_cast<double>(sent[0]));
    metrics.released.Increment(static_cast<double>(sent[1]));
    metrics.rejected.Increment(static_cast<double>(sent[2]));
    std::lock_guard lock(statsMutex);
    summary.accepted += sent[0];
    summary.released += sent[1];
    summary.rejected += sent[2];
  }

  // The work itself: one sample and one audit line per message. Abandoned mid-batch, the tail is
  // cut off the batch: not audited, not stored (a share group's is released), and so redelivered.
  // Returns the malformed count.
  uint64_t performBatch(std::vector<kafka::Message>& batch, Worker& worker, Scratch& scratch) {
    uint64_t malformed = 0;
    size_t processed = 0;
    for (const auto& message : batch) {
      if (share() && workers.empty() && shareGraceRanOut() && !abandoned.exchange(true)) {
        logShareGraceExceeded();
      }
      if (abandoned.load(std::memory_order_relaxed)) break;
      ++processed;
      const int64_t received = latency::epochNanos();
      const auto envelope = latency::parseEnvelope(message.header(latency::kSeqHeader),
                                                   message.header(latency::kSendTimeHeader),
                                                   message.header(latency::kProducerHeader));
      if (share() && !shareRecordProcessable(message, envelope.has_value(), scratch)) {
        malformed += envelope ? 0 : 1;
        continue;
      }
      if (envelope) {
        Sample sample{message.partition(), received - envelope->sendTimeNanos, -1, -1};
        if (message.timestampType() == kafka::TimestampType::kLogAppendTime) {
          const int64_t appended = message.timestampMs() * 1'000'000;
          sample.producerToBroker = appended - envelope->sendTimeNanos;
          sample.brokerToConsumer = received - appended;
        }
        scratch.samples.push_back(sample);
      } else {
        ++malformed;
      }
      worker.perform();
      if (share()) scratch.acks.push_back(decided(message, kafka::Acknowledgement::kAccept));
      if (audit != nullptr) auditLine(message, envelope, scratch.auditLines);
    }
    if (processed < batch.size()) {
      unprocessed += batch.size() - processed;
      for (size_t i = processed; share() && i < batch.size(); ++i) {
        scratch.acks.push_back(decided(batch[i], kafka::Acknowledgement::kRelease));
      }
      batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(processed), batch.end());
    }
    return malformed;
  }

  // A share poll can hand one member hundreds of records: after a stop, the batch in hand (inline
  // or on the workers) gets the grace period, then the rest is released to the other members.
  // On the polling thread; true once the period has run out.
  bool shareGraceRanOut() {
    if (stopRequested == nullptr || !stopRequested->load(std::memory_order_relaxed)) return false;
    const auto now = Clock::now();
    if (!shareDeadline) shareDeadline = now + options.gracePeriod;
    return now >= *shareDeadline;
  }

  void logShareGraceExceeded() const {
    spdlog::error(
        "grace period of {} ms exceeded: the unprocessed records are released to the share "
        "group's other members",
        options.gracePeriod.count());
  }

  // The processing time (epoch microseconds) lets a scale event's partition handoff be measured:
  // the last message of the old owner to the first of the new one. A share group's record also
  // carries how many times it was delivered.
  void auditLine(const kafka::Message& message, const std::optional<latency::Envelope>& envelope,
                 std::string& lines) const {
    const auto key = message.key();
    fmt::format_to(
        std::back_inserter(lines), "{}\t{}\t{}\t{}\t{}\t{}", message.partition(), message.offset(),
        key ? *key : std::string_view("-"), envelope ? envelope->producerId : std::string_view("-"),
        envelope ? std::to_string(envelope->seq) : std::string("-"), latency::epochNanos() / 1000);
    if (share()) fmt::format_to(std::back_inserter(lines), "\t{}", message.deliveryCount());
    lines.push_back('\n');
  }

  // A share group record is processed unless it cannot be: rejected when malformed (no ebb
  // envelope) or delivered more often than --max-deliveries, so it is never delivered again.
  bool shareRecordProcessable(const kafka::Message& message, bool wellFormed, Scratch& scratch) {
    const int deliveries = message.deliveryCount();
    if (deliveries > 1) ++scratch.redelivered;
    if (wellFormed && (options.maxDeliveries == 0 || deliveries <= options.maxDeliveries)) {
      return true;
    }
    scratch.acks.push_back(decided(message, kafka::Acknowledgement::kReject));
    spdlog::debug("rejecting {}[{}]@{}: {}", message.topic(), message.partition(), message.offset(),
                  wellFormed ? "delivered too often" : "no ebb envelope");
    return false;
  }

  // The batch's samples into the summary, the interval stats and the Prometheus histograms.
  void recordBatch(size_t consumed, uint64_t malformed, const Scratch& scratch,
                   Clock::time_point batchStart) {
    metrics::LatencyHistogram::Batch exported;
    {
      std::lock_guard lock(statsMutex);
      summary.redelivered += scratch.redelivered;
      for (const auto& s : scratch.samples) {
        exported.add(s.endToEnd);
        summary.endToEnd.record(s.endToEnd);
        interval.record(s.endToEnd);
        recordByPartition(s.partition, s.endToEnd);
        if (s.producerToBroker >= 0 || s.brokerToConsumer >= 0) {
          summary.producerToBroker.record(s.producerToBroker);
          summary.brokerToConsumer.record(s.brokerToConsumer);
        }
      }
      const auto now = Clock::now();
      if (!firstMessageAt) firstMessageAt = batchStart;
      summary.busySeconds = std::chrono::duration<double>(now - *firstMessageAt).count();
      summary.consumed += consumed;
      summary.malformed += malformed;
      intervalMalformed += malformed;
    }
    metrics.endToEnd.publish(exported);
    metrics.consumed.Increment(static_cast<double>(consumed));
    if (scratch.redelivered > 0) {
      metrics.redelivered.Increment(static_cast<double>(scratch.redelivered));
    }
    if (malformed > 0) metrics.malformed.Increment(static_cast<double>(malformed));
  }

  // Caller holds statsMutex.
  void recordByPartition(int32_t partition, int64_t nanos) {
    auto it = summary.endToEndByPartition.find(partition);
    if (it == summary.endToEndByPartition.end()) {
      if (summary.endToEndByPartition.size() >= kMaxPartitionHistograms) {
        summary.untrackedPartitions.insert(partition);
        return;
      }
      it = summary.endToEndByPartition.try_emplace(partition).first;
    }
    it->second.record(nanos);
  }

  // The last message of each partition in the batch carries the offset to resume from.
  void storeOffsets(const std::vector<kafka::Message>& batch) {
    std::vector<std::pair<std::string_view, int32_t>> done;
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      const std::pair key{it->topic(), it->partition()};
      if (std::find(done.begin(), done.end(), key) != done.end()) continue;
      done.push_back(key);
      if (offsetFile) {
        std::lock_guard lock(offsetsMutex);
        fileOffsets[{std::string(key.first), key.second}] = it->offset() + 1;
      } else if (const auto error = consumer->markProcessed(*it)) {
        // After a revoke the partition is no longer ours: its new owner redelivers.
        spdlog::debug("offset not stored for {}[{}]: {}", key.first, key.second, error.message());
      }
    }
  }

  void workerLoop(WorkerThread& self, unsigned index, const std::stop_token& stop) {
    Worker worker(work, options.seed + index);
    std::vector<kafka::Message> batch;
    Scratch scratch;
    while (true) {
      {
        std::unique_lock lock(self.mutex);
        self.wake.wait(lock, [&] { return !self.queue.empty() || stop.stop_requested(); });
        if (self.queue.empty() || abandoned.load()) return;
        while (!self.queue.empty() && batch.size() < kMaxBatch) {
          batch.push_back(std::move(self.queue.front()));
          self.queue.pop_front();
        }
        self.busy = true;
      }
      const size_t count = batch.size();
      processBatch(batch, worker, scratch);
      {
        std::lock_guard lock(self.mutex);
        self.busy = false;
      }
      {
        std::lock_guard lock(drainMutex);
        queued -= count;
      }
      drained.notify_all();
    }
  }

  void dispatch(std::vector<std::vector<kafka::Message>>& perWorker,
                const std::atomic<bool>& stop) {
    size_t added = 0;
    for (size_t i = 0; i < perWorker.size(); ++i) {
      if (perWorker[i].empty()) continue;
      added += perWorker[i].size();
      {
        std::lock_guard lock(workers[i]->mutex);
        for (auto& message : perWorker[i]) workers[i]->queue.push_back(std::move(message));
      }
      perWorker[i].clear();
      workers[i]->wake.notify_one();
    }
    std::unique_lock lock(drainMutex);
    queued += added;
    // Back-pressure: let the workers catch up before fetching more, but not past a stop request
    // (the grace period runs from then).
    while (queued >= kMaxQueued && !stop.load()) {
      drained.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  // Waits until every dispatched message is processed; false when the deadline passed first.
  bool drain(Clock::time_point deadline) {
    std::unique_lock lock(drainMutex);
    return drained.wait_until(lock, deadline, [&] { return queued == 0; });
  }

  void commit() {
    if (offsetFile) {
      OffsetMap copy;
      {
        std::lock_guard lock(offsetsMutex);
        copy = fileOffsets;
      }
      saveOffsets(*offsetFile, copy);
    } else if (const auto error = consumer->commitSync()) {
      spdlog::warn("commit failed: {}", error.message());
    }
  }

  void recordRebalance(RebalanceEvent event) {
    metrics.rebalances.Increment();
    metrics.paused.Increment(event.pausedSeconds);
    spdlog::info("rebalance: {} {} partition(s), processing paused {:.3f} s", event.kind,
                 event.partitions, event.pausedSeconds);
    std::lock_guard lock(statsMutex);
    summary.rebalances.push_back(std::move(event));
  }

  std::map<kafka::TopicPartition, int64_t> onAssigned(
      const std::vector<kafka::TopicPartition>& partitions) noexcept override {
    double paused = 0;
    if (pausedSince) {
      paused = secondsSince(*pausedSince);
      pausedSince.reset();
    }
    joinedGroup.store(true);
    std::map<kafka::TopicPartition, int64_t> starts;
    if (offsetFile) {
      std::lock_guard lock(offsetsMutex);
      for (const auto& tp : partitions) {
        if (const auto it = fileOffsets.find(tp); it != fileOffsets.end()) starts[tp] = it->second;
      }
    }
    try {
      recordRebalance({"assigned", partitions.size(), paused});
      metrics.assigned.Set(static_cast<double>(consumer->assignedPartitions() + partitions.size()));
    } catch (...) {
    }
    return starts;
  }

  void onRevoked(const std::vector<kafka::TopicPartition>& partitions,
                 bool lost) noexcept override {
    const auto start = Clock::now();
    try {
      // Finish in-flight work first, so the commit covers everything processed.
      drain(Clock::now() + options.gracePeriod);
      if (!lost) commit();
      const bool everything = partitions.size() >= consumer->assignedPartitions();
      if (everything) pausedSince = start;  // eager: nothing to process until the next assignment
      recordRebalance({lost ? "lost" : "revoked", partitions.size(), secondsSince(start)});
      metrics.assigned.Set(
          static_cast<double>(consumer->assignedPartitions() -
                              std::min(partitions.size(), consumer->assignedPartitions())));
    } catch (const std::exception& error) {
      spdlog::error("rebalance: revoking failed: {}", error.what());
    }
  }

  ConsumerSummary runShare(const std::atomic<bool>& stop, const std::atomic<bool>* activate);
  void takeShareBatch(std::vector<kafka::Message>& records, uint64_t& taken);
  void processShareBatch(std::vector<kafka::Message>& records, Worker& inlineWorker,
                         Scratch& scratch, const std::atomic<bool>& stop);

  // Connected and waiting to be activated; false when stopped first.
  bool waitAsStandby(const std::atomic<bool>& stop, const std::atomic<bool>* activate);

  // Once a second: the stats line of the second that ended.
  void publishLatency() {
    std::lock_guard lock(statsMutex);
    if (stats == nullptr) return;
    const auto ms = [](int64_t nanos) { return static_cast<double>(nanos) / 1e6; };
    std::fprintf(stats,
                 "{\"time\": %.3f, \"consumed\": %llu, \"malformed\": %llu, \"p50_ms\": %.3f, "
                 "\"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
                 static_cast<double>(latency::epochNanos()) / 1e9,
                 static_cast<unsigned long long>(interval.count() + intervalMalformed),
                 static_cast<unsigned long long>(intervalMalformed), ms(interval.percentile(50)),
                 ms(interval.percentile(99)), ms(interval.max()));
    std::fflush(stats);
    interval.reset();
    intervalMalformed = 0;
  }
};

ConsumerService::ConsumerService(const kafka::ClientConfig& config, const ConsumerOptions& options,
                                 std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>(config, options, *registry)) {}

ConsumerService::~ConsumerService() = default;

bool ConsumerService::joined() const { return impl_->joinedGroup.load(); }

bool ConsumerService::Impl::waitAsStandby(const std::atomic<bool>& stop,
                                          const std::atomic<bool>* activate) {
  const auto start = Clock::now();
  // A share consumer has no metadata call: its process and client are what a standby saves.
  if (consumer) {
    if (const auto error = consumer->warmUp(options.startupTimeout)) {
      spdlog::warn("standby: could not fetch the cluster's metadata yet: {}", error.message());
    }
  }
  spdlog::info("standby: connected in {:.0f} ms; joins group {} when activated (SIGUSR1)",
               secondsSince(start) * 1000, options.group);
  while (!stop.load() && (activate == nullptr || !activate->load())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (stop.load()) return false;
  spdlog::info("standby: activated after {:.1f} s, joining group {}", secondsSince(start),
               options.group);
  return true;
}

// A share group member's loop: poll a batch of acquired records, process it, decide every
// record's acknowledgement, send them with the next poll. Explicit acknowledgement wants each
// batch decided before the next poll, so the batch's workers finish it first.
ConsumerSummary ConsumerService::Impl::runShare(const std::atomic<bool>& stop,
                                                const std::atomic<bool>* activate) {
  stopRequested = &stop;
  if (options.standby && !waitAsStandby(stop, activate)) {
    if (const auto error = shareConsumer->close()) spdlog::warn("closing: {}", error.message());
    return summary;
  }
  shareConsumer->subscribe(options.topics);
  spdlog::info("share group {}: subscribed to {}", options.group, fmt::join(options.topics, ","));
  Worker inlineWorker(work, options.seed);
  std::vector<kafka::Message> records;
  Scratch scratch;
  uint64_t taken = 0;
  auto nextMetrics = Clock::now();
  while (!stop.load(std::memory_order_relaxed) &&
         (options.maxMessages == 0 || taken < options.maxMessages)) {
    records.clear();
    takeShareBatch(records, taken);
    if (!records.empty()) processShareBatch(records, inlineWorker, scratch, stop);
    sendAcknowledgements();
    if (const auto now = Clock::now(); now >= nextMetrics) {
      publishLatency();
      nextMetrics = now + std::chrono::seconds(1);
    }
  }
  const bool drainedInTime = !abandoned.load();
  sendAcknowledgements();
  if (const auto error = shareConsumer->commitSync(std::chrono::seconds(10))) {
    // Not acknowledged on the broker: those records come back when their locks expire.
    spdlog::warn("committing acknowledgements: {}", error.message());
  }
  if (const auto error = shareConsumer->close()) {
    spdlog::warn("leaving the share group: {}", error.message());
  }
  publishLatency();
  std::lock_guard lock(statsMutex);
  auto result = summary;
  result.drainedInTime = drainedInTime;
  return result;
}

// One poll's records, record-level errors left out (librdkafka has acknowledged those itself),
// cut to --count with the rest released at once. Throws when polling cannot succeed.
void ConsumerService::Impl::takeShareBatch(std::vector<kafka::Message>& records, uint64_t& taken) {
  if (const auto error = shareConsumer->poll(std::chrono::milliseconds(100), records)) {
    if (kafka::isShareGroupsUnavailable(error)) {
      throw kafka::KafkaError("cannot join share group " + options.group + ": " + error.message() +
                                  "; " + kafka::shareGroupsUnavailableHint(),
                              error);
    }
    if (kafka::isUnknownTopic(error)) {
      throw unknownTopicError(error);
    }
    if (error.isFatal()) {
      throw kafka::KafkaError("the share consumer cannot go on: " + error.message(), error);
    }
    spdlog::warn("share consumer: {}", error.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // no busy loop on a failure
    return;
  }
  joinedGroup.store(true);
  std::erase_if(records, [](const kafka::Message& record) {
    if (!record.isError()) return false;
    spdlog::warn("share consumer: {}[{}]@{}: {}", record.topic(), record.partition(),
                 record.offset(), record.error().message());
    return true;
  });
  if (options.maxMessages > 0 && taken + records.size() > options.maxMessages) {
    std::vector<PendingAck> releases;
    const auto keep = static_cast<size_t>(options.maxMessages - taken);
    for (size_t i = keep; i < records.size(); ++i) {
      releases.push_back(decided(records[i], kafka::Acknowledgement::kRelease));
    }
    queueAcknowledgements(releases);
    records.erase(records.begin() + static_cast<std::ptrdiff_t>(keep), records.end());
  }
  taken += records.size();
}

// Processes one batch inline or over the workers (order is no concern: a share group keeps
// none), until every record is decided; past the grace period after a stop, what is left is
// released.
void ConsumerService::Impl::processShareBatch(std::vector<kafka::Message>& records,
                                              Worker& inlineWorker, Scratch& scratch,
                                              const std::atomic<bool>& stop) {
  if (workers.empty()) {
    processBatch(records, inlineWorker, scratch);
    return;
  }
  std::vector<std::vector<kafka::Message>> perWorker(workers.size());
  for (size_t i = 0; i < records.size(); ++i) {
    perWorker[i % perWorker.size()].push_back(std::move(records[i]));
  }
  records.clear();
  dispatch(perWorker, stop);
  while (!drain(Clock::now() + std::chrono::milliseconds(20))) {
    if (!abandoned.load() && shareGraceRanOut()) {
      abandonQueued();
      logShareGraceExceeded();
    }
  }
}

ConsumerSummary ConsumerService::run(const std::atomic<bool>& stop,
                                     const std::atomic<bool>* activate) {
  auto& impl = *impl_;
  const auto& options = impl.options;
  if (impl.share()) return impl.runShare(stop, activate);
  if (options.standby && !impl.waitAsStandby(stop, activate)) {
    impl.consumer->close();
    return impl.summary;
  }
  impl.consumer->subscribe(options.topics);
  auto watch = impl.watchOwnership();
  Worker inlineWorker(impl.work, options.seed);
  std::vector<kafka::Message> batch;
  std::vector<std::vector<kafka::Message>> perWorker(impl.workers.size());
  Scratch scratch;
  uint64_t taken = 0;
  auto nextCommit = Clock::now() + options.commitInterval;
  auto nextMetrics = Clock::now();

  auto flush = [&] {
    if (impl.workers.empty()) {
      if (!batch.empty()) impl.processBatch(batch, inlineWorker, scratch);
    } else {
      impl.dispatch(perWorker, stop);
    }
  };

  std::vector<kafka::Message> polled;
  while (!stop.load(std::memory_order_relaxed) &&
         (options.maxMessages == 0 || taken < options.maxMessages)) {
    // Wait for the first message, take what is fetched already with it, then process the batch.
    const size_t room = options.maxMessages == 0
                            ? kMaxBatch
                            : std::min<uint64_t>(kMaxBatch, options.maxMessages - taken);
    polled.clear();
    impl.consumer->pollBatch(polled, room, std::chrono::milliseconds(100));
    for (auto& message : polled) {
      if (message.isError()) {
        impl.consumerError(message.error());
        continue;
      }
      if (message.isPartitionEof()) continue;
      ++taken;
      if (impl.workers.empty()) {
        batch.push_back(std::move(message));
      } else {
        perWorker[static_cast<size_t>(message.partition()) % perWorker.size()].push_back(
            std::move(message));
      }
    }
    flush();
    const auto now = Clock::now();
    if (impl.offsetFile && now >= nextCommit) {
      impl.commit();
      nextCommit = now + options.commitInterval;
    }
    if (now >= nextMetrics) {
      impl.publishLatency();
      nextMetrics = now + std::chrono::seconds(1);
    }
  }

  // Graceful stop: no more fetching; finish in-flight work within the grace period, commit, leave.
  watch.reset();
  flush();
  const auto deadline = Clock::now() + options.gracePeriod;
  const bool drainedInTime = impl.workers.empty() || impl.drain(deadline);
  if (!drainedInTime) {
    impl.abandonQueued();
    impl.stopWorkers();
    spdlog::error(
        "grace period of {} ms exceeded: {} unprocessed message(s) are not committed and will be "
        "redelivered to the partitions' next owner",
        options.gracePeriod.count(), impl.unprocessed.load());
  }
  impl.commit();  // only what was processed: the workers stored nothing they did not finish
  if (const auto error = impl.consumer->close()) {
    spdlog::warn("leaving the group: {}", error.message());
  }
  impl.publishLatency();
  std::lock_guard lock(impl.statsMutex);
  auto result = impl.summary;
  result.drainedInTime = drainedInTime;
  return result;
}

}  // namespace ebb::service
