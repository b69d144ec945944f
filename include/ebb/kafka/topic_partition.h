// A partition of a topic, the unit Kafka balances load by.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace ebb::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

}  // namespace ebb::kafka
