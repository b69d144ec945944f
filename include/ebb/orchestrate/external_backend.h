// Replicas that something else runs: KEDA and its HPA scale a Kubernetes Deployment on ebb's
// recommendation. This process starts and stops nothing; the replicas it counts are the
// consumer group's members, and the count it is asked for is only remembered.
#pragma once

#include "ebb/orchestrate/replica_backend.h"

namespace ebb::orchestrate {

class ExternalBackend final : public ReplicaBackend {
 public:
  std::string_view name() const override { return "keda"; }
  int32_t reconcile() override { return kCountGroupMembers; }
  void scaleTo(int32_t replicas) override { desired_ = replicas; }
  void stopAll() override {}

  int32_t desired() const { return desired_; }

 private:
  int32_t desired_ = 0;
};

}  // namespace ebb::orchestrate
