// `ebb scale --serve-keda` against the real broker, called the way KEDA calls it: through a gRPC
// client generated from the same proto. While the group has lag the scaler is active and reports
// the replicas its policy decided (the decisions file says which); once a consumer has drained
// the lag it goes inactive, and StreamIsActive pushes the change.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "ebb/kafka/admin_client.h"
#include "externalscaler.grpc.pb.h"
#include "kafka_environment.h"

namespace ebb::test {
namespace {

using namespace std::chrono_literals;
namespace pb = ::externalscaler;

const std::string kEbb = EBB_BINARY;

class KedaScalerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / uniqueName("ebb-keda");
    std::filesystem::create_directories(dir_);
    topic_ = uniqueName("keda");
    group_ = topic_ + "-group";
    kafka::AdminClient(clientConfig()).createTopic({.name = topic_, .partitions = 4});
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The port the scaler logged once it served (it binds port 0).
  int servedPort() const {
    static constexpr std::string_view kServing = "external scaler API on port ";
    const auto log = readFile(path("scale.err"));
    const auto at = log.find(kServing);
    return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + kServing.size());
  }

  int lastDecision() const {
    std::ifstream in(path("decisions.jsonl"));
    std::string line;
    int replicas = -1;
    while (std::getline(in, line)) replicas = nlohmann::json::parse(line)["replicas"].get<int>();
    return replicas;
  }

  pb::ScaledObjectRef ref() const {
    pb::ScaledObjectRef result;
    result.set_name("consumer");
    result.set_namespace_("ebb");
    (*result.mutable_scalermetadata())["scalerAddress"] = "127.0.0.1";
    (*result.mutable_scalermetadata())["topic"] = topic_;
    (*result.mutable_scalermetadata())["consumerGroup"] = group_;
    return result;
  }

  // GetMetrics as KEDA sends it (trigger index prefix); the value, or nothing on an error.
  std::optional<double> metric(pb::ExternalScaler::Stub& stub, grpc::Status* status = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    pb::GetMetricsRequest request;
    *request.mutable_scaledobjectref() = ref();
    request.set_metricname("s0-ebb-desired-replicas");
    pb::GetMetricsResponse response;
    const auto result = stub.GetMetrics(&context, request, &response);
    if (status) *status = result;
    if (!result.ok() || response.metricvalues_size() != 1) return std::nullopt;
    return response.metricvalues(0).metricvaluefloat();
  }

  std::optional<bool> active(pb::ExternalScaler::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    pb::IsActiveResponse response;
    if (!stub.IsActive(&context, ref(), &response).ok()) return std::nullopt;
    return response.result();
  }

  std::filesystem::path dir_;
  std::string topic_;
  std::string group_;
};

// The same for a consumer group and a share group (KIP-932; KEDA has no share-group scaler of
// its own). 4,000 behind on 4 partitions at 50/s per replica: draining within 10 s takes 8
// replicas, which a share group gets and a consumer group is capped below (4, its partitions).
class KedaScalerGroupTypeTest : public KedaScalerTest,
                                public ::testing::WithParamInterface<std::string> {};

TEST_P(KedaScalerGroupTypeTest, ServesThePolicysReplicasWhileThereIsLagAndGoesInactiveAfter) {
  const std::string groupType = GetParam();
  ASSERT_EQ(runCommand({kEbb, "--log-level", "warn", "produce", "-b", bootstrapServers(), "-t",
                        topic_, "-n", "4000", "-o", "json"},
                       60s),
            0);
  ChildProcess scale({kEbb,           "scale",
                      "-b",           bootstrapServers(),
                      "-t",           topic_,
                      "-g",           group_,
                      "--group-type", groupType,
                      "--serve-keda", "127.0.0.1:0",
                      "--policy",     "slo",
                      "--set",        "interval=1s",
                      "--set",        "min-replicas=0",
                      "--set",        "service-rate=50",
                      "--set",        "scale-in-delay=2s",
                      "--decisions",  path("decisions.jsonl")},
                     path("scale.out"), path("scale.err"));
  ASSERT_TRUE(waitUntil([&] { return servedPort() > 0; }, 30s)) << readFile(path("scale.err"));
  auto stub = pb::ExternalScaler::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(servedPort()), grpc::InsecureChannelCredentials()));

  {
    grpc::ClientContext context;
    pb::GetMetricSpecResponse spec;
    ASSERT_TRUE(stub->GetMetricSpec(&context, ref(), &spec).ok());
    ASSERT_EQ(spec.metricspecs_size(), 1);
    EXPECT_EQ(spec.metricspecs(0).metricname(), "ebb-desired-replicas");
    EXPECT_EQ(spec.metricspecs(0).targetsizefloat(), 1.0);
  }

  // 4,000 messages of lag and nobody consuming: the policy wants replicas.
  ASSERT_TRUE(waitUntil([&] { return metric(*stub).value_or(0) >= 1; }, 30s))
      << readFile(path("scale.err"));
  EXPECT_EQ(active(*stub), true);
  // What KEDA is told is what the policy decided: the decisions file's latest count, read on
  // either side of the call in case a decision lands between them.
  const int before = lastDecision();
  const auto served = metric(*stub);
  const int after = lastDecision();
  ASSERT_TRUE(served);
  EXPECT_TRUE(*served == before || *served == after) << *served << " vs " << before << "/" << after;
  if (groupType == "share") {
    EXPECT_GT(*served, 4.0) << "a share group is not capped at the partition count";
  } else {
    EXPECT_EQ(*served, 4.0) << "a consumer group stops at the partition count";
  }

  grpc::ClientContext streamContext;
  streamContext.set_deadline(std::chrono::system_clock::now() + 120s);
  auto stream = stub->StreamIsActive(&streamContext, ref());
  pb::IsActiveResponse pushed;
  ASSERT_TRUE(stream->Read(&pushed));
  EXPECT_TRUE(pushed.result());

  // A consumer drains the lag; with nothing arriving the policy lets go of every replica.
  ASSERT_EQ(
      runCommand({kEbb, "--log-level", "warn", "consume", "-b", bootstrapServers(), "-t", topic_,
                  "-g", group_, "--group-type", groupType, "-n", "4000", "-o", "json"},
                 90s),
      0);
  ASSERT_TRUE(stream->Read(&pushed)) << readFile(path("scale.err"));
  EXPECT_FALSE(pushed.result());
  EXPECT_EQ(metric(*stub), 0.0);
  EXPECT_EQ(active(*stub), false);
  EXPECT_EQ(lastDecision(), 0);
  streamContext.TryCancel();

  scale.signal(SIGTERM);
  EXPECT_EQ(scale.wait(30s), 0) << readFile(path("scale.err"));
}

INSTANTIATE_TEST_SUITE_P(GroupTypes, KedaScalerGroupTypeTest,
                         ::testing::Values("consumer", "share"),
                         [](const auto& param) { return param.param; });

// A ScaledObject whose trigger names another topic was pointed at the wrong scaler: NOT_FOUND,
// naming what this one serves.
TEST_F(KedaScalerTest, WrongTopicNamesAreRefused) {
  ChildProcess scale({kEbb, "scale", "-b", bootstrapServers(), "-t", topic_, "-g", group_,
                      "--serve-keda", "127.0.0.1:0", "--policy", "slo", "--set", "interval=1s"},
                     path("scale.out"), path("scale.err"));
  ASSERT_TRUE(waitUntil([&] { return servedPort() > 0; }, 30s)) << readFile(path("scale.err"));
  auto stub = pb::ExternalScaler::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(servedPort()), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(waitUntil([&] { return metric(*stub).has_value(); }, 30s));
  grpc::ClientContext context;
  pb::ScaledObjectRef other = ref();
  (*other.mutable_scalermetadata())["topic"] = "not-" + topic_;
  pb::IsActiveResponse response;
  const auto status = stub->IsActive(&context, other, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("serves group '" + group_ + "'"), std::string::npos)
      << status.error_message();
  scale.signal(SIGTERM);
  EXPECT_EQ(scale.wait(30s), 0);
}

}  // namespace
}  // namespace ebb::test
