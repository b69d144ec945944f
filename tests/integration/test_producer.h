// Helpers shared by integration tests: a delivery handler that keeps every report.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ebb/kafka/producer.h"

namespace ebb::test {

class DeliveryLog final : public kafka::DeliveryHandler {
 public:
  void onDelivery(const kafka::Delivery& delivery) noexcept override {
    if (delivery.error) {
      ++failed;
      lastError = delivery.error.message();
    } else {
      partitions[delivery.token] = delivery.partition;
    }
  }
  std::map<uint64_t, int32_t> partitions;  // token -> partition it landed in
  size_t failed = 0;
  std::string lastError;
};

// Sends with back-pressure handling; fails the test on any other send error.
void sendOrFail(kafka::Producer& producer, const std::string& topic, int32_t partition,
                std::optional<std::string_view> key, std::string_view payload,
                std::span<const kafka::Header> headers, uint64_t token);

}  // namespace ebb::test
