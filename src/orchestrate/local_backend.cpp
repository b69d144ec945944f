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

void LocalBackend::start(bool standby) {
  const uint64_t number = nextNumber_++;
  const std::string numberText = std::to_string(number);
  std::vector<std::string> args;
  for (const auto& arg : options_.command) args.push_back(substitute(arg, numberText));
  SpawnOptions spawnOptions{.dieWithParent = true, .ownProcessGroup = options_.ownProcessGroup};
  if (standby) {
    args.insert(args.end(), options_.standbyArgs.begin(), options_.standbyArgs.end());
    // An activation sent before the standby installed its handler must wait, not kill it.
    spawnOptions.blockedSignals = {SIGUSR1};
  }
  if (!options_.logDir.empty()) {
    spawnOptions.stdoutPath = options_.logDir + "/replica-" + numberText + ".log";
    spawnOptions.stderrPath = spawnOptions.stdoutPath;
  }
  // The kernel sends SIGTERM when we die (dieWithParent), so no replica outlives ebb scale,
  // however it ends.
  const pid_t pid = spawn(args, spawnOptions);
  replicas_.push_back(
      {.number = number, .pid = pid, .standby = standby, .startedAt = Clock::now()});
  spdlog::info("{} {} started (pid {})", standby ? "standby replica" : "replica", number, pid);
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
      spdlog::warn("{} {} {} after {:.1f} s: replacing it{}",
                   it->standby ? "standby replica" : "replica", it->number,
                   describeWaitStatus(status), static_cast<double>(ran.count()) / 1000, when);
    }
    it = replicas_.erase(it);
  }
}

void LocalBackend::fillUp() {
  for (auto& replica : replicas_) {
    if (runningCount() >= target_) break;
    if (!replica.standby || replica.stopping) continue;
    ::kill(replica.pid, SIGUSR1);
    replica.standby = false;
    ++activations_;
    spdlog::info("replica {} activated (a standby for {:.1f} s)", replica.number,
                 std::chrono::duration<double>(Clock::now() - replica.startedAt).count());
  }
  while (runningCount() < target_ && crashBackoff_.mayStart(Clock::now())) start(false);
  while (!stoppingAll_ && standbyCount() < options_.warm && crashBackoff_.mayStart(Clock::now())) {
    start(true);
  }
}

int32_t LocalBackend::runningCount() const {
  return static_cast<int32_t>(
      std::ranges::count_if(replicas_, [](const Replica& r) { return !r.stopping && !r.standby; }));
}

int32_t LocalBackend::standbyCount() const {
  return static_cast<int32_t>(
      std::ranges::count_if(replicas_, [](const Replica& r) { return !r.stopping && r.standby; }));
}

void LocalBackend::stop(Replica& replica) {
  ::kill(replica.pid, SIGTERM);
  replica.stopping = true;
  replica.stopRequestedAt = Clock::now();
  spdlog::info("{} {} stopping (SIGTERM)", replica.standby ? "standby replica" : "replica",
               replica.number);
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
    if (!it->stopping && !it->standby) stop(*it);
  }
}

void LocalBackend::stopAll() {
  stoppingAll_ = true;
  scaleTo(0);
  for (auto& replica : replicas_) {
    if (!replica.stopping) stop(replica);
  }
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
    if (!replica.stopping && !replica.standby) result.push_back(replica.pid);
  }
  return result;
}

std::vector<pid_t> LocalBackend::standbyPids() const {
  std::vector<pid_t> result;
  for (const auto& replica : replicas_) {
    if (!replica.stopping && replica.standby) result.push_back(replica.pid);
  }
  return result;
}

}  // namespace ebb::orchestrate
