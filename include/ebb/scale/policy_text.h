// Text in and out of scaling policies: the CLI's key=value settings, read into typed values with
// errors that name the key and what it accepts, and the figures that Decision reasons print.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ebb::scale {

// One policy's settings. Each getter consumes its key and returns nullopt when it is absent, so a
// config's fromSettings reads the keys it knows and then calls rejectUnknown() for the rest.
// Every error is a std::invalid_argument naming the policy, the key and what it accepts.
class PolicySettings {
 public:
  PolicySettings(std::string_view policy, const std::map<std::string, std::string>& settings);

  bool has(std::string_view key) const;
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<double> number(std::string_view key, double min, double max);
  // true/false, 1/0, yes/no, in any case: what KEDA's trigger metadata (strconv.ParseBool) and a
  // shell user would write.
  std::optional<bool> boolean(std::string_view key);
  // "500ms", "15s", "5m", "1h", or a bare number of seconds ("300", as KEDA's cooldownPeriod).
  std::optional<std::chrono::milliseconds> duration(std::string_view key);
  // One of `accepted`, compared without case; returns the accepted spelling.
  std::optional<std::string> choice(std::string_view key,
                                    std::initializer_list<std::string_view> accepted);
  // The raw text, for values with a grammar of their own; fail() reports what is wrong with it.
  std::optional<std::string> text(std::string_view key);

  // Throws for the first key no getter consumed, listing `known`.
  void rejectUnknown(const std::vector<std::string_view>& known) const;
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;

 private:
  std::optional<std::string> take(std::string_view key);

  std::string policy_;
  std::map<std::string, std::string, std::less<>> settings_;
  std::set<std::string, std::less<>> consumed_;
};

// "500ms", "15s", "5m", "1h", "1.5s", or a bare number of seconds; nullopt if it is none of these
// or not a whole number of milliseconds.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// "48,000", "1,200,000", "0.5", "-3": integers with thousands separators, fractions with up to
// three significant decimals. How every figure in a reason is printed.
std::string formatFigure(double value);
// "500ms", "15s", "90s", "5m", "90m", "1h": the largest unit that is exact, as parseDuration reads
// it.
std::string formatDuration(std::chrono::milliseconds duration);

}  // namespace ebb::scale
