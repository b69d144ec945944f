// Where consumer replicas run: the control loop asks for a count, a backend makes it so. `local`
// runs child processes on this machine; a Kubernetes backend (KEDA or the HPA scaling a
// Deployment) drops in behind the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace ebb::orchestrate {

class ReplicaBackend {
 public:
  // What reconcile() returns when the backend cannot see its replicas: the control loop then
  // counts the members of the consumer group.
  static constexpr int32_t kCountGroupMembers = -1;

  virtual ~ReplicaBackend() = default;
  virtual std::string_view name() const = 0;
  // Notices replicas that ended on their own (and replaces those that crashed); returns how many
  // replicas run now, not counting those asked to stop (or kCountGroupMembers).
  virtual int32_t reconcile() = 0;
  // Starts or stops replicas until `replicas` run; starts may wait out a crash backoff, which
  // reconcile() then catches up on.
  virtual void scaleTo(int32_t replicas) = 0;
  // Stops every replica, each within the grace period (then forcibly).
  virtual void stopAll() = 0;
  // Replicas that died on their own (the backend replaces them), since the start.
  virtual uint64_t restarts() const { return 0; }
};

}  // namespace ebb::orchestrate
