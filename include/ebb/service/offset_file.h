// Client-managed offsets: the consumer keeps the next offset to read per partition in a file of its
// own, replaced atomically (write a temporary file, fsync, rename), and seeks to it on assignment.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>

#include "ebb/kafka/topic_partition.h"

namespace ebb::service {

using OffsetMap = std::map<kafka::TopicPartition, int64_t>;

// Lines "topic partition next-offset". A missing file is an empty map; a malformed one throws
// std::runtime_error naming the line (never guess where to resume).
OffsetMap loadOffsets(const std::filesystem::path& path);
// Throws std::runtime_error when the file cannot be written.
void saveOffsets(const std::filesystem::path& path, const OffsetMap& offsets);

}  // namespace ebb::service
