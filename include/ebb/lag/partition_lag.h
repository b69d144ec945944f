// Lag of a consumer group on one topic, per partition: log-end offset minus committed offset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ebb/kafka/admin_client.h"

namespace ebb::lag {

struct PartitionOffsets {
  int64_t logStart = 0;
  int64_t logEnd = 0;
  int64_t committed = -1;  // -1: the group has not committed for this partition
  // Messages not yet processed; a partition without a commit counts from the log start.
  int64_t lag() const;
};

// One admin round trip each for committed, earliest and latest offsets. Index = partition.
std::vector<PartitionOffsets> readPartitionOffsets(kafka::AdminClient& admin,
                                                   const std::string& group,
                                                   const std::string& topic, int32_t partitions);

}  // namespace ebb::lag
