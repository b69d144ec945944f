#include "ebb/keda/external_scaler_server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <map>
#include <stdexcept>
#include <string>

#include "ebb/metrics/families.h"
#include "externalscaler.grpc.pb.h"

namespace ebb::keda {
namespace {

namespace pb = ::externalscaler;
using namespace std::chrono_literals;

std::map<std::string, std::string> metadataOf(const pb::ScaledObjectRef& ref) {
  return {ref.scalermetadata().begin(), ref.scalermetadata().end()};
}

class Service final : public pb::ExternalScaler::Service {
 public:
  Service(ScalerTarget target, RecommendationBoard& board, std::chrono::milliseconds staleAfter,
          prometheus::Registry& registry)
      : target_(std::move(target)), board_(board), staleAfter_(staleAfter), registry_(registry) {}

  grpc::Status IsActive(grpc::ServerContext*, const pb::ScaledObjectRef* ref,
                        pb::IsActiveResponse* response) override {
    Recommendation recommendation;
    auto status = current(*ref, recommendation);
    if (status.ok()) response->set_result(recommendation.active());
    return counted("IsActive", *ref, status);
  }

  grpc::Status StreamIsActive(grpc::ServerContext* context, const pb::ScaledObjectRef* ref,
                              grpc::ServerWriter<pb::IsActiveResponse>* writer) override {
    return counted("StreamIsActive", *ref, stream(*context, *ref, *writer));
  }

  grpc::Status GetMetricSpec(grpc::ServerContext*, const pb::ScaledObjectRef* ref,
                             pb::GetMetricSpecResponse* response) override {
    // No reading needed: KEDA asks once to create its HPA, and refusing would hold that up.
    auto status = checkTarget(*ref);
    if (status.ok()) {
      auto* spec = response->add_metricspecs();
      spec->set_metricname(std::string(kMetricName));
      spec->set_targetsize(static_cast<int64_t>(kTargetPerReplica));
      spec->set_targetsizefloat(kTargetPerReplica);
    }
    return counted("GetMetricSpec", *ref, status);
  }

  grpc::Status GetMetrics(grpc::ServerContext*, const pb::GetMetricsRequest* request,
                          pb::GetMetricsResponse* response) override {
    const auto& ref = request->scaledobjectref();
    Recommendation recommendation;
    auto status = isOurMetric(request->metricname())
                      ? current(ref, recommendation)
                      : grpc::Status(grpc::StatusCode::NOT_FOUND,
                                     fmt::format("unknown metric '{}': this scaler serves '{}'",
                                                 request->metricname(), kMetricName));
    if (status.ok()) {
      auto* value = response->add_metricvalues();
      value->set_metricname(request->metricname());
      value->set_metricvalue(recommendation.replicas);
      value->set_metricvaluefloat(recommendation.replicas);
    }
    return counted("GetMetrics", ref, status);
  }

 private:
  grpc::Status checkTarget(const pb::ScaledObjectRef& ref) const {
    const auto why = metadataMismatch(metadataOf(ref), target_);
    return why.empty() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::NOT_FOUND, why);
  }

  // The recommendation to serve now, or why there is none.
  grpc::Status current(const pb::ScaledObjectRef& ref, Recommendation& out) const {
    if (auto status = checkTarget(ref); !status.ok()) return status;
    auto answer = answerAt(board_.latest(), Clock::now(), staleAfter_);
    if (!answer.recommendation) {
      return {grpc::StatusCode::UNAVAILABLE, answer.unavailable};
    }
    out = std::move(*answer.recommendation);
    return grpc::Status::OK;
  }

  // The current activity at once (as soon as there is a first reading), then each change, until
  // KEDA hangs up, the server stops or the readings go stale.
  grpc::Status stream(grpc::ServerContext& context, const pb::ScaledObjectRef& ref,
                      grpc::ServerWriter<pb::IsActiveResponse>& writer) const {
    if (auto status = checkTarget(ref); !status.ok()) return status;
    std::optional<bool> sent;
    while (!context.IsCancelled()) {
      const auto latest = board_.waitForActivityChange(sent, 500ms);
      if (board_.closed()) return {grpc::StatusCode::UNAVAILABLE, "the scaler is shutting down"};
      if (!latest) continue;  // no reading yet
      const auto answer = answerAt(latest, Clock::now(), staleAfter_);
      if (!answer.recommendation) return {grpc::StatusCode::UNAVAILABLE, answer.unavailable};
      if (sent == latest->active()) continue;
      pb::IsActiveResponse response;
      response.set_result(latest->active());
      if (!writer.Write(response)) break;  // KEDA hung up
      sent = latest->active();
    }
    return grpc::Status::OK;
  }

  grpc::Status counted(const char* method, const pb::ScaledObjectRef& ref,
                       grpc::Status status) const {
    // grpc::StatusCode's names, in its order.
    static constexpr const char* kCodes[] = {"OK",
                                             "CANCELLED",
                                             "UNKNOWN",
                                             "INVALID_ARGUMENT",
                                             "DEADLINE_EXCEEDED",
                                             "NOT_FOUND",
                                             "ALREADY_EXISTS",
                                             "PERMISSION_DENIED",
                                             "RESOURCE_EXHAUSTED",
                                             "FAILED_PRECONDITION",
                                             "ABORTED",
                                             "OUT_OF_RANGE",
                                             "UNIMPLEMENTED",
                                             "INTERNAL",
                                             "UNAVAILABLE",
                                             "DATA_LOSS",
                                             "UNAUTHENTICATED"};
    const auto code = static_cast<size_t>(status.error_code());
    metrics::counter(registry_, "ebb_keda_requests_total",
                     "Calls of KEDA's external scaler API, by method and gRPC status code",
                     {{"method", method}, {"code", code < std::size(kCodes) ? kCodes[code] : "?"}})
        .Increment();
    if (!status.ok()) {
      spdlog::warn("KEDA {} for ScaledObject {}/{}: {}", method, ref.namespace_(), ref.name(),
                   status.error_message());
    }
    return status;
  }

  ScalerTarget target_;
  RecommendationBoard& board_;
  std::chrono::milliseconds staleAfter_;
  prometheus::Registry& registry_;
};

}  // namespace

struct ExternalScalerServer::Impl {
  Impl(ScalerTarget target, RecommendationBoard& shared, std::chrono::milliseconds staleAfter,
       prometheus::Registry& registry)
      : board(shared), service(std::move(target), shared, staleAfter, registry) {}
  RecommendationBoard& board;
  Service service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

ExternalScalerServer::ExternalScalerServer(const metrics::Endpoint& endpoint, ScalerTarget target,
                                           RecommendationBoard& board,
                                           std::chrono::milliseconds staleAfter,
                                           prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(target), board, staleAfter, registry)) {
  const auto address = fmt::format("{}:{}", endpoint.host, endpoint.port);
  grpc::ServerBuilder builder;
  // Without SO_REUSEPORT a second scaler on the same port fails here instead of sharing KEDA's
  // calls with this one.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl_->port);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    throw std::runtime_error(fmt::format(
        "cannot serve KEDA's external scaler API on {} (address in use or not local?)", address));
  }
}

ExternalScalerServer::~ExternalScalerServer() {
  impl_->board.close();
  impl_->server->Shutdown(std::chrono::system_clock::now() + 2s);
  impl_->server->Wait();
}

int ExternalScalerServer::port() const { return impl_->port; }

}  // namespace ebb::keda
