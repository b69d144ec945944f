// Child processes of ebb: fork/exec with output to files, optionally in their own process group
// and ended by the kernel when ebb dies. The local backend's replicas, and the demo's producer,
// broker script and gnuplot, all start here.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ebb::orchestrate {

struct SpawnOptions {
  // Appended to; "" keeps ours. The same path for both puts them in one file.
  std::string stdoutPath;
  std::string stderrPath;
  // SIGTERM from the kernel when this process dies, however it dies: no orphans.
  bool dieWithParent = true;
  // A process group of its own, so that a terminal's Ctrl-C reaches only us and we decide the
  // order in which children stop (the producer before the consumers, say).
  bool ownProcessGroup = false;
  // Signals the child starts with blocked (all others unblocked): a signal sent before the child
  // installed its handler then waits as pending instead of taking its default action.
  std::vector<int> blockedSignals;
};

// Starts argv[0] (a path) with `argv`; throws std::runtime_error when an output file cannot be
// opened or fork fails. An exec failure shows as exit status 127.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// The exit status of a waited-for process as a shell reports it: the code, or 128 + signal.
int exitStatus(int waitStatus);
// "exited with status 3", "killed by Terminated".
std::string describeWaitStatus(int waitStatus);

// One child, reaped when waited for; killed (SIGKILL) and reaped when dropped still running.
class Process {
 public:
  Process() = default;
  explicit Process(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  void signal(int number) const;
  // The exit status (exitStatus()), or nothing while it still runs at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running() { return started() && !wait(std::chrono::milliseconds(0)); }
  // SIGTERM, then SIGKILL if it has not ended within `grace`; returns its exit status.
  int stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct CommandResult {
  int status = -1;     // exitStatus(), or -1 when it had to be killed at the deadline
  std::string output;  // its stdout
};

// Runs a command to completion, capturing stdout; stderr goes to `options.stderrPath` (or ours).
// Killed after `timeout`. Throws std::runtime_error when it cannot start.
CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const SpawnOptions& options = {});

// The running ebb binary (/proc/self/exe), to start replicas and producers with.
std::string selfExecutable();
// `name` found on PATH (or a path that is executable), else nothing.
std::optional<std::string> findExecutable(const std::string& name);

}  // namespace ebb::orchestrate
