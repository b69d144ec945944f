// The envelope every ebb message carries in its headers, so any consumer can measure end-to-end
// latency and detect loss, duplicates and reordering: ebb-seq, ebb-ts and ebb-producer.
#pragma once

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ebb::latency {

inline constexpr const char* kSeqHeader = "ebb-seq";
inline constexpr const char* kSendTimeHeader = "ebb-ts";
inline constexpr const char* kProducerHeader = "ebb-producer";

struct Envelope {
  uint64_t seq = 0;           // per producer, from 0
  int64_t sendTimeNanos = 0;  // wall clock, nanoseconds since the epoch
  std::string_view producerId;
};

// Wall-clock nanoseconds since the epoch: comparable across processes on one host.
inline int64_t epochNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Decimal text, readable in kcat and the Kafka console tools; formatted into a caller-owned buffer.
class DecimalField {
 public:
  explicit DecimalField(int64_t value) {
    size_ = static_cast<size_t>(
        std::to_chars(buffer_.data(), buffer_.data() + buffer_.size(), value).ptr - buffer_.data());
  }
  std::string_view view() const { return {buffer_.data(), size_}; }

 private:
  std::array<char, 24> buffer_{};
  size_t size_ = 0;
};

// Parses the three header values; nothing when one is missing or malformed.
std::optional<Envelope> parseEnvelope(std::optional<std::string_view> seq,
                                      std::optional<std::string_view> sendTime,
                                      std::optional<std::string_view> producer);

}  // namespace ebb::latency
