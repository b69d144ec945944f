// Consumer replicas as child processes of this one (`ebb consume ...`). Scale-in sends SIGTERM to
// the newest replica, which drains, commits and leaves its group within its grace period; a
// replica that dies on its own is replaced, with a growing delay while replicas keep dying
// (CrashBackoff); and replicas never outlive this process, even when it is SIGKILLed (the kernel
// sends them SIGTERM when their parent dies). With `warm` K, K more replicas run as standbys
// (started with `standbyArgs`: connected, not in the group); scale-out activates them first
// (SIGUSR1) and starts new standbys behind them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ebb/orchestrate/crash_backoff.h"
#include "ebb/orchestrate/replica_backend.h"

namespace ebb::orchestrate {

struct LocalBackendOptions {
  // The replica's command line; "{replica}" in any argument becomes the replica's number (each
  // start gets a new one), so replicas can write their own files.
  std::vector<std::string> command;
  // How long a stopping replica may drain before it is killed.
  std::chrono::milliseconds gracePeriod{15'000};
  // Each replica's stdout and stderr go to DIR/replica-N.log when set, else to ours.
  std::string logDir;
  // Each replica in a process group of its own: a terminal's Ctrl-C then reaches only the
  // parent, which stops the replicas itself (in its own order, e.g. after draining).
  bool ownProcessGroup = false;
  CrashBackoffOptions crashBackoff;
  // Standby replicas kept ready ahead of need, and what makes the command a standby (appended).
  int32_t warm = 0;
  std::vector<std::string> standbyArgs{"--standby"};
};

class LocalBackend final : public ReplicaBackend {
 public:
  explicit LocalBackend(LocalBackendOptions options);
  LocalBackend(const LocalBackend&) = delete;
  LocalBackend& operator=(const LocalBackend&) = delete;
  ~LocalBackend() override;  // stopAll()

  std::string_view name() const override { return "local"; }
  int32_t reconcile() override;
  void scaleTo(int32_t replicas) override;
  void stopAll() override;

  uint64_t restarts() const override { return restarts_; }
  // Process ids of the running replicas, oldest first (standbys not included).
  std::vector<pid_t> pids() const;
  std::vector<pid_t> standbyPids() const;
  // Standbys turned into replicas, since the start.
  uint64_t activations() const { return activations_; }

 private:
  struct Replica {
    uint64_t number = 0;
    pid_t pid = -1;
    bool stopping = false;
    bool standby = false;
    std::chrono::steady_clock::time_point startedAt;
    std::chrono::steady_clock::time_point stopRequestedAt;
  };
  void start(bool standby);
  void reap();
  void stop(Replica& replica);
  // Activates standbys and starts replicas up to the target, then standbys up to `warm`, as far
  // as the crash backoff allows now.
  void fillUp();
  int32_t runningCount() const;
  int32_t standbyCount() const;

  LocalBackendOptions options_;
  CrashBackoff crashBackoff_;
  int32_t target_ = 0;
  std::vector<Replica> replicas_;
  uint64_t nextNumber_ = 0;
  uint64_t restarts_ = 0;
  uint64_t activations_ = 0;
  bool stoppingAll_ = false;
};

}  // namespace ebb::orchestrate
