// Load shapes over time: the target send rate (messages/s) at each moment of a run. Pure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ebb::load {

class Profile {
 public:
  virtual ~Profile() = default;
  // Target rate at `seconds` since the start of the run, >= 0.
  virtual double rateAt(double seconds) const = 0;
  // How long the profile lasts when it has a natural end (csv: its last point); nullopt otherwise.
  virtual std::optional<double> duration() const { return std::nullopt; }
  // A one-line description for logs and summaries.
  virtual std::string describe() const = 0;
};

// Parses --profile. `baseRate` is --rate. Grammar (times in seconds, rates in messages/s):
//   constant                         baseRate throughout
//   step:AT:RATE                     baseRate until AT, then RATE
//   spike:START:LENGTH:FACTOR        baseRate, FACTOR x baseRate during [START, START+LENGTH)
//   ramp:FROM:TO:SECONDS             linear from FROM to TO over SECONDS, then TO
//   sine:PERIOD:AMPLITUDE            baseRate x (1 + AMPLITUDE x sin(2 pi t / PERIOD)), 0 <=
//   AMPLITUDE <= 1 csv:PATH                         lines "seconds,rate" (header and # comments
//   allowed), times
//                                    increasing; linear between points, the last rate after the end
// Throws std::invalid_argument with what is wrong and an example of the right form.
std::unique_ptr<Profile> parseProfile(std::string_view spec, double baseRate);

}  // namespace ebb::load
