// What `ebb demo` reports while it runs: the state of the current run as data, and the interface a
// front end implements to show it (the terminal's screen and log lines live in apps/ebb).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ebb/report/summary.h"

namespace ebb::demo {

struct ViewState {
  std::string policy;
  size_t run = 1;  // this policy's turn when comparing, of `runs`
  size_t runs = 1;
  std::string topic;
  std::string load;  // the profile in words
  double objectiveMs = 500;
  std::string phase;   // "starting", "before the spike", "spike", "draining", ...
  double elapsed = 0;  // seconds since the load started
  double duration = 0;
  double targetRate = 0;
  double produceRate = 0;
  double consumeRate = 0;
  int64_t lag = 0;
  std::vector<int64_t> partitionLag;  // by partition
  int32_t desired = 0;
  int32_t running = 0;
  int32_t members = 0;
  std::optional<double> p50Ms;
  std::optional<double> p99Ms;
  std::optional<report::ScaleEvent> lastChange;  // the last change of the replica count
  std::string lastReason;                        // the policy's latest reason, change or not
};

// Where the demo reports to. Called from the demo's thread only.
class DemoView {
 public:
  virtual ~DemoView() = default;
  // The state once a tick (about a second) and at phase changes.
  virtual void show(const ViewState& state) = 0;
  // A scale event or a phase change, as a sentence (a screen may already show it).
  virtual void note(const std::string& text) = 0;
  // Text below the view (lines ending in '\n'), which stays as it was last shown.
  virtual void print(const std::string& text) = 0;
  // The current run is over: nothing more is shown until the next run's first show().
  virtual void finish() = 0;
};

// 92 -> "1:32".
std::string clock(double seconds);

}  // namespace ebb::demo
