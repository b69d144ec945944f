#include "ebb/lag/group_lag.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace ebb::lag {

GroupLagMonitor::GroupLagMonitor(kafka::AdminClient& admin, std::string group,
                                 std::vector<std::string> topics,
                                 std::chrono::milliseconds rateWindow,
                                 kafka::ShareGroupAdmin* share)
    : admin_(admin),
      share_(share),
      group_(std::move(group)),
      topics_(std::move(topics)),
      rateWindow_(rateWindow) {}

GroupLagMonitor::GroupState GroupLagMonitor::groupState() {
  GroupState state;
  if (share_ == nullptr) {
    state.description = admin_.describeGroup(group_);
    state.committed = admin_.listGroupOffsets(group_);
    return state;
  }
  auto share = share_->describe(group_);
  state.description = {.groupId = group_,
                       .state = std::move(share.state),
                       .type = "Share",
                       .members = std::move(share.members)};
  for (const auto& [tp, offset] : share.offsets) {
    if (offset.startOffset < 0) continue;  // not initialised yet: nothing delivered
    state.committed[tp] = offset.startOffset;
    if (offset.lag >= 0) state.shareLag[tp] = offset.lag;
  }
  return state;
}

GroupLagMonitor::Membership GroupLagMonitor::membership(const std::string& topic) {
  kafka::GroupDescription description;
  if (share_ != nullptr) {
    description.members = share_->members(group_).members;  // no offsets: one round trip
  } else {
    description = admin_.describeGroup(group_);
  }
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

std::set<std::string> GroupLagMonitor::topicsToRead(const GroupState& state) const {
  std::set<std::string> topics(topics_.begin(), topics_.end());
  if (!topics.empty()) return topics;
  for (const auto& [tp, offset] : state.committed) topics.insert(tp.topic);
  for (const auto& member : state.description.members) {
    for (const auto& tp : member.assignment) topics.insert(tp.topic);
  }
  if (topics.empty() && state.description.state == "Dead") {
    // What the coordinator says of a group it has no record of (ConsumerGroupCommand: "Group G
    // not found").
    throw std::runtime_error("group '" + group_ +
                             "' does not exist (no members, no committed offsets); name the "
                             "topic with -t to see its lag from the log start");
  }
  if (topics.empty()) {
    throw std::runtime_error("group '" + group_ + "' (state " + state.description.state +
                             ") has no committed offsets and no assigned partitions; name the "
                             "topic with -t to see its lag from the log start");
  }
  return topics;
}

GroupLag GroupLagMonitor::read(std::chrono::milliseconds now) {
  GroupLag result;
  result.group = group_;
  const GroupState state = groupState();
  const auto& description = state.description;
  result.state = description.state;
  result.type = description.type;
  result.members = description.members.size();
  const auto& committed = state.committed;

  std::map<kafka::TopicPartition, const kafka::GroupMember*> owners;
  for (const auto& member : description.members) {
    for (const auto& tp : member.assignment) owners[tp] = &member;
  }
  const std::set<std::string> topics = topicsToRead(state);

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
    // A share group's records acknowledged past the start offset are done too: the broker's lag
    // leaves them out, and the position they amount to is what its consumption rate follows.
    if (const auto it = state.shareLag.find(tp); it != state.shareLag.end()) {
      row.lag = std::min(row.lag, it->second);
    }
    auto& history = history_.try_emplace(tp, rateWindow_).first->second;
    history.add(now, row.logEnd, row.logEnd - row.lag);
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
