// The partitioners of the Java and librdkafka clients (round-robin, random, sticky, murmur2, crc32,
// fnv1a) and the factory that names them all.
#include <algorithm>
#include <array>
#include <cassert>
#include <random>
#include <stdexcept>
#include <string>

#include "ebb/partition/partitioner.h"

namespace ebb::partition {
namespace {

constexpr std::array<std::string_view, 7> kNames = {"round-robin", "random", "sticky",   "murmur2",
                                                    "crc32",       "fnv1a",  "lag-aware"};

// A partition in [0, count) from the high 32 random bits scaled by count (multiply-shift, no
// division). Its bias, below count / 2^32, is far under what any partition count can show.
int32_t uniformBelow(std::mt19937_64& engine, int32_t count) {
  return static_cast<int32_t>(((engine() >> 32) * static_cast<uint64_t>(count)) >> 32);
}

class RoundRobinPartitioner final : public Partitioner {
 public:
  int32_t partition(const Input& input) override {
    assert(input.partitionCount > 0);
    return static_cast<int32_t>(next_++ % static_cast<uint64_t>(input.partitionCount));
  }
  std::string_view name() const override { return "round-robin"; }

 private:
  uint64_t next_ = 0;
};

class RandomPartitioner final : public Partitioner {
 public:
  explicit RandomPartitioner(uint64_t seed) : engine_(seed) {}
  int32_t partition(const Input& input) override {
    assert(input.partitionCount > 0);
    return uniformBelow(engine_, input.partitionCount);
  }
  std::string_view name() const override { return "random"; }

 private:
  std::mt19937_64 engine_;
};

// Java's default partitioner (KIP-480): a keyed message goes to toPositive(murmur2(key)) % count,
// an unkeyed one to the current sticky partition, which changes to a different random partition
// once stickyBatchMessages messages or stickyLingerNanos have gone to it. "sticky" and "murmur2"
// are both this partitioner: the Java producer does both, and a user may ask for it by either name.
class JavaDefaultPartitioner final : public Partitioner {
 public:
  JavaDefaultPartitioner(std::string_view name, const Options& options)
      : name_(name),
        batchMessages_(std::max<uint32_t>(1, options.stickyBatchMessages)),
        lingerNanos_(options.stickyLingerNanos),
        engine_(options.seed) {}

  int32_t partition(const Input& input) override {
    assert(input.partitionCount > 0);
    if (input.key) return toPositive(murmur2(*input.key)) % input.partitionCount;
    if (current_ < 0 || current_ >= input.partitionCount || sent_ >= batchMessages_ ||
        input.nowNanos - since_ >= lingerNanos_) {
      current_ = switchFrom(current_, input.partitionCount);
      sent_ = 0;
      since_ = input.nowNanos;
    }
    ++sent_;
    return current_;
  }
  std::string_view name() const override { return name_; }

 private:
  // Any partition but the previous one, each equally likely (as Java's StickyPartitionCache).
  int32_t switchFrom(int32_t previous, int32_t count) {
    if (previous < 0 || previous >= count) return uniformBelow(engine_, count);
    if (count == 1) return 0;
    const int32_t pick = uniformBelow(engine_, count - 1);
    return pick >= previous ? pick + 1 : pick;
  }

  std::string_view name_;
  uint32_t batchMessages_;
  int64_t lingerNanos_;
  std::mt19937_64 engine_;
  int32_t current_ = -1;  // none yet
  uint32_t sent_ = 0;
  int64_t since_ = 0;
};

// librdkafka's `consistent`: CRC-32 of the key; null and empty keys all go to partition 0.
class Crc32Partitioner final : public Partitioner {
 public:
  int32_t partition(const Input& input) override {
    assert(input.partitionCount > 0);
    if (!input.key || input.key->empty()) return 0;
    return static_cast<int32_t>(crc32(*input.key) % static_cast<uint32_t>(input.partitionCount));
  }
  std::string_view name() const override { return "crc32"; }
};

// librdkafka's `fnv1a_random`: FNV-1a of the key; null keys go to a random partition.
class Fnv1aPartitioner final : public Partitioner {
 public:
  explicit Fnv1aPartitioner(uint64_t seed) : engine_(seed) {}
  int32_t partition(const Input& input) override {
    assert(input.partitionCount > 0);
    if (!input.key) return uniformBelow(engine_, input.partitionCount);
    return static_cast<int32_t>(fnv1a(*input.key) % static_cast<uint32_t>(input.partitionCount));
  }
  std::string_view name() const override { return "fnv1a"; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace

std::span<const std::string_view> partitionerNames() { return kNames; }

std::unique_ptr<Partitioner> makePartitioner(std::string_view name, const Options& options) {
  if (name == "round-robin") return std::make_unique<RoundRobinPartitioner>();
  if (name == "random") return std::make_unique<RandomPartitioner>(options.seed);
  if (name == "sticky") return std::make_unique<JavaDefaultPartitioner>("sticky", options);
  if (name == "murmur2") return std::make_unique<JavaDefaultPartitioner>("murmur2", options);
  if (name == "crc32") return std::make_unique<Crc32Partitioner>();
  if (name == "fnv1a") return std::make_unique<Fnv1aPartitioner>(options.seed);
  if (name == "lag-aware") return std::make_unique<LagAwarePartitioner>(options.seed);
  std::string valid;
  for (const std::string_view known : kNames) {
    if (!valid.empty()) valid += ", ";
    valid += known;
  }
  throw std::invalid_argument("unknown partitioner '" + std::string(name) + "'; choose one of " +
                              valid);
}

}  // namespace ebb::partition
