// Key distributions for produced messages: none, uniform over N keys, Zipf over N keys with
// exponent s (hot keys), sequential. Deterministic for a seed; keys are formatted into an internal
// buffer (no allocation per message).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ebb::load {

class KeyGenerator {
 public:
  virtual ~KeyGenerator() = default;
  // The next key, or nullopt for unkeyed messages. The view stays valid until the next call.
  virtual std::optional<std::string_view> next() = 0;
  // Number of distinct keys (0 for none).
  virtual uint64_t keyCount() const = 0;
  virtual std::string describe() const = 0;
};

// Parses --keys:
//   none                 unkeyed
//   uniform:N            key-0 .. key-(N-1), each equally likely
//   zipf:N:S             key-0 .. key-(N-1), P(key-i) proportional to 1/(i+1)^S, S > 0 (key-0
//   hottest) sequential:N         key-0, key-1, ..., key-(N-1), key-0, ...
// N from 1 to 10,000,000. Throws std::invalid_argument with the expected form.
std::unique_ptr<KeyGenerator> parseKeys(std::string_view spec, uint64_t seed);

// "key-<index>": the name a key index gets, shared by producers and verifiers.
std::string keyName(uint64_t index);

}  // namespace ebb::load
