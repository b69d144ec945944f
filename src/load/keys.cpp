#include "ebb/load/keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <random>
#include <stdexcept>

namespace ebb::load {
namespace {

constexpr uint64_t kMaxKeys = 10'000'000;
constexpr std::string_view kKeyPrefix = "key-";
// "key-" and the 20 digits of the largest uint64_t.
constexpr size_t kMaxKeyLength = kKeyPrefix.size() + 20;

std::string_view formatKey(uint64_t index, std::array<char, kMaxKeyLength>& buffer) {
  char* digits = std::copy(kKeyPrefix.begin(), kKeyPrefix.end(), buffer.data());
  const auto [end, ec] = std::to_chars(digits, buffer.data() + buffer.size(), index);
  return {buffer.data(), static_cast<size_t>(end - buffer.data())};
}

class NoKeys final : public KeyGenerator {
 public:
  std::optional<std::string_view> next() override { return std::nullopt; }
  uint64_t keyCount() const override { return 0; }
  std::string describe() const override { return "unkeyed"; }
};

// Keys key-0 .. key-(count-1); subclasses pick the index.
class IndexedKeys : public KeyGenerator {
 public:
  explicit IndexedKeys(uint64_t count) : count_(count) {}
  std::optional<std::string_view> next() final { return formatKey(nextIndex(), buffer_); }
  uint64_t keyCount() const final { return count_; }

 protected:
  virtual uint64_t nextIndex() = 0;
  const uint64_t count_;

 private:
  std::array<char, kMaxKeyLength> buffer_{};
};

// A uniform double in [0, 1) from the top 53 bits: std::mt19937_64's output is fixed by the
// standard, the standard distributions are not, so this keeps a seed's sequence the same on every
// standard library.
class UnitRandom {
 public:
  explicit UnitRandom(uint64_t seed) : engine_(seed) {}
  double operator()() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

class UniformKeys final : public IndexedKeys {
 public:
  UniformKeys(uint64_t count, uint64_t seed) : IndexedKeys(count), random_(seed) {}
  std::string describe() const override { return fmt::format("uniform over {} keys", count_); }

 private:
  uint64_t nextIndex() override {
    const auto index = static_cast<uint64_t>(random_() * static_cast<double>(count_));
    return std::min(index, count_ - 1);
  }
  UnitRandom random_;
};

// Zipf by rejection-inversion (Hörmann and Derflinger, "Rejection-inversion to generate variates
// from monotone discrete distributions", 1996), in the form Apache Commons RNG uses that works for
// every exponent > 0: O(1) memory and expected O(1) time per key whatever N is, where a table of
// the cumulative distribution would take 8 bytes a key (80 MB at N = 10,000,000).
class ZipfKeys final : public IndexedKeys {
 public:
  ZipfKeys(uint64_t count, double exponent, uint64_t seed)
      : IndexedKeys(count),
        exponent_(exponent),
        random_(seed),
        hIntegralX1_(hIntegral(1.5) - 1),
        hIntegralN_(hIntegral(static_cast<double>(count) + 0.5)),
        squeeze_(2 - hIntegralInverse(hIntegral(2.5) - h(2))) {}
  std::string describe() const override {
    return fmt::format("zipf over {} keys, exponent {}", count_, exponent_);
  }

 private:
  uint64_t nextIndex() override {
    const auto n = static_cast<double>(count_);
    while (true) {
      // u is uniform over (hIntegralX1_, hIntegralN_]: each k in [1, N] owns the slice
      // [hIntegral(k - 1/2), hIntegral(k + 1/2)) of it, and k = 1 the whole first slice.
      const double u = hIntegralN_ + random_() * (hIntegralX1_ - hIntegralN_);
      const double x = hIntegralInverse(u);
      const double k = std::clamp(std::floor(x + 0.5), 1.0, n);
      // Accept with probability h(k) / slice width, so P(k) is proportional to h(k) = k^-s. The
      // first test is a cheaper sufficient condition for the second.
      if (k - x <= squeeze_ || u >= hIntegral(k + 0.5) - h(k)) return static_cast<uint64_t>(k) - 1;
    }
  }

  // h(x) = x^-s, the hat function, and its integral H(x) = (x^(1-s) - 1) / (1-s), which tends to
  // log(x) as s -> 1; the helpers keep both precise near s = 1.
  double h(double x) const { return std::exp(-exponent_ * std::log(x)); }
  double hIntegral(double x) const {
    const double logX = std::log(x);
    return expm1OverX((1 - exponent_) * logX) * logX;
  }
  double hIntegralInverse(double x) const {
    // Rounding can take t just below -1, outside log1p's domain.
    const double t = std::max(-1.0, x * (1 - exponent_));
    return std::exp(log1pOverX(t) * x);
  }
  static double log1pOverX(double x) {
    if (std::abs(x) > 1e-8) return std::log1p(x) / x;
    return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
  }
  static double expm1OverX(double x) {
    if (std::abs(x) > 1e-8) return std::expm1(x) / x;
    return 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
  }

  double exponent_;
  UnitRandom random_;
  double hIntegralX1_;
  double hIntegralN_;
  double squeeze_;
};

class SequentialKeys final : public IndexedKeys {
 public:
  using IndexedKeys::IndexedKeys;
  std::string describe() const override { return fmt::format("sequential over {} keys", count_); }

 private:
  uint64_t nextIndex() override {
    const uint64_t index = index_;
    index_ = index + 1 == count_ ? 0 : index + 1;
    return index;
  }
  uint64_t index_ = 0;
};

constexpr std::string_view kKeysUsage = "none, uniform:N, zipf:N:S or sequential:N";

[[noreturn]] void badKeys(std::string_view spec, std::string_view what, std::string_view usage) {
  throw std::invalid_argument(fmt::format("bad --keys '{}': {}; use {}", spec, what, usage));
}

// The whole of `text` as a T, or nullopt.
template <typename T>
std::optional<T> parseWhole(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

uint64_t parseCount(std::string_view spec, std::string_view text, std::string_view usage) {
  const auto count = parseWhole<uint64_t>(text);
  if (!count || *count == 0 || *count > kMaxKeys) {
    badKeys(spec, fmt::format("N must be a whole number from 1 to {}, got '{}'", kMaxKeys, text),
            usage);
  }
  return *count;
}

double parseExponent(std::string_view spec, std::string_view text, std::string_view usage) {
  const auto exponent = parseWhole<double>(text);
  if (!exponent || !std::isfinite(*exponent) || *exponent <= 0) {
    badKeys(spec, fmt::format("S must be a number above 0, got '{}'", text), usage);
  }
  return *exponent;
}

}  // namespace

std::unique_ptr<KeyGenerator> parseKeys(std::string_view spec, uint64_t seed) {
  // Up to three ':'-separated parts; a fourth is trailing junk.
  std::array<std::string_view, 4> parts{};
  size_t partCount = 0;
  for (std::string_view rest = spec; partCount < parts.size(); ++partCount) {
    const size_t colon = rest.find(':');
    parts[partCount] = rest.substr(0, colon);
    if (colon == std::string_view::npos) {
      ++partCount;
      break;
    }
    rest.remove_prefix(colon + 1);
  }
  const std::string_view kind = parts[0];
  const auto expectParts = [&](size_t expected, std::string_view usage) {
    if (partCount != expected) {
      badKeys(spec, fmt::format("{} takes {} field(s)", kind, expected - 1), usage);
    }
  };
  if (kind == "none") {
    expectParts(1, "none");
    return std::make_unique<NoKeys>();
  }
  if (kind == "uniform") {
    constexpr std::string_view kUsage = "uniform:N, e.g. uniform:1000";
    expectParts(2, kUsage);
    return std::make_unique<UniformKeys>(parseCount(spec, parts[1], kUsage), seed);
  }
  if (kind == "zipf") {
    constexpr std::string_view kUsage = "zipf:N:S, e.g. zipf:1000:1.1";
    expectParts(3, kUsage);
    return std::make_unique<ZipfKeys>(parseCount(spec, parts[1], kUsage),
                                      parseExponent(spec, parts[2], kUsage), seed);
  }
  if (kind == "sequential") {
    constexpr std::string_view kUsage = "sequential:N, e.g. sequential:1000";
    expectParts(2, kUsage);
    return std::make_unique<SequentialKeys>(parseCount(spec, parts[1], kUsage));
  }
  badKeys(spec, fmt::format("unknown key distribution '{}'", kind), kKeysUsage);
}

std::string keyName(uint64_t index) {
  std::array<char, kMaxKeyLength> buffer{};
  return std::string(formatKey(index, buffer));
}

}  // namespace ebb::load
