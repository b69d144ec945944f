// The key hashes of the Java, librdkafka and Go clients, so that ebb places keyed messages where
// those clients would.
#include <zlib.h>

#include "ebb/partition/partitioner.h"

namespace ebb::partition {

// Java works on signed ints with wrapping multiplication and `>>>` (logical shift); unsigned
// arithmetic here gives the same bits without signed overflow.
int32_t murmur2(std::string_view data) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr unsigned kR = 24;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const auto length = static_cast<uint32_t>(data.size());  // Java: byte[].length, an int

  uint32_t h = kSeed ^ length;
  const uint32_t whole = length & ~uint32_t{3};
  for (uint32_t i = 0; i < whole; i += 4) {
    uint32_t k = uint32_t{bytes[i]} | (uint32_t{bytes[i + 1]} << 8) |
                 (uint32_t{bytes[i + 2]} << 16) | (uint32_t{bytes[i + 3]} << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= uint32_t{bytes[whole + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{bytes[whole + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{bytes[whole]};
      h *= kM;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);  // two's complement since C++20, as Java's int
}

uint32_t crc32(std::string_view data) {
  // crc32_z takes a size_t length; crc32 would truncate keys over 4 GiB to a uInt.
  return static_cast<uint32_t>(::crc32_z(::crc32_z(0L, Z_NULL, 0),
                                         reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

uint32_t fnv1a(std::string_view data) {
  constexpr uint32_t kOffsetBasis = 0x811c9dc5;
  constexpr uint32_t kPrime = 0x01000193;
  uint32_t h = kOffsetBasis;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= kPrime;
  }
  return h;
}

}  // namespace ebb::partition
