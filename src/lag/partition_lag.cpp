#include "ebb/lag/partition_lag.h"

#include <algorithm>

namespace ebb::lag {

int64_t PartitionOffsets::lag() const {
  const int64_t from = committed >= 0 ? committed : logStart;
  return std::max<int64_t>(0, logEnd - from);
}

std::vector<PartitionOffsets> readPartitionOffsets(kafka::AdminClient& admin,
                                                   const std::string& group,
                                                   const std::string& topic, int32_t partitions) {
  std::vector<kafka::TopicPartition> wanted;
  for (int32_t p = 0; p < partitions; ++p) wanted.push_back({topic, p});
  const auto ends = admin.listOffsets(wanted, kafka::OffsetSpec::kLatest);
  const auto starts = admin.listOffsets(wanted, kafka::OffsetSpec::kEarliest);
  const auto committed = admin.listGroupOffsets(group);
  std::vector<PartitionOffsets> result(static_cast<size_t>(partitions));
  for (const auto& tp : wanted) {
    auto& entry = result[static_cast<size_t>(tp.partition)];
    entry.logEnd = ends.at(tp);
    entry.logStart = starts.at(tp);
    if (const auto it = committed.find(tp); it != committed.end()) entry.committed = it->second;
  }
  return result;
}

}  // namespace ebb::lag
