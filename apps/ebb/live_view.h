// What `ebb demo` shows while it runs: a screen redrawn once a second on a terminal, or one plain
// line at a time for logs and CI. Pure: a state in, text out.
#pragma once

#include <cstddef>
#include <string>

#include "ebb/demo/demo_view.h"

namespace ebb::app {

// The screen: lines ending in '\n', none wider than `width` columns; ANSI colours when `color`.
std::string renderView(const demo::ViewState& state, int width, bool color);

// One line without colours, for a log: time, rates, lag, replicas, latency.
std::string renderLine(const demo::ViewState& state);

// Columns `text` takes on a terminal: UTF-8 code points (the view uses no wide characters).
size_t columns(const std::string& text);

}  // namespace ebb::app
