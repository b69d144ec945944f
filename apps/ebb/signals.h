// SIGINT and SIGTERM request a graceful stop: services poll the flag and drain.
#pragma once

#include <atomic>

namespace ebb::app {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& installStopSignals();

}  // namespace ebb::app
