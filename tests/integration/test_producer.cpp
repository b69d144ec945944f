#include "test_producer.h"

#include <gtest/gtest.h>

namespace ebb::test {

void sendOrFail(kafka::Producer& producer, const std::string& topic, int32_t partition,
                std::optional<std::string_view> key, std::string_view payload,
                std::span<const kafka::Header> headers, uint64_t token) {
  kafka::Error error;
  while ((error = producer.send(topic, partition, key, payload, headers, token)) &&
         kafka::isQueueFull(error)) {
    producer.poll(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(error) << error.message();
}

}  // namespace ebb::test
