#include "ebb/orchestrate/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace ebb::orchestrate {
namespace {

using Clock = std::chrono::steady_clock;

int openOutput(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

// Opens the output files first (so a bad path is an exception, not a child that exits), then
// forks. `stdoutFd` >= 0 replaces the stdout file (a pipe, for runCommand).
pid_t spawnWith(const std::vector<std::string>& argv, const SpawnOptions& options, int stdoutFd) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty command line");
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (auto& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  int outFd = stdoutFd;
  int errFd = -1;
  bool ownOut = false;
  if (outFd < 0 && !options.stdoutPath.empty()) {
    outFd = openOutput(options.stdoutPath);
    ownOut = true;
  }
  if (!options.stderrPath.empty()) {
    if (ownOut && options.stderrPath == options.stdoutPath) {
      errFd = outFd;
    } else {
      try {
        errFd = openOutput(options.stderrPath);
      } catch (...) {
        if (ownOut) ::close(outFd);
        throw;
      }
    }
  }
  const auto closeFiles = [&] {
    if (ownOut) ::close(outFd);
    if (errFd >= 0 && errFd != outFd) ::close(errFd);
  };
  // The signals to block are blocked in this thread before fork, so the child is born with them
  // blocked: blocking them only in the child leaves a window in which a signal the parent sends
  // right after fork (a standby's SIGUSR1 activation) still has its default action, and kills.
  sigset_t blocked;
  sigset_t previous;
  sigemptyset(&blocked);
  for (const int number : options.blockedSignals) sigaddset(&blocked, number);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) {
    const int error = errno;
    closeFiles();
    throw std::runtime_error("cannot start " + argv.front() + ": " + std::strerror(error));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec (the parent has threads).
    if (options.dieWithParent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      // The parent may have died before prctl: then nobody would send the signal.
      if (::getppid() != parent) ::_exit(1);
    }
    if (options.ownProcessGroup) ::setpgid(0, 0);
    // Exactly the requested signals stay blocked through exec (none of the parent's others).
    ::sigprocmask(SIG_SETMASK, &blocked, nullptr);
    if (outFd >= 0) ::dup2(outFd, STDOUT_FILENO);
    if (errFd >= 0) ::dup2(errFd, STDERR_FILENO);
    ::execv(pointers[0], pointers.data());
    ::_exit(127);
  }
  closeFiles();
  return pid;
}

}  // namespace

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  return spawnWith(argv, options, -1);
}

int exitStatus(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return waitStatus;
}

std::string describeWaitStatus(int waitStatus) {
  if (WIFEXITED(waitStatus)) return "exited with status " + std::to_string(WEXITSTATUS(waitStatus));
  if (WIFSIGNALED(waitStatus)) return std::string("killed by ") + strsignal(WTERMSIG(waitStatus));
  return "ended (status " + std::to_string(waitStatus) + ")";
}

Process::Process(const std::vector<std::string>& argv, const SpawnOptions& options)
    : pid_(spawn(argv, options)) {}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (started() && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Process::~Process() {
  if (started() && !status_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Process::signal(int number) const {
  if (started() && !status_) ::kill(pid_, number);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (!started()) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  while (!status_) {
    int raw = 0;
    const pid_t done = ::waitpid(pid_, &raw, WNOHANG);
    if (done == pid_) {
      status_ = exitStatus(raw);
      break;
    }
    if (done < 0 && errno != EINTR) {
      status_ = -1;  // not our child any more (reaped elsewhere): nothing to wait for
      break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_;
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!started()) return -1;
  signal(SIGTERM);
  if (const auto status = wait(grace)) return *status;
  signal(SIGKILL);
  return wait(std::chrono::seconds(10)).value_or(-1);
}

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const SpawnOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  pid_t pid = -1;
  try {
    pid = spawnWith(argv, options, fds[1]);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  const auto deadline = Clock::now() + timeout;
  CommandResult result;
  char buffer[4096];
  // Read until the command closes its stdout; a grandchild that keeps it open (a daemon it
  // started) is not waited for once the command itself has ended.
  bool reaped = false;
  int raw = 0;
  while (true) {
    pollfd readable{.fd = fds[0], .events = POLLIN, .revents = 0};
    const int ready = ::poll(&readable, 1, 50);
    if (ready > 0) {
      const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
      if (n > 0) {
        result.output.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || errno != EINTR) break;
    }
    if (!reaped && ::waitpid(pid, &raw, WNOHANG) == pid) {
      reaped = true;
    } else if (reaped) {
      break;  // ended, and nothing more arrived within one poll
    }
    if (Clock::now() >= deadline) {
      ::close(fds[0]);
      if (!reaped) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      return result;
    }
  }
  ::close(fds[0]);
  if (!reaped) {
    // stdout closed: the command is ending; wait for it within what is left of the timeout.
    while (::waitpid(pid, &raw, WNOHANG) != pid) {
      if (Clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return result;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  result.status = exitStatus(raw);
  return result;
}

std::string selfExecutable() {
  std::string path(PATH_MAX, '\0');
  const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size());
  if (length <= 0) throw std::runtime_error("cannot find the ebb binary (/proc/self/exe)");
  path.resize(static_cast<size_t>(length));
  return path;
}

std::optional<std::string> findExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, end - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace ebb::orchestrate
