// What `ebb demo` shows while it runs: a screen redrawn once a second on a terminal, or one plain
// line at a time for logs and CI. Pure: a state in, text out.
#pragma once

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

// The screen: lines ending in '\n', none wider than `width` columns; ANSI colours when `color`.
std::string renderView(const ViewState& state, int width, bool color);

// One line without colours, for a log: time, rates, lag, replicas, latency.
std::string renderLine(const ViewState& state);

// 92 -> "1:32".
std::string clock(double seconds);

// Columns `text` takes on a terminal: UTF-8 code points (the view uses no wide characters).
size_t columns(const std::string& text);

}  // namespace ebb::demo
