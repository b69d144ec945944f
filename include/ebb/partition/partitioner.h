// Partitioners: which partition a message goes to. Pure and deterministic (randomness is seeded,
// time is passed in), so each can be unit-tested; ebb's producer asks one for every message and
// sends to the partition it returns. A partitioner keeps state (counters, the sticky partition, a
// random engine) without locks: use one per producer thread. partition() allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ebb::partition {

struct Input {
  std::optional<std::string_view> key;  // nullopt: unkeyed message
  int32_t partitionCount = 1;           // > 0: a topic has partitions; asserted, not checked
  int64_t nowNanos = 0;                 // monotonic time, for partitioners that switch over time
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  // A partition in [0, input.partitionCount).
  virtual int32_t partition(const Input& input) = 0;
  virtual std::string_view name() const = 0;
};

// Tunables of the partitioners that have any.
struct Options {
  uint64_t seed = 1;
  // sticky: switch to a new partition after this many unkeyed messages or this much time, whichever
  // comes first (KIP-480 switches when a batch is full or sent; a client-side partitioner only sees
  // counts and time, so it approximates the batch by batch.num.messages and linger.ms).
  uint32_t stickyBatchMessages = 1000;
  int64_t stickyLingerNanos = 5'000'000;
};

// Every name makePartitioner accepts, in the order the docs list them.
std::span<const std::string_view> partitionerNames();
// Explicit factory: round-robin, random, sticky, murmur2, crc32, fnv1a, lag-aware.
// Throws std::invalid_argument naming the valid choices for anything else.
std::unique_ptr<Partitioner> makePartitioner(std::string_view name, const Options& options = {});

// The hash functions behind the keyed partitioners, exposed for tests.
// Kafka's Java Utils.murmur2 (seed 0x9747b28c), bit for bit.
int32_t murmur2(std::string_view data);
// Java's Utils.toPositive: clears the sign bit.
inline int32_t toPositive(int32_t value) { return value & 0x7fffffff; }
// CRC-32 (IEEE, as zlib), what librdkafka's `consistent` partitioner hashes keys with.
uint32_t crc32(std::string_view data);
// 32-bit FNV-1a, what the Go clients (sarama's default hash partitioner) use.
uint32_t fnv1a(std::string_view data);

// lag-aware: keyed messages go where murmur2 puts them (key affinity is kept); unkeyed messages are
// spread with weights that favour partitions whose consumers have the least lag.
class LagAwarePartitioner final : public Partitioner {
 public:
  explicit LagAwarePartitioner(uint64_t seed);
  ~LagAwarePartitioner() override;
  LagAwarePartitioner(LagAwarePartitioner&&) noexcept;
  LagAwarePartitioner& operator=(LagAwarePartitioner&&) noexcept;
  // Lag per partition (messages, index = partition). Lag-free partitions get the highest weight;
  // a partition's weight falls as its lag grows, but never reaches zero (no partition starves).
  // Until it is called with one lag per partition of the input, unkeyed messages go round-robin.
  // Allocates only when the partition count changes.
  void updateLag(std::span<const int64_t> lagByPartition);
  int32_t partition(const Input& input) override;
  std::string_view name() const override { return "lag-aware"; }
  // Current weights (sum 1), for tests and metrics; empty before the first updateLag.
  std::span<const double> weights() const;

 private:
  struct State;
  // unique_ptr, not shared_ptr: a copy sharing one random engine and weight table would surprise.
  std::unique_ptr<State> state_;
};

}  // namespace ebb::partition
