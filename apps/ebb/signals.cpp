#include "signals.h"

#include <unistd.h>

#include <pthread.h>

#include <csignal>

namespace ebb::app {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_exitOnSecond{false};
std::atomic<bool> g_activate{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void requestStop(int /*signal*/) {
  if (g_exitOnSecond.load() && g_stop.load()) {
    constexpr char kMessage[] = "\n[ebb] second signal: exiting now\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    ::_exit(130);
  }
  g_stop.store(true);
}

void requestActivation(int /*signal*/) { g_activate.store(true); }

}  // namespace

const std::atomic<bool>& installActivateSignal() {
  struct sigaction action {};
  action.sa_handler = requestActivation;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR1, &action, nullptr);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);  // a pending cue is delivered now
  return g_activate;
}

const std::atomic<bool>& installStopSignals(bool exitOnSecondSignal) {
  if (exitOnSecondSignal) g_exitOnSecond.store(true);
  struct sigaction action {};
  action.sa_handler = requestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return g_stop;
}

}  // namespace ebb::app
