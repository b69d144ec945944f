// KEDA's external scaler API as ebb serves it: the pure rules (staleness, metadata, metric names),
// the HPA arithmetic that turns the reported metric into replicas, and the gRPC server itself
// called through a client generated from the same proto on a loopback port.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <string>

#include "ebb/keda/external_scaler_server.h"
#include "ebb/keda/recommendation.h"
#include "ebb/scale/hpa.h"
#include "externalscaler.grpc.pb.h"

namespace ebb::keda {
namespace {

using namespace std::chrono_literals;
namespace pb = ::externalscaler;

TEST(KedaAnswer, NothingBeforeTheFirstReading) {
  const auto answer = answerAt(std::nullopt, Clock::now(), 10s);
  EXPECT_FALSE(answer.recommendation);
  EXPECT_NE(answer.unavailable.find("no lag reading yet"), std::string::npos);
}

TEST(KedaAnswer, FreshReadingIsServedStaleOneIsNot) {
  const auto now = Clock::now();
  const Recommendation fresh{.replicas = 4, .reason = "r", .at = now - 9s};
  const auto served = answerAt(fresh, now, 10s);
  ASSERT_TRUE(served.recommendation);
  EXPECT_EQ(served.recommendation->replicas, 4);

  const Recommendation stale{.replicas = 4, .reason = "r", .at = now - 11s};
  const auto refused = answerAt(stale, now, 10s);
  EXPECT_FALSE(refused.recommendation);
  EXPECT_NE(refused.unavailable.find("11.0 s old (limit 10.0 s)"), std::string::npos)
      << refused.unavailable;
}

TEST(KedaMetadata, NamesOfOtherTopicsOrGroupsAreRefused) {
  const ScalerTarget target{.topic = "orders", .group = "billing"};
  struct Case {
    std::map<std::string, std::string> metadata;
    std::string fragment;  // "" : accepted
  };
  const Case cases[] = {
      {{}, ""},
      {{{"scalerAddress", "ebb:9090"}}, ""},
      {{{"topic", "orders"}, {"consumerGroup", "billing"}}, ""},
      {{{"topic", "payments"}}, "the trigger's topic is 'payments'"},
      {{{"consumerGroup", "audit"}}, "the trigger's consumerGroup is 'audit'"},
      {{{"topic", "orders"}, {"consumerGroup", "audit"}},
       "serves group 'billing' on topic 'orders'"},
  };
  for (const auto& [metadata, fragment] : cases) {
    const auto why = metadataMismatch(metadata, target);
    if (fragment.empty()) {
      EXPECT_EQ(why, "");
    } else {
      EXPECT_NE(why.find(fragment), std::string::npos) << why;
    }
  }
}

TEST(KedaMetricName, OursWithOrWithoutTheTriggerIndex) {
  for (const auto* name :
       {"ebb-desired-replicas", "s0-ebb-desired-replicas", "s12-ebb-desired-replicas"}) {
    EXPECT_TRUE(isOurMetric(name)) << name;
  }
  for (const auto* name :
       {"", "ebb", "s-ebb-desired-replicas", "sx-ebb-desired-replicas", "s0ebb-desired-replicas",
        "s0-kafka-lag", "ebb-desired-replicas2", "t0-ebb-desired-replicas"}) {
    EXPECT_FALSE(isOurMetric(name)) << name;
  }
}

// The behavior the chart writes into KEDA's HPA in keda-ebb mode (deploy/helm/ebb, scaledobject):
// no stabilization, no tolerance and no rate limit below maxReplicas, because ebb's policy already
// decided when and how far to move.
scale::HpaConfig chartBehavior(const std::string& tolerance) {
  return scale::HpaConfig::fromSettings({{"maxReplicas", "48"},
                                         {"scaleUpStabilization", "0s"},
                                         {"scaleUpPolicies", "pods:48:15s"},
                                         {"scaleUpTolerance", tolerance},
                                         {"scaleDownStabilization", "0s"},
                                         {"scaleDownPolicies", "percent:100:15s"},
                                         {"scaleDownTolerance", tolerance}});
}

TEST(KedaHpaArithmetic, TheHpaLandsOnEveryCountEbbAsksFor) {
  for (int32_t current = 1; current <= 48; ++current) {
    for (int32_t desired = 1; desired <= 48; ++desired) {
      scale::Hpa hpa(chartBehavior("0"));
      const auto result = hpa.recommend(0ms, current, desired, kTargetPerReplica);
      ASSERT_EQ(result.replicas, desired) << current << " -> " << desired << ": " << result.reason;
    }
  }
}

// Without behavior.*.tolerance (Kubernetes before 1.33, or the feature gate off) the controller's
// 10 % tolerance swallows a one-replica step above 10 replicas: the HPA stays where it is.
TEST(KedaHpaArithmetic, TheDefaultToleranceSwallowsSmallStepsAtTenReplicasAndMore) {
  scale::Hpa hpa(chartBehavior("0.1"));
  EXPECT_EQ(hpa.recommend(0ms, 11, 12, kTargetPerReplica).replicas, 11);
  scale::Hpa small(chartBehavior("0.1"));
  EXPECT_EQ(small.recommend(0ms, 9, 10, kTargetPerReplica).replicas, 10);
}

class ExternalScalerServerTest : public ::testing::Test {
 protected:
  ExternalScalerServerTest()
      : server_({"127.0.0.1", 0}, {.topic = "orders", .group = "billing"}, board_, 10s, registry_),
        stub_(pb::ExternalScaler::NewStub(grpc::CreateChannel(
            "127.0.0.1:" + std::to_string(server_.port()), grpc::InsecureChannelCredentials()))) {}

  static pb::ScaledObjectRef ref(std::map<std::string, std::string> metadata = {}) {
    pb::ScaledObjectRef result;
    result.set_name("consumer");
    result.set_namespace_("ebb");
    result.mutable_scalermetadata()->insert(metadata.begin(), metadata.end());
    return result;
  }

  grpc::Status getMetrics(const std::string& name, pb::GetMetricsResponse& response,
                          std::map<std::string, std::string> metadata = {}) {
    grpc::ClientContext context;
    pb::GetMetricsRequest request;
    *request.mutable_scaledobjectref() = ref(std::move(metadata));
    request.set_metricname(name);
    return stub_->GetMetrics(&context, request, &response);
  }

  double requests(const std::string& method, const std::string& code) const {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "ebb_keda_requests_total") continue;
      for (const auto& metric : family.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& label : metric.label) labels[label.name] = label.value;
        if (labels["method"] == method && labels["code"] == code) return metric.counter.value;
      }
    }
    return 0;
  }

  prometheus::Registry registry_;
  RecommendationBoard board_;
  ExternalScalerServer server_;
  std::unique_ptr<pb::ExternalScaler::Stub> stub_;
};

TEST_F(ExternalScalerServerTest, MetricSpecIsOnePerReplicaEvenBeforeTheFirstReading) {
  grpc::ClientContext context;
  pb::GetMetricSpecResponse response;
  ASSERT_TRUE(stub_->GetMetricSpec(&context, ref(), &response).ok());
  ASSERT_EQ(response.metricspecs_size(), 1);
  EXPECT_EQ(response.metricspecs(0).metricname(), "ebb-desired-replicas");
  EXPECT_EQ(response.metricspecs(0).targetsizefloat(), 1.0);
  EXPECT_EQ(response.metricspecs(0).targetsize(), 1);
}

TEST_F(ExternalScalerServerTest, MetricsAreTheDesiredReplicasOnceThereIsAReading) {
  pb::GetMetricsResponse response;
  const auto before = getMetrics("s0-ebb-desired-replicas", response);
  EXPECT_EQ(before.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(before.error_message().find("no lag reading yet"), std::string::npos);

  board_.publish({.replicas = 7, .reason = "spike", .at = Clock::now()});
  response.Clear();
  ASSERT_TRUE(getMetrics("s0-ebb-desired-replicas", response).ok());
  ASSERT_EQ(response.metricvalues_size(), 1);
  EXPECT_EQ(response.metricvalues(0).metricname(), "s0-ebb-desired-replicas");
  EXPECT_EQ(response.metricvalues(0).metricvaluefloat(), 7.0);
  EXPECT_EQ(response.metricvalues(0).metricvalue(), 7);

  grpc::ClientContext context;
  pb::IsActiveResponse active;
  ASSERT_TRUE(stub_->IsActive(&context, ref(), &active).ok());
  EXPECT_TRUE(active.result());
  EXPECT_EQ(requests("GetMetrics", "UNAVAILABLE"), 1);
  EXPECT_EQ(requests("GetMetrics", "OK"), 1);
  EXPECT_EQ(requests("IsActive", "OK"), 1);
}

TEST_F(ExternalScalerServerTest, WrongMetricTopicOrGroupIsNotFound) {
  board_.publish({.replicas = 2, .reason = "", .at = Clock::now()});
  pb::GetMetricsResponse response;
  const auto metric = getMetrics("s0-kafka-orders", response);
  EXPECT_EQ(metric.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(metric.error_message().find("unknown metric 's0-kafka-orders'"), std::string::npos);
  const auto topic = getMetrics("s0-ebb-desired-replicas", response, {{"topic", "payments"}});
  EXPECT_EQ(topic.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(topic.error_message().find("serves group 'billing' on topic 'orders'"),
            std::string::npos);

  grpc::ClientContext context;
  pb::IsActiveResponse active;
  EXPECT_EQ(stub_->IsActive(&context, ref({{"consumerGroup", "audit"}}), &active).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ExternalScalerServerTest, StaleReadingsAreUnavailable) {
  board_.publish({.replicas = 3, .reason = "", .at = Clock::now() - 30s});
  grpc::ClientContext context;
  pb::IsActiveResponse active;
  const auto status = stub_->IsActive(&context, ref(), &active);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("s old"), std::string::npos) << status.error_message();
}

TEST_F(ExternalScalerServerTest, StreamIsActiveSendsTheCurrentStateThenEachChange) {
  board_.publish({.replicas = 2, .reason = "", .at = Clock::now()});
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 20s);
  auto reader = stub_->StreamIsActive(&context, ref());
  pb::IsActiveResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_TRUE(message.result());

  board_.publish({.replicas = 3, .reason = "", .at = Clock::now()});  // still active: no message
  board_.publish({.replicas = 0, .reason = "idle", .at = Clock::now()});
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_FALSE(message.result());
  board_.publish({.replicas = 1, .reason = "", .at = Clock::now()});
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_TRUE(message.result());
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(ExternalScalerServerBind, ATakenPortIsAClearError) {
  prometheus::Registry registry;
  RecommendationBoard board;
  ExternalScalerServer first({"127.0.0.1", 0}, {"t", "g"}, board, 10s, registry);
  RecommendationBoard other;
  try {
    ExternalScalerServer second({"127.0.0.1", first.port()}, {"t", "g"}, other, 10s, registry);
    ADD_FAILURE() << "bound a port that is taken";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(
        std::string(error.what()).find("cannot serve KEDA's external scaler API on 127.0.0.1:"),
        std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace ebb::keda
