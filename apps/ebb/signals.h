// SIGINT and SIGTERM request a graceful stop: services poll the flag and drain.
#pragma once

#include <atomic>

namespace ebb::app {

// Installs the handlers (once) and returns the flag they set. With `exitOnSecondSignal`, a second
// signal ends the process at once with status 130, for a stop that takes its time (children end
// with us: they get SIGTERM from the kernel when their parent dies).
const std::atomic<bool>& installStopSignals(bool exitOnSecondSignal = false);

// SIGUSR1 sets the returned flag (a standby replica's cue to join its group), also when it arrived
// before this call while blocked: the local backend starts standbys with SIGUSR1 blocked, so a
// cue sent early waits instead of killing the process.
const std::atomic<bool>& installActivateSignal();

}  // namespace ebb::app
