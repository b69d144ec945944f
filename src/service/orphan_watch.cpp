#include "ebb/service/orphan_watch.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <utility>

#include "ebb/kafka/consumer.h"
#include "ebb/kafka/error.h"

namespace ebb::service {
namespace {

using Clock = std::chrono::steady_clock;

// How long the short-lived member waits to be let into the group: every member must rejoin first
// (within a heartbeat interval, 3 s by default, plus its revocations).
constexpr std::chrono::seconds kJoinTimeout{60};

std::string describe(const std::set<kafka::TopicPartition>& partitions) {
  std::vector<std::string> names;
  for (const auto& tp : partitions) names.push_back(fmt::format("{}[{}]", tp.topic, tp.partition));
  return fmt::format("{}", fmt::join(names, " "));
}

// Tells the joining member when the group let it in (its first assignment, possibly empty).
struct JoinedListener final : kafka::RebalanceListener {
  std::atomic<bool> joined{false};
  std::map<kafka::TopicPartition, int64_t> onAssigned(
      const std::vector<kafka::TopicPartition>& /*partitions*/) noexcept override {
    joined = true;
    return {};
  }
  void onRevoked(const std::vector<kafka::TopicPartition>& /*partitions*/,
                 bool /*lost*/) noexcept override {}
};

}  // namespace

std::set<kafka::TopicPartition> unownedPartitions(const kafka::GroupDescription& group,
                                                  const std::map<std::string, int32_t>& topics) {
  std::set<kafka::TopicPartition> unowned;
  if (group.state != "Stable") return unowned;
  for (const auto& [topic, count] : topics) {
    for (int32_t partition = 0; partition < count; ++partition) unowned.insert({topic, partition});
  }
  for (const auto& member : group.members) {
    for (const auto& tp : member.assignment) unowned.erase(tp);
  }
  return unowned;
}

std::optional<std::set<kafka::TopicPartition>> StrandedPartitions::observe(
    std::set<kafka::TopicPartition> unowned, Clock::time_point now) {
  if (unowned.empty() || unowned != seen_) {
    seen_ = std::move(unowned);
    since_ = now;
    return std::nullopt;
  }
  if (now - since_ < confirm_) return std::nullopt;
  auto stranded = std::move(seen_);
  seen_.clear();
  return stranded;
}

OrphanWatch::OrphanWatch(kafka::ClientConfig config, OrphanWatchOptions options)
    : config_(std::move(config)), options_(std::move(options)), thread_([this] { run(); }) {}

OrphanWatch::~OrphanWatch() {
  stop_ = true;
  thread_.join();
}

void OrphanWatch::run() {
  StrandedPartitions stranded(options_.confirm);
  try {
    kafka::AdminClient admin(config_, std::chrono::seconds(10));
    admin.setStopFlag(&stop_);
    auto next = Clock::now() + options_.interval;
    while (!stop_.load()) {
      if (Clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      next = Clock::now() + options_.interval;
      auto unowned = reading(admin);
      if (!unowned) continue;
      if (auto found = stranded.observe(std::move(*unowned), Clock::now())) rebalanceGroup(*found);
    }
  } catch (const std::exception& error) {
    if (!stop_.load())
      spdlog::warn("group {}: partition ownership watch stopped: {}", options_.group, error.what());
  }
}

// One reading of the group's unowned partitions; nullopt when the cluster did not answer (the
// consumer reports a cluster that is away; the watch just tries again).
std::optional<std::set<kafka::TopicPartition>> OrphanWatch::reading(kafka::AdminClient& admin) {
  try {
    std::map<std::string, int32_t> topics;
    for (const auto& topic : options_.topics) {
      topics[topic] = static_cast<int32_t>(admin.topic(topic).partitions.size());
    }
    return unownedPartitions(admin.describeGroup(options_.group), topics);
  } catch (const kafka::KafkaError& error) {
    if (!stop_.load())
      spdlog::debug("group {}: ownership reading failed: {}", options_.group, error.what());
    return std::nullopt;
  }
}

void OrphanWatch::rebalanceGroup(const std::set<kafka::TopicPartition>& stranded) {
  spdlog::warn(
      "group {}: {} partition(s) have had no owner for {} ms while the group is Stable ({}): a "
      "static member was probably replaced in the middle of a cooperative rebalance; a short-lived "
      "member joins and leaves so that the group rebalances and assigns them",
      options_.group, stranded.size(), options_.confirm.count(), describe(stranded));
  auto config = config_;
  config.properties["client.id"] = "ebb-rebalance-nudge";
  JoinedListener listener;
  kafka::Consumer member(config, kafka::ConsumerOptions{.groupId = options_.group,
                                                        .protocol = kafka::GroupProtocol::kClassic,
                                                        .assignor = options_.assignor,
                                                        .commitToKafka = false,
                                                        .listener = &listener});
  member.subscribe(options_.topics);
  const auto deadline = Clock::now() + kJoinTimeout;
  // What it fetches is dropped: it stores no offset, so the partitions' owners read it again.
  while (!listener.joined.load() && !stop_.load() && Clock::now() < deadline) {
    member.poll(std::chrono::milliseconds(100));
  }
  if (const auto error = member.close()) {
    spdlog::warn("group {}: the short-lived member could not leave: {}", options_.group,
                 error.message());
  }
  if (!listener.joined.load()) {
    spdlog::warn("group {}: the short-lived member was not let in within {} s", options_.group,
                 kJoinTimeout.count());
    return;
  }
  if (options_.onRebalance) options_.onRebalance();
}

}  // namespace ebb::service
