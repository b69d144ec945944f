#include "ebb/scale/policy_text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "ebb/util/parse_number.h"

namespace ebb::scale {
namespace {

std::string lower(std::string_view text) {
  std::string result(text);
  std::ranges::transform(result, result.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

std::optional<int64_t> parseInt(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

PolicySettings::PolicySettings(std::string_view policy,
                               const std::map<std::string, std::string>& settings)
    : policy_(policy), settings_(settings.begin(), settings.end()) {}

bool PolicySettings::has(std::string_view key) const { return settings_.contains(key); }

std::optional<std::string> PolicySettings::take(std::string_view key) {
  const auto it = settings_.find(key);
  if (it == settings_.end()) return std::nullopt;
  consumed_.emplace(key);
  return it->second;
}

void PolicySettings::fail(std::string_view key, std::string_view what) const {
  const auto it = settings_.find(key);
  const std::string value = it == settings_.end() ? std::string() : it->second;
  throw std::invalid_argument(fmt::format("{} setting {}='{}': {}", policy_, key, value, what));
}

std::optional<int64_t> PolicySettings::integer(std::string_view key, int64_t min, int64_t max) {
  const auto text = take(key);
  if (!text) return std::nullopt;
  const auto value = parseInt(*text);
  if (!value) fail(key, fmt::format("not a whole number; use an integer in [{}, {}]", min, max));
  if (*value < min || *value > max) fail(key, fmt::format("use an integer in [{}, {}]", min, max));
  return value;
}

std::optional<double> PolicySettings::number(std::string_view key, double min, double max) {
  const auto text = take(key);
  if (!text) return std::nullopt;
  const auto value = util::parseNumber(*text);
  if (!value) fail(key, fmt::format("not a number; use a number in [{}, {}]", min, max));
  if (*value < min || *value > max) fail(key, fmt::format("use a number in [{}, {}]", min, max));
  return value;
}

std::optional<bool> PolicySettings::boolean(std::string_view key) {
  const auto text = take(key);
  if (!text) return std::nullopt;
  const std::string value = lower(*text);
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  fail(key, "use true or false");
}

std::optional<std::chrono::milliseconds> PolicySettings::duration(std::string_view key) {
  const auto text = take(key);
  if (!text) return std::nullopt;
  const auto value = parseDuration(*text);
  if (!value) {
    fail(key,
         "use a whole number of milliseconds written as 500ms, 15s, 5m or 1h (a bare number is "
         "seconds)");
  }
  return value;
}

std::optional<std::string> PolicySettings::choice(
    std::string_view key, std::initializer_list<std::string_view> accepted) {
  const auto text = take(key);
  if (!text) return std::nullopt;
  const std::string value = lower(*text);
  for (const std::string_view candidate : accepted) {
    if (lower(candidate) == value) return std::string(candidate);
  }
  fail(key, fmt::format("use one of {}", fmt::join(accepted, ", ")));
}

std::optional<std::string> PolicySettings::text(std::string_view key) { return take(key); }

void PolicySettings::rejectUnknown(const std::vector<std::string_view>& known) const {
  for (const auto& [key, value] : settings_) {
    if (consumed_.contains(key)) continue;
    throw std::invalid_argument(fmt::format("{} setting '{}' is unknown; the {} policy accepts: {}",
                                            policy_, key, policy_, fmt::join(known, ", ")));
  }
}

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  const std::string value = lower(text);
  const size_t unitAt = value.find_first_not_of("0123456789.");
  const std::string_view number = std::string_view(value).substr(0, unitAt);
  const std::string_view unit =
      unitAt == std::string::npos ? std::string_view() : std::string_view(value).substr(unitAt);
  const auto amount = util::parseNumber(number);
  double millisPerUnit = 0;
  if (unit.empty() || unit == "s") {
    millisPerUnit = 1000;
  } else if (unit == "ms") {
    millisPerUnit = 1;
  } else if (unit == "m") {
    millisPerUnit = 60'000;
  } else if (unit == "h") {
    millisPerUnit = 3'600'000;
  }
  if (!amount || millisPerUnit == 0) return std::nullopt;
  const double millis = *amount * millisPerUnit;
  if (millis != std::floor(millis) || millis > 1e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(millis));
}

std::string formatFigure(double value) {
  if (!std::isfinite(value)) return fmt::format("{}", value);
  const double rounded = std::round(value);
  if (std::abs(value - rounded) > 1e-9 * std::max(1.0, std::abs(value)) ||
      std::abs(value) >= 1e18) {
    // Fractions: up to three decimals, trailing zeros dropped ("0.5", "1.25", "3.333").
    std::string text = fmt::format("{:.3f}", value);
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
  }
  const auto whole = static_cast<int64_t>(rounded);
  const std::string digits = std::to_string(whole < 0 ? -whole : whole);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return whole < 0 ? "-" + grouped : grouped;
}

std::string formatDuration(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  const int64_t seconds = ms / 1000;
  if (seconds % 60 != 0 || seconds < 60) return fmt::format("{}s", seconds);
  const int64_t minutes = seconds / 60;
  if (minutes % 60 != 0) return fmt::format("{}m", minutes);
  return fmt::format("{}h", minutes / 60);
}

}  // namespace ebb::scale
