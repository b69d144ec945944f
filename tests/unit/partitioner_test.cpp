#include "ebb/partition/partitioner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::partition {
namespace {

// How many messages each partition got from `messages` calls with the given key.
std::vector<int> spread(Partitioner& partitioner, int32_t partitionCount, int messages,
                        std::optional<std::string_view> key = std::nullopt) {
  std::vector<int> counts(static_cast<size_t>(partitionCount), 0);
  for (int i = 0; i < messages; ++i) {
    ++counts[static_cast<size_t>(partitioner.partition({key, partitionCount, 0}))];
  }
  return counts;
}

int32_t javaPartition(std::string_view key, int32_t count) {
  return toPositive(murmur2(key)) % count;
}
int32_t crc32Partition(std::string_view key, int32_t count) {
  return static_cast<int32_t>(crc32(key) % static_cast<uint32_t>(count));
}
int32_t fnv1aPartition(std::string_view key, int32_t count) {
  return static_cast<int32_t>(fnv1a(key) % static_cast<uint32_t>(count));
}

// Pearson's chi-square of observed counts against an even spread.
double chiSquareEven(const std::vector<int>& counts) {
  double total = 0;
  for (const int c : counts) total += c;
  const double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (const int c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

TEST(PartitionerTest, EveryPartitionerStaysInRange) {
  const std::vector<std::optional<std::string_view>> keys = {
      std::nullopt, "", "k", "key-7", "\xe6\x97\xa5\xe6\x9c\xac", "a much longer key of some size"};
  for (const std::string_view name : partitionerNames()) {
    auto partitioner = makePartitioner(name, {.seed = 3, .stickyBatchMessages = 7});
    for (const int32_t count : {1, 2, 3, 7, 12, 100, 1000}) {
      for (int i = 0; i < 500; ++i) {
        const Input input{keys[static_cast<size_t>(i) % keys.size()], count, i * 1'000'000LL};
        const int32_t p = partitioner->partition(input);
        ASSERT_GE(p, 0) << name << " count " << count;
        ASSERT_LT(p, count) << name << " count " << count;
      }
    }
  }
}

TEST(PartitionerTest, LagAwareStaysInRangeWithLags) {
  LagAwarePartitioner partitioner(5);
  const std::vector<int64_t> lags = {0, 10, -3, std::numeric_limits<int64_t>::max(), 7, 0};
  partitioner.updateLag(lags);
  for (int i = 0; i < 10'000; ++i) {
    const int32_t p = partitioner.partition({std::nullopt, 6, 0});
    ASSERT_GE(p, 0);
    ASSERT_LT(p, 6);
  }
}

TEST(PartitionerTest, FactoryBuildsEveryListedName) {
  ASSERT_EQ(partitionerNames().size(), 7u);
  for (const std::string_view name : partitionerNames()) {
    EXPECT_EQ(makePartitioner(name)->name(), name);
  }
  EXPECT_NE(dynamic_cast<LagAwarePartitioner*>(makePartitioner("lag-aware").get()), nullptr);
}

TEST(PartitionerTest, FactoryRejectsUnknownNamesListingTheValidOnes) {
  try {
    makePartitioner("hashing");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("hashing"), std::string::npos) << message;
    for (const std::string_view name : partitionerNames()) {
      EXPECT_NE(message.find(name), std::string::npos) << name << " missing from: " << message;
    }
  }
}

TEST(PartitionerTest, RoundRobinCyclesEvenlyAndIgnoresKeys) {
  auto partitioner = makePartitioner("round-robin");
  for (int i = 0; i < 50; ++i) {
    const std::optional<std::string_view> key =
        i % 2 == 0 ? std::nullopt : std::optional<std::string_view>("same");
    EXPECT_EQ(partitioner->partition({key, 5, 0}), i % 5);
  }
  const auto counts = spread(*partitioner, 7, 700);
  EXPECT_TRUE(std::all_of(counts.begin(), counts.end(), [](int c) { return c == 100; }));
}

TEST(PartitionerTest, RandomIsRoughlyEvenAndSeeded) {
  auto partitioner = makePartitioner("random", {.seed = 42});
  const auto counts = spread(*partitioner, 12, 120'000, "keys are ignored");
  // 11 degrees of freedom: 31.26 is the 99.9th percentile; the seed makes the run repeatable.
  EXPECT_LT(chiSquareEven(counts), 31.26);

  auto a = makePartitioner("random", {.seed = 9});
  auto b = makePartitioner("random", {.seed = 9});
  auto c = makePartitioner("random", {.seed = 10});
  int differences = 0;
  for (int i = 0; i < 100; ++i) {
    const int32_t fromA = a->partition({std::nullopt, 1000, 0});
    EXPECT_EQ(fromA, b->partition({std::nullopt, 1000, 0}));
    differences += fromA != c->partition({std::nullopt, 1000, 0}) ? 1 : 0;
  }
  EXPECT_GT(differences, 90);
}

// sticky and murmur2 are Java's default partitioner: both stick for unkeyed messages.
class StickyTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(StickyTest, StaysForABatchThenSwitchesToAnotherPartition) {
  auto partitioner = makePartitioner(
      GetParam(), {.seed = 11, .stickyBatchMessages = 10, .stickyLingerNanos = 1'000'000'000});
  int32_t previous = -1;
  std::set<int32_t> visited;
  for (int batch = 0; batch < 100; ++batch) {
    const int32_t first = partitioner->partition({std::nullopt, 6, 0});
    EXPECT_NE(first, previous) << "batch " << batch;
    for (int i = 1; i < 10; ++i) {
      EXPECT_EQ(partitioner->partition({std::nullopt, 6, 0}), first) << "batch " << batch;
    }
    previous = first;
    visited.insert(first);
  }
  EXPECT_EQ(visited.size(), 6u);
}

TEST_P(StickyTest, SwitchesWhenTheLingerTimeHasPassed) {
  auto partitioner =
      makePartitioner(GetParam(), {.seed = 4, .stickyBatchMessages = 1000, .stickyLingerNanos = 5});
  const int32_t first = partitioner->partition({std::nullopt, 4, 100});
  EXPECT_EQ(partitioner->partition({std::nullopt, 4, 104}), first);
  const int32_t second = partitioner->partition({std::nullopt, 4, 105});
  EXPECT_NE(second, first);
  EXPECT_EQ(partitioner->partition({std::nullopt, 4, 109}), second);
  EXPECT_NE(partitioner->partition({std::nullopt, 4, 110}), second);
}

TEST_P(StickyTest, KeyedMessagesUseMurmur2AndLeaveTheStickyPartitionAlone) {
  auto partitioner = makePartitioner(GetParam(), {.seed = 8, .stickyBatchMessages = 3});
  const int32_t sticky = partitioner->partition({std::nullopt, 12, 0});
  for (int i = 0; i < 20; ++i) {
    const std::string key = "key-" + std::to_string(i);
    EXPECT_EQ(partitioner->partition({key, 12, 0}), javaPartition(key, 12));
  }
  EXPECT_EQ(partitioner->partition({std::nullopt, 12, 0}), sticky);  // keyed ones did not count
  EXPECT_EQ(partitioner->partition({std::nullopt, 12, 0}), sticky);
}

TEST_P(StickyTest, OnePartitionIsAlwaysZero) {
  auto partitioner = makePartitioner(GetParam(), {.stickyBatchMessages = 1});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(partitioner->partition({std::nullopt, 1, i}), 0);
}

INSTANTIATE_TEST_SUITE_P(JavaDefault, StickyTest, ::testing::Values("sticky", "murmur2"));

// Each keyed partitioner maps a key the way its reference client does, whatever the seed or the
// unkeyed messages in between.
struct KeyedCase {
  std::string_view name;
  int32_t (*expected)(std::string_view key, int32_t count);
  std::string_view testName;  // name without '-', which test names may not hold
};

// GoogleTest prints a parameter in test listings; the partitioner's name says it all.
void PrintTo(const KeyedCase& keyed, std::ostream* out) { *out << keyed.name; }

class KeyedTest : public ::testing::TestWithParam<KeyedCase> {};

TEST_P(KeyedTest, SameKeySamePartition) {
  auto a = makePartitioner(GetParam().name, {.seed = 1});
  auto b = makePartitioner(GetParam().name, {.seed = 2});
  std::set<int32_t> used;
  for (int i = 0; i < 200; ++i) {
    const std::string key = "user-" + std::to_string(i * 7919);
    const int32_t p = a->partition({key, 24, i});
    a->partition({std::nullopt, 24, i});
    EXPECT_EQ(b->partition({key, 24, 0}), p) << key;
    EXPECT_EQ(a->partition({key, 24, i + 1}), p) << key;
    EXPECT_EQ(p, GetParam().expected(key, 24)) << key;
    used.insert(p);
  }
  EXPECT_GT(used.size(), 20u);  // and the keys do spread
}

INSTANTIATE_TEST_SUITE_P(Hashes, KeyedTest,
                         ::testing::Values(KeyedCase{"murmur2", javaPartition, "murmur2"},
                                           KeyedCase{"sticky", javaPartition, "sticky"},
                                           KeyedCase{"lag-aware", javaPartition, "lag_aware"},
                                           KeyedCase{"crc32", crc32Partition, "crc32"},
                                           KeyedCase{"fnv1a", fnv1aPartition, "fnv1a"}),
                         [](const ::testing::TestParamInfo<KeyedCase>& param) {
                           return std::string(param.param.testName);
                         });

struct HashVector {
  std::string_view input;
  uint32_t expected;
};

// The check value of CRC-32/ISO-HDLC (zlib's) and the classic pangram.
TEST(HashTest, Crc32MatchesPublishedVectors) {
  for (const auto& [input, expected] : std::array<HashVector, 3>{{
           {"", 0x00000000},
           {"123456789", 0xcbf43926},
           {"The quick brown fox jumps over the lazy dog", 0x414fa339},
       }}) {
    EXPECT_EQ(crc32(input), expected) << '"' << input << '"';
  }
}

// From the FNV reference test suite (Landon Curt Noll, fnv_test.c, FNV-1a 32-bit).
TEST(HashTest, Fnv1aMatchesPublishedVectors) {
  for (const auto& [input, expected] : std::array<HashVector, 5>{{
           {"", 0x811c9dc5},
           {"a", 0xe40c292c},
           {"fo", 0x6222e842},
           {"foo", 0xa9f37ed7},
           {"foobar", 0xbf9cf968},
       }}) {
    EXPECT_EQ(fnv1a(input), expected) << '"' << input << '"';
  }
}

TEST(HashTest, ToPositiveClearsOnlyTheSignBit) {
  EXPECT_EQ(toPositive(-1), 0x7fffffff);
  EXPECT_EQ(toPositive(std::numeric_limits<int32_t>::min()), 0);
  EXPECT_EQ(toPositive(12345), 12345);
}

TEST(PartitionerTest, Crc32SendsNullAndEmptyKeysToPartitionZero) {
  auto partitioner = makePartitioner("crc32");
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(partitioner->partition({std::nullopt, 9, i}), 0);
    EXPECT_EQ(partitioner->partition({"", 9, i}), 0);
  }
}

TEST(PartitionerTest, Fnv1aSpreadsNullKeysAtRandom) {
  auto partitioner = makePartitioner("fnv1a", {.seed = 6});
  const auto counts = spread(*partitioner, 8, 80'000);
  EXPECT_LT(chiSquareEven(counts), 24.32);  // 7 degrees of freedom, 99.9th percentile
}

TEST(LagAwareTest, WithoutLagsUnkeyedMessagesGoRoundRobin) {
  LagAwarePartitioner partitioner(1);
  EXPECT_TRUE(partitioner.weights().empty());
  for (int i = 0; i < 12; ++i) EXPECT_EQ(partitioner.partition({std::nullopt, 4, 0}), i % 4);

  // Lags for another partition count (the topic grew): round-robin until they match again.
  const std::vector<int64_t> lags = {0, 0, 100};
  partitioner.updateLag(lags);
  EXPECT_EQ(partitioner.weights().size(), 3u);
  const auto counts = spread(partitioner, 4, 400);
  EXPECT_TRUE(std::all_of(counts.begin(), counts.end(), [](int c) { return c == 100; }));
}

TEST(LagAwareTest, SendsMoreUnkeyedMessagesToLowLagPartitions) {
  LagAwarePartitioner partitioner(7);
  const std::vector<int64_t> lags = {0, 0, 100'000, 100'000};
  partitioner.updateLag(lags);
  const auto weights = partitioner.weights();
  ASSERT_EQ(weights.size(), 4u);
  EXPECT_DOUBLE_EQ(weights[0], weights[1]);
  EXPECT_DOUBLE_EQ(weights[2], weights[3]);
  EXPECT_GT(weights[0], 2 * weights[2]);
  EXPECT_GT(weights[2], 0.0);

  const int messages = 100'000;
  const auto counts = spread(partitioner, 4, messages);
  for (size_t p = 0; p < 4; ++p) {
    EXPECT_NEAR(counts[p], weights[p] * messages, 0.01 * messages) << "partition " << p;
  }
  EXPECT_GT(std::min(counts[0], counts[1]), 2 * std::max(counts[2], counts[3]));
}

TEST(LagAwareTest, EqualLagsGiveEvenWeights) {
  LagAwarePartitioner partitioner(1);
  for (const int64_t lag : {int64_t{0}, int64_t{5}, int64_t{1'000'000'000}}) {
    const std::vector<int64_t> lags(5, lag);
    partitioner.updateLag(lags);
    for (const double w : partitioner.weights()) EXPECT_DOUBLE_EQ(w, 0.2) << "lag " << lag;
  }
}

TEST(LagAwareTest, NoPartitionStarvesAndWeightsSumToOne) {
  LagAwarePartitioner partitioner(1);
  std::vector<int64_t> lags(1000, 0);
  lags[17] = std::numeric_limits<int64_t>::max();
  lags[18] = -50;  // a bad reading counts as no lag
  partitioner.updateLag(lags);
  const auto weights = partitioner.weights();
  double sum = 0;
  for (const double w : weights) {
    EXPECT_GE(w, 0.1 / 1000);  // at least the even share's part
    sum += w;
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_LT(weights[17], weights[0]);
  EXPECT_DOUBLE_EQ(weights[18], weights[0]);

  const auto counts = spread(partitioner, 1000, 2'000'000);
  EXPECT_GT(counts[17], 0);
}

}  // namespace
}  // namespace ebb::partition
