#include "ebb/orchestrate/local_backend.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "ebb/orchestrate/process.h"

namespace ebb::orchestrate {
namespace {

using Clock = std::chrono::steady_clock;

// How long a replica that ignored SIGTERM for the whole grace period gets before SIGKILL.
constexpr std::chrono::seconds kKillMargin{5};

std::string substitute(std::string text, const std::string& number) {
  for (size_t at = text.find("{replica}"); at != std::string::npos;
       at = text.find("{replica}", at + number.size())) {
    text.replace(at, 9, number);
  }
  return text;
}

}  // namespace

LocalBackend::LocalBackend(LocalBackendOptions options)
    : options_(std::move(options)), crashBackoff_(options_.crashBackoff) {
  if (options_.command.empty()) throw std::invalid_argument("the replica command is empty");
  if (access(options_.command.front().c_str(), X_OK) != 0) {
    throw std::invalid_argument("cannot run the replica command " + options_.command.front() +
                                ": " + std::strerror(errno));
  }
}

LocalBackend::~LocalBackend() { stopAll(); }

void LocalBackend::start() {
  const uint64_t number = nextNumber_++;
  const std::string numberText = std::to_string(number);
  std::vector<std::string> args;
  for (const auto& arg : options_.command) args.push_back(substitute(arg, numberText));
  SpawnOptions spawnOptions{.dieWithParent = true, .ownProcessGroup = options_.ownProcessGroup};
  if (!options_.logDir.empty()) {
    spawnOptions.stdoutPath = options_.logDir + "/replica-" + numberText + ".log";
    spawnOptions.stderrPath = spawnOptions.stdoutPath;
  }
  // The kernel sends SIGTERM when we die (dieWithParent), so no replica outlives ebb scale,
  // however it ends.
  const pid_t pid = spawn(args, spawnOptions);
  replicas_.push_back({.number = number, .pid = pid, .startedAt = Clock::now()});
  spdlog::info("replica {} started (pid {})", number, pid);
}

void LocalBackend::reap() {
  const auto now = Clock::now();
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    int status = 0;
    if (::waitpid(it->pid, &status, WNOHANG) != it->pid) {
      if (it->stopping && now - it->stopRequestedAt > options_.gracePeriod + kKillMargin) {
        spdlog::warn("replica {} did not stop within its grace period: killing it", it->number);
        ::kill(it->pid, SIGKILL);
      }
      ++it;
      continue;
    }
    if (it->stopping) {
      const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      spdlog::log(clean ? spdlog::level::info : spdlog::level::warn, "replica {} stopped: {}",
                  it->number, describeWaitStatus(status));
    } else {
      const auto ran = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->startedAt);
      const auto wait = crashBackoff_.crashed(ran, now);
      ++restarts_;
      const std::string when =
          wait.count() == 0
              ? std::string()
              : fmt::format(" in {:.1f} s ({} crashes in a row)",
                            static_cast<double>(wait.count()) / 1000, crashBackoff_.streak());
      spdlog::warn("replica {} {} after {:.1f} s: replacing it{}", it->number,
                   describeWaitStatus(status), static_cast<double>(ran.count()) / 1000, when);
    }
    it = replicas_.erase(it);
  }
}

void LocalBackend::fillUp() {
  while (runningCount() < target_ && crashBackoff_.mayStart(Clock::now())) start();
}

int32_t LocalBackend::runningCount() const {
  return static_cast<int32_t>(
      std::ranges::count_if(replicas_, [](const Replica& r) { return !r.stopping; }));
}

int32_t LocalBackend::reconcile() {
  reap();
  fillUp();
  return runningCount();
}

void LocalBackend::scaleTo(int32_t replicas) {
  reap();
  target_ = replicas;
  fillUp();
  // Newest first: the longest-lived replicas keep their partitions and warm caches.
  for (auto it = replicas_.rbegin(); it != replicas_.rend() && runningCount() > replicas; ++it) {
    if (it->stopping) continue;
    ::kill(it->pid, SIGTERM);
    it->stopping = true;
    it->stopRequestedAt = Clock::now();
    spdlog::info("replica {} stopping (SIGTERM)", it->number);
  }
}

void LocalBackend::stopAll() {
  scaleTo(0);
  const auto deadline = Clock::now() + options_.gracePeriod + kKillMargin;
  while (!replicas_.empty() && Clock::now() < deadline) {
    reap();
    if (!replicas_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& replica : replicas_) {
    spdlog::warn("replica {} still runs after its grace period: killing it", replica.number);
    ::kill(replica.pid, SIGKILL);
    ::waitpid(replica.pid, nullptr, 0);
  }
  replicas_.clear();
}

std::vector<pid_t> LocalBackend::pids() const {
  std::vector<pid_t> result;
  for (const auto& replica : replicas_) {
    if (!replica.stopping) result.push_back(replica.pid);
  }
  return result;
}

}  // namespace ebb::orchestrate
