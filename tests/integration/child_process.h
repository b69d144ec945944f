// A child process for tests: started with fork/exec, output to files, and killed (SIGKILL) and
// reaped when the object goes away, so a failing test leaves nothing running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ebb::test {

class ChildProcess {
 public:
  // argv[0] is the program's path. stdout and stderr go to the given files ("" : /dev/null).
  explicit ChildProcess(const std::vector<std::string>& argv, const std::string& stdoutPath = "",
                        const std::string& stderrPath = "");
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  void signal(int number) const;
  // The exit status (128 + signal when killed), or nothing if still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion (bounded by timeout; killed after it) and returns its exit status;
// stdout is captured into `output` when given.
int runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
               std::string* output = nullptr);

// Polls `condition` every 100 ms until it holds (true) or the timeout passes (false).
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string readFile(const std::string& path);
size_t countLines(const std::string& path);

}  // namespace ebb::test
