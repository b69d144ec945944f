// SIGINT and SIGTERM request a graceful stop: services poll the flag and drain.
#pragma once

#include <atomic>

namespace ebb::app {

// Installs the handlers (once) and returns the flag they set. With `exitOnSecondSignal`, a second
// signal ends the process at once with status 130, for a stop that takes its time (children end
// with us: they get SIGTERM from the kernel when their parent dies).
const std::atomic<bool>& installStopSignals(bool exitOnSecondSignal = false);

}  // namespace ebb::app
