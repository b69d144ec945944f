#include "ebb/load/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numbers>
#include <stdexcept>
#include <utility>
#include <vector>

#include "ebb/util/parse_number.h"

namespace ebb::load {
namespace {

class ConstantProfile final : public Profile {
 public:
  explicit ConstantProfile(double rate) : rate_(rate) {}
  double rateAt(double /*seconds*/) const override { return rate_; }
  std::string describe() const override { return fmt::format("constant {} msg/s", rate_); }

 private:
  double rate_;
};

class StepProfile final : public Profile {
 public:
  StepProfile(double before, double at, double after) : before_(before), at_(at), after_(after) {}
  double rateAt(double seconds) const override { return seconds < at_ ? before_ : after_; }
  std::string describe() const override {
    return fmt::format("{} msg/s, then {} msg/s from {} s", before_, after_, at_);
  }

 private:
  double before_, at_, after_;
};

class SpikeProfile final : public Profile {
 public:
  SpikeProfile(double base, double start, double length, double factor)
      : base_(base), start_(start), end_(start + length), factor_(factor) {}
  double rateAt(double seconds) const override {
    return seconds >= start_ && seconds < end_ ? base_ * factor_ : base_;
  }
  std::string describe() const override {
    return fmt::format("{} msg/s, spike x{} ({} msg/s) during [{} s, {} s)", base_, factor_,
                       base_ * factor_, start_, end_);
  }

 private:
  double base_, start_, end_, factor_;
};

class RampProfile final : public Profile {
 public:
  RampProfile(double from, double to, double seconds) : from_(from), to_(to), seconds_(seconds) {}
  double rateAt(double seconds) const override {
    if (seconds >= seconds_) return to_;
    return from_ + (to_ - from_) * std::max(seconds, 0.0) / seconds_;
  }
  std::string describe() const override {
    return fmt::format("ramp {} -> {} msg/s over {} s, then {} msg/s", from_, to_, seconds_, to_);
  }

 private:
  double from_, to_, seconds_;
};

class SineProfile final : public Profile {
 public:
  SineProfile(double base, double period, double amplitude)
      : base_(base), period_(period), amplitude_(amplitude) {}
  double rateAt(double seconds) const override {
    const double phase = 2 * std::numbers::pi * seconds / period_;
    return std::max(0.0, base_ * (1 + amplitude_ * std::sin(phase)));
  }
  std::string describe() const override {
    return fmt::format("sine around {} msg/s, amplitude {}, period {} s", base_, amplitude_,
                       period_);
  }

 private:
  double base_, period_, amplitude_;
};

struct Point {
  double seconds;
  double rate;
};

class CsvProfile final : public Profile {
 public:
  CsvProfile(std::string path, std::vector<Point> points)
      : path_(std::move(path)), points_(std::move(points)) {}
  double rateAt(double seconds) const override {
    // The first point after `seconds`; equal times make a jump, the later point wins.
    const auto after = std::upper_bound(points_.begin(), points_.end(), seconds,
                                        [](double t, const Point& p) { return t < p.seconds; });
    if (after == points_.begin()) return after->rate;
    if (after == points_.end()) return points_.back().rate;
    const Point& a = *(after - 1);
    const Point& b = *after;
    return a.rate + (b.rate - a.rate) * (seconds - a.seconds) / (b.seconds - a.seconds);
  }
  std::optional<double> duration() const override { return points_.back().seconds; }
  std::string describe() const override {
    return fmt::format("csv {}: {} points over {} s", path_, points_.size(),
                       points_.back().seconds);
  }

 private:
  std::string path_;
  std::vector<Point> points_;  // non-empty, times non-decreasing
};

// One profile kind's grammar: "spike:START:LENGTH:FACTOR" names the fields in error messages.
struct Form {
  std::string_view usage;
  std::string_view example;

  std::string_view kind() const { return usage.substr(0, usage.find(':')); }
  size_t fieldCount() const { return static_cast<size_t>(std::ranges::count(usage, ':')); }
  std::string_view fieldName(size_t index) const {
    std::string_view rest = usage;
    for (size_t i = 0; i <= index; ++i) rest.remove_prefix(rest.find(':') + 1);
    return rest.substr(0, rest.find(':'));
  }
};

constexpr std::array<Form, 6> kForms{{
    {"constant", "constant"},
    {"step:AT:RATE", "step:60:5000"},
    {"spike:START:LENGTH:FACTOR", "spike:60:90:8"},
    {"ramp:FROM:TO:SECONDS", "ramp:100:10000:300"},
    {"sine:PERIOD:AMPLITUDE", "sine:600:0.5"},
    {"csv:PATH", "csv:load.csv (lines \"seconds,rate\")"},
}};

[[noreturn]] void fail(std::string_view spec, const Form& form, std::string_view what) {
  throw std::invalid_argument(
      fmt::format("bad --profile '{}': {}; use {}, e.g. {}", spec, what, form.usage, form.example));
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// The numeric fields after the kind, each a non-negative number.
std::vector<double> parseFields(std::string_view spec, const Form& form) {
  std::vector<std::string_view> texts;
  std::string_view rest = spec.substr(std::min(spec.size(), form.kind().size()));
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the ':' before each field
    texts.push_back(rest.substr(0, rest.find(':')));
    rest.remove_prefix(texts.back().size());
  }
  if (texts.size() != form.fieldCount()) {
    fail(spec, form,
         fmt::format("{} takes {} field(s), got {}", form.kind(), form.fieldCount(), texts.size()));
  }
  std::vector<double> values;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto value = util::parseNumber(texts[i]);
    if (!value)
      fail(spec, form, fmt::format("{} '{}' is not a number", form.fieldName(i), texts[i]));
    if (*value < 0) fail(spec, form, fmt::format("{} must not be negative", form.fieldName(i)));
    values.push_back(*value);
  }
  return values;
}

std::unique_ptr<Profile> parseCsv(std::string_view spec, const Form& form) {
  const std::string path(spec.substr(std::min(spec.size(), form.kind().size() + 1)));
  if (path.empty()) fail(spec, form, "the path is missing");
  errno = 0;
  std::ifstream file(path);
  if (!file) {
    fail(spec, form,
         fmt::format("cannot read '{}': {}", path,
                     errno != 0 ? std::strerror(errno) : "cannot open"));
  }
  std::vector<Point> points;
  bool headerAllowed = true;
  std::string line;
  for (int lineNumber = 1; std::getline(file, line); ++lineNumber) {
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const size_t comma = text.find(',');
    const auto seconds = util::parseNumber(trim(text.substr(0, comma)));
    std::optional<double> rate;
    if (comma != std::string_view::npos) rate = util::parseNumber(trim(text.substr(comma + 1)));
    if (headerAllowed && !seconds && !rate) {  // a header such as "seconds,rate"
      headerAllowed = false;
      continue;
    }
    headerAllowed = false;
    if (!seconds || !rate || *seconds < 0 || *rate < 0) {
      fail(spec, form,
           fmt::format("{} line {}: expected \"seconds,rate\" with non-negative numbers, got '{}'",
                       path, lineNumber, text));
    }
    if (!points.empty() && *seconds < points.back().seconds) {
      fail(
          spec, form,
          fmt::format("{} line {}: time {} is before the previous point's {} (times must increase)",
                      path, lineNumber, *seconds, points.back().seconds));
    }
    points.push_back({*seconds, *rate});
  }
  if (file.bad()) fail(spec, form, fmt::format("cannot read '{}'", path));  // e.g. a directory
  if (points.empty()) fail(spec, form, fmt::format("'{}' has no \"seconds,rate\" lines", path));
  return std::make_unique<CsvProfile>(path, std::move(points));
}

}  // namespace

std::unique_ptr<Profile> parseProfile(std::string_view spec, double baseRate) {
  const std::string_view kind = spec.substr(0, spec.find(':'));
  const auto form = std::ranges::find(kForms, kind, &Form::kind);
  if (form == kForms.end()) {
    std::string usages;
    for (const Form& f : kForms) usages += fmt::format("{}{}", usages.empty() ? "" : ", ", f.usage);
    throw std::invalid_argument(fmt::format("unknown --profile '{}'; use one of {}", spec, usages));
  }
  if (!std::isfinite(baseRate) || baseRate < 0) {
    fail(spec, *form, fmt::format("--rate must be a non-negative number, got {}", baseRate));
  }
  if (kind == "csv") return parseCsv(spec, *form);

  const std::vector<double> f = parseFields(spec, *form);
  if (kind == "constant") return std::make_unique<ConstantProfile>(baseRate);
  if (kind == "step") return std::make_unique<StepProfile>(baseRate, f[0], f[1]);
  if (kind == "spike") {
    if (f[1] == 0) fail(spec, *form, "LENGTH must be more than 0");
    return std::make_unique<SpikeProfile>(baseRate, f[0], f[1], f[2]);
  }
  if (kind == "ramp") {
    if (f[2] == 0) fail(spec, *form, "SECONDS must be more than 0");
    return std::make_unique<RampProfile>(f[0], f[1], f[2]);
  }
  // sine, the one form left.
  if (f[0] == 0) fail(spec, *form, "PERIOD must be more than 0");
  if (f[1] > 1) fail(spec, *form, fmt::format("AMPLITUDE must be from 0 to 1, got {}", f[1]));
  return std::make_unique<SineProfile>(baseRate, f[0], f[1]);
}

}  // namespace ebb::load
