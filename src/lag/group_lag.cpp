#include "ebb/lag/group_lag.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace ebb::lag {

GroupLagMonitor::GroupLagMonitor(kafka::AdminClient& admin, std::string group,
                                 std::vector<std::string> topics,
                                 std::chrono::milliseconds rateWindow)
    : admin_(admin),
      group_(std::move(group)),
      topics_(std::move(topics)),
      rateWindow_(rateWindow) {}

GroupLagMonitor::Membership GroupLagMonitor::membership(const std::string& topic) {
  const auto description = admin_.describeGroup(group_);
  std::set<int32_t> owned;
  size_t owning = 0;
  for (const auto& member : description.members) {
    bool owns = false;
    for (const auto& tp : member.assignment) {
      if (tp.topic != topic) continue;
      owned.insert(tp.partition);
      owns = true;
    }
    if (owns) ++owning;
  }
  return {description.members.size(), owned.size(), owning};
}

GroupLag GroupLagMonitor::read(std::chrono::milliseconds now) {
  GroupLag result;
  result.group = group_;
  const auto description = admin_.describeGroup(group_);
  result.state = description.state;
  result.type = description.type;
  result.members = description.members.size();
  const auto committed = admin_.listGroupOffsets(group_);

  std::map<kafka::TopicPartition, const kafka::GroupMember*> owners;
  for (const auto& member : description.members) {
    for (const auto& tp : member.assignment) owners[tp] = &member;
  }
  std::set<std::string> topics(topics_.begin(), topics_.end());
  if (topics.empty()) {
    for (const auto& [tp, offset] : committed) topics.insert(tp.topic);
    for (const auto& [tp, member] : owners) topics.insert(tp.topic);
    if (topics.empty() && description.state == "Dead") {
      // What the coordinator says of a group it has no record of (ConsumerGroupCommand: "Group G
      // not found").
      throw std::runtime_error("group '" + group_ +
                               "' does not exist (no members, no committed offsets); name the "
                               "topic with -t to see its lag from the log start");
    }
    if (topics.empty()) {
      throw std::runtime_error("group '" + group_ + "' (state " + description.state +
                               ") has no committed offsets and no assigned partitions; name the "
                               "topic with -t to see its lag from the log start");
    }
  }

  std::vector<kafka::TopicPartition> partitions;
  for (const auto& topic : topics) {
    for (const auto& info : admin_.metadata(topic).topics) {
      for (const auto& partition : info.partitions) partitions.push_back({topic, partition.id});
    }
  }
  std::ranges::sort(partitions);
  const auto ends = admin_.listOffsets(partitions, kafka::OffsetSpec::kLatest);
  const auto starts = admin_.listOffsets(partitions, kafka::OffsetSpec::kEarliest);

  for (const auto& tp : partitions) {
    PartitionLag row{.topic = tp.topic, .partition = tp.partition};
    row.logStart = starts.at(tp);
    row.logEnd = ends.at(tp);
    if (const auto it = committed.find(tp); it != committed.end()) row.committed = it->second;
    row.lag =
        std::max<int64_t>(0, row.logEnd - (row.committed >= 0 ? row.committed : row.logStart));
    auto& history = history_.try_emplace(tp, rateWindow_).first->second;
    history.add(now, row.logEnd, row.committed >= 0 ? row.committed : row.logStart);
    row.lagSeconds = row.lag > 0 ? history.lagSeconds() : 0;
    row.produceRate = history.produceRate();
    row.consumeRate = history.consumeRate();
    if (const auto it = owners.find(tp); it != owners.end()) {
      row.owner = it->second->clientId;
      row.ownerHost = it->second->host;
      row.memberId = it->second->memberId;
    }
    result.partitions.push_back(std::move(row));
  }
  summarize(result);
  return result;
}

void summarize(GroupLag& lag) {
  lag.topics.clear();
  lag.lag = 0;
  lag.maxLagSeconds = 0;
  for (const auto& row : lag.partitions) {
    if (lag.topics.empty() || lag.topics.back().topic != row.topic) {
      lag.topics.push_back({.topic = row.topic});
    }
    auto& topic = lag.topics.back();
    ++topic.partitions;
    topic.lag += row.lag;
    topic.maxLagSeconds = std::max(topic.maxLagSeconds, row.lagSeconds);
    topic.produceRate += row.produceRate;
    topic.consumeRate += row.consumeRate;
    lag.lag += row.lag;
    lag.maxLagSeconds = std::max(lag.maxLagSeconds, row.lagSeconds);
  }
}

}  // namespace ebb::lag
