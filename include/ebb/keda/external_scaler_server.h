// KEDA's external scaler gRPC API (proto/externalscaler.proto) over a RecommendationBoard:
// IsActive and StreamIsActive answer whether ebb's policy wants any replica, GetMetricSpec gives
// the metric with a target of one per replica, GetMetrics the desired count. Calls get
// UNAVAILABLE before the first lag reading and when the last one is stale (so KEDA's `fallback`
// applies), NOT_FOUND when the ScaledObject names another topic, group or metric.
#pragma once

#include <chrono>
#include <memory>

#include "ebb/keda/recommendation.h"
#include "ebb/metrics/http_server.h"

namespace prometheus {
class Registry;
}

namespace ebb::keda {

class ExternalScalerServer {
 public:
  // Binds at once (throws std::runtime_error naming the address if it cannot) and serves on
  // gRPC's threads until destroyed. `board` and `registry` must outlive the server; the
  // destructor closes the board, ending open StreamIsActive calls.
  ExternalScalerServer(const metrics::Endpoint& endpoint, ScalerTarget target,
                       RecommendationBoard& board, std::chrono::milliseconds staleAfter,
                       prometheus::Registry& registry);
  ExternalScalerServer(const ExternalScalerServer&) = delete;
  ExternalScalerServer& operator=(const ExternalScalerServer&) = delete;
  ~ExternalScalerServer();

  int port() const;  // the bound port (useful with port 0)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ebb::keda
