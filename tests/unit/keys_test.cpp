#include "ebb/load/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::load {
namespace {

// The index in "key-<index>"; UINT64_MAX (and a failure) for anything else.
uint64_t indexOf(std::string_view key) {
  uint64_t index = 0;
  constexpr std::string_view kPrefix = "key-";
  if (key.starts_with(kPrefix)) {
    const char* end = key.data() + key.size();
    const auto [ptr, ec] = std::from_chars(key.data() + kPrefix.size(), end, index);
    if (ec == std::errc() && ptr == end) return index;
  }
  ADD_FAILURE() << "not a key name: '" << key << "'";
  return UINT64_MAX;
}

// How often each key came up in `draws` keys.
std::vector<uint64_t> histogram(KeyGenerator& keys, int draws) {
  std::vector<uint64_t> counts(keys.keyCount(), 0);
  for (int i = 0; i < draws; ++i) {
    const auto key = keys.next();
    EXPECT_TRUE(key.has_value());
    const uint64_t index = indexOf(key.value_or("key-0"));
    EXPECT_LT(index, counts.size());
    if (index < counts.size()) ++counts[index];
  }
  return counts;
}

TEST(KeysTest, NoneGivesUnkeyedMessages) {
  const auto keys = parseKeys("none", 1);
  EXPECT_EQ(keys->next(), std::nullopt);
  EXPECT_EQ(keys->next(), std::nullopt);
  EXPECT_EQ(keys->keyCount(), 0u);
  EXPECT_EQ(keys->describe(), "unkeyed");
}

TEST(KeysTest, UniformIsRoughlyEven) {
  const auto keys = parseKeys("uniform:10", 42);
  EXPECT_EQ(keys->keyCount(), 10u);
  const auto counts = histogram(*keys, 100'000);
  // 10,000 expected per key, standard deviation about 95.
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(counts[i]), 10'000, 500) << "key-" << i;
  }
}

TEST(KeysTest, ZipfHotKeyRatioFollowsTheExponent) {
  struct Case {
    std::string spec;
    double expectedRatio;  // P(key-0) / P(key-1) = 2^S
    double tolerance;
  };
  const std::vector<Case> cases = {
      {"zipf:1000:1", 2.0, 0.1},
      {"zipf:100:2", 4.0, 0.15},
      {"zipf:10000000:1.2", std::pow(2.0, 1.2), 0.1},
  };
  for (const Case& c : cases) {
    const auto keys = parseKeys(c.spec, 7);
    uint64_t first = 0, second = 0, hottestOther = 0;
    std::vector<uint64_t> others(1000, 0);
    for (int i = 0; i < 200'000; ++i) {
      const uint64_t index = indexOf(keys->next().value_or(""));
      ASSERT_LT(index, keys->keyCount()) << c.spec;
      if (index == 0) ++first;
      if (index == 1) ++second;
      if (index >= 1 && index < others.size())
        hottestOther = std::max(hottestOther, ++others[index]);
    }
    EXPECT_GT(first, hottestOther) << c.spec << ": key-0 is the hottest";
    ASSERT_GT(second, 0u) << c.spec;
    EXPECT_NEAR(static_cast<double>(first) / static_cast<double>(second), c.expectedRatio,
                c.tolerance)
        << c.spec;
  }
}

TEST(KeysTest, ZipfMatchesItsProbabilities) {
  constexpr int kDraws = 200'000;
  constexpr double kExponent = 1.5;
  const auto keys = parseKeys("zipf:10:1.5", 3);
  const auto counts = histogram(*keys, kDraws);
  double norm = 0;
  for (int i = 1; i <= 10; ++i) norm += std::pow(i, -kExponent);
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = kDraws * std::pow(static_cast<double>(i + 1), -kExponent) / norm;
    EXPECT_NEAR(static_cast<double>(counts[i]), expected, 5 * std::sqrt(expected)) << "key-" << i;
  }
}

TEST(KeysTest, SequentialCycles) {
  const auto keys = parseKeys("sequential:3", 1);
  std::vector<std::string> seen;
  for (int i = 0; i < 7; ++i) seen.emplace_back(keys->next().value_or(""));
  EXPECT_EQ(seen, (std::vector<std::string>{"key-0", "key-1", "key-2", "key-0", "key-1", "key-2",
                                            "key-0"}));
  EXPECT_EQ(keys->keyCount(), 3u);
}

TEST(KeysTest, SameSeedSameSequenceOtherSeedAnother) {
  for (const std::string spec : {"uniform:1000", "zipf:1000:0.8"}) {
    const auto a = parseKeys(spec, 11);
    const auto b = parseKeys(spec, 11);
    const auto c = parseKeys(spec, 12);
    int differences = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::string fromA(a->next().value_or(""));
      EXPECT_EQ(fromA, b->next().value_or("")) << spec << " draw " << i;
      differences += fromA != c->next().value_or("") ? 1 : 0;
    }
    EXPECT_GT(differences, 100) << spec;
  }
}

TEST(KeysTest, KeyNamesAndDescriptions) {
  EXPECT_EQ(keyName(0), "key-0");
  EXPECT_EQ(keyName(9'999'999), "key-9999999");
  EXPECT_EQ(keyName(UINT64_MAX), "key-18446744073709551615");
  EXPECT_EQ(parseKeys("uniform:1000", 1)->describe(), "uniform over 1000 keys");
  EXPECT_EQ(parseKeys("zipf:1000:1.1", 1)->describe(), "zipf over 1000 keys, exponent 1.1");
  EXPECT_EQ(parseKeys("sequential:5", 1)->describe(), "sequential over 5 keys");
  EXPECT_EQ(parseKeys("uniform:10000000", 1)->keyCount(), 10'000'000u);
}

TEST(KeysTest, MalformedSpecsThrowWithTheExpectedForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "unknown key distribution ''"},
      {"random:10", "unknown key distribution 'random'; use none, uniform:N, zipf:N:S"},
      {"none:3", "none takes 0 field(s)"},
      {"uniform", "uniform takes 1 field(s); use uniform:N, e.g. uniform:1000"},
      {"uniform:0", "N must be a whole number from 1 to 10000000, got '0'"},
      {"uniform:10000001", "from 1 to 10000000, got '10000001'"},
      {"uniform:-1", "got '-1'"},
      {"uniform:abc", "got 'abc'"},
      {"uniform:10x", "got '10x'"},
      {"uniform:1.5", "got '1.5'"},
      {"uniform:10:2", "uniform takes 1 field(s)"},
      {"zipf:100", "zipf takes 2 field(s); use zipf:N:S, e.g. zipf:1000:1.1"},
      {"zipf:100:", "S must be a number above 0, got ''"},
      {"zipf:100:0", "S must be a number above 0, got '0'"},
      {"zipf:100:-1", "got '-1'"},
      {"zipf:100:nan", "got 'nan'"},
      {"zipf:0:1", "N must be a whole number"},
      {"zipf:100:1:5", "zipf takes 2 field(s)"},
      {"sequential", "use sequential:N, e.g. sequential:1000"},
      {"sequential:20000000", "from 1 to 10000000"},
  };
  for (const auto& [spec, fragment] : cases) {
    try {
      parseKeys(spec, 1);
      ADD_FAILURE() << "'" << spec << "' was accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
          << spec << ": " << error.what();
    }
  }
}

}  // namespace
}  // namespace ebb::load
