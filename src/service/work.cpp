#include "ebb/service/work.h"

#include <charconv>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace ebb::service {
namespace {

constexpr std::string_view kForm =
    "none, sleep:DURATION or cpu:DURATION, optionally :fixed, :exp or :uniform "
    "(e.g. sleep:1ms or cpu:200us:exp)";

std::invalid_argument badWork(std::string_view text, std::string_view why) {
  return std::invalid_argument(fmt::format("bad --work '{}': {}; expected {}", text, why, kForm));
}

}  // namespace

std::chrono::nanoseconds parseDuration(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double scale = 0;
  if (unit == "ns") scale = 1;
  if (unit == "us") scale = 1e3;
  if (unit == "ms") scale = 1e6;
  if (unit == "s") scale = 1e9;
  if (ec != std::errc() || scale == 0 || value < 0) {
    throw std::invalid_argument(fmt::format(
        "bad duration '{}': expected a number with ns, us, ms or s (e.g. 200us)", text));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(value * scale));
}

WorkSpec WorkSpec::parse(std::string_view text) {
  WorkSpec spec;
  if (text == "none") return spec;
  const auto first = text.find(':');
  if (first == std::string_view::npos) throw badWork(text, "missing duration");
  const auto kind = text.substr(0, first);
  if (kind == "sleep") {
    spec.kind = Kind::kSleep;
  } else if (kind == "cpu") {
    spec.kind = Kind::kCpu;
  } else {
    throw badWork(text, "unknown kind");
  }
  auto rest = text.substr(first + 1);
  const auto second = rest.find(':');
  if (second != std::string_view::npos) {
    const auto distribution = rest.substr(second + 1);
    if (distribution == "exp") {
      spec.distribution = Distribution::kExponential;
    } else if (distribution == "uniform") {
      spec.distribution = Distribution::kUniform;
    } else if (distribution != "fixed") {
      throw badWork(text, "unknown distribution");
    }
    rest = rest.substr(0, second);
  }
  try {
    spec.mean = parseDuration(rest);
  } catch (const std::invalid_argument& error) {
    throw badWork(text, error.what());
  }
  return spec;
}

std::string WorkSpec::describe() const {
  if (kind == Kind::kNone) return "none";
  static constexpr const char* kDistributions[] = {"fixed", "exp", "uniform"};
  return fmt::format("{}:{}us:{}", kind == Kind::kSleep ? "sleep" : "cpu",
                     static_cast<double>(mean.count()) / 1e3,
                     kDistributions[static_cast<int>(distribution)]);
}

std::chrono::nanoseconds Worker::draw() {
  const auto mean = static_cast<double>(spec_.mean.count());
  switch (spec_.distribution) {
    case WorkSpec::Distribution::kExponential:
      return std::chrono::nanoseconds(
          static_cast<int64_t>(std::exponential_distribution<double>(1.0 / mean)(random_)));
    case WorkSpec::Distribution::kUniform:
      return std::chrono::nanoseconds(
          static_cast<int64_t>(std::uniform_real_distribution<double>(0, 2 * mean)(random_)));
    case WorkSpec::Distribution::kFixed:
      break;
  }
  return spec_.mean;
}

void Worker::perform() {
  if (spec_.kind == WorkSpec::Kind::kNone || spec_.mean.count() == 0) return;
  const auto duration = draw();
  if (spec_.kind == WorkSpec::Kind::kSleep) {
    std::this_thread::sleep_for(duration);
    return;
  }
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    // busy: simulated CPU-bound processing
  }
}

}  // namespace ebb::service
