#include "ebb/latency/envelope.h"

namespace ebb::latency {
namespace {

template <typename T>
std::optional<T> parseDecimal(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Envelope> parseEnvelope(std::optional<std::string_view> seq,
                                      std::optional<std::string_view> sendTime,
                                      std::optional<std::string_view> producer) {
  if (!seq || !sendTime || !producer || producer->empty()) return std::nullopt;
  const auto seqValue = parseDecimal<uint64_t>(*seq);
  const auto timeValue = parseDecimal<int64_t>(*sendTime);
  if (!seqValue || !timeValue || *timeValue <= 0) return std::nullopt;
  return Envelope{*seqValue, *timeValue, *producer};
}

}  // namespace ebb::latency
