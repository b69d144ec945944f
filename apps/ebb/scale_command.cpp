// `ebb scale`: the elastic loop. Watches a group's lag on one topic, asks a policy (keda, slo,
// static, cycle) for a replica count every interval and runs that many `ebb consume` replicas.
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "client_options.h"
#include "commands.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/share_admin.h"
#include "ebb/keda/external_scaler_server.h"
#include "ebb/lag/group_lag.h"
#include "ebb/orchestrate/external_backend.h"
#include "ebb/orchestrate/local_backend.h"
#include "ebb/orchestrate/process.h"
#include "ebb/orchestrate/properties_file.h"
#include "ebb/scale/control_loop.h"
#include "ebb/scale/policy_factory.h"
#include "output.h"
#include "signals.h"

namespace ebb::app {
namespace {

struct ScaleFlags {
  ServiceOptions service;
  std::string group;
  std::string groupType = "consumer";
  std::string topic;
  std::string policy = "slo";
  std::vector<std::string> settings;
  std::string backend = "local";
  double graceSeconds = 15;
  int32_t warm = 0;
  std::string logDir;
  std::string decisionsPath;
  double durationSeconds = 0;
  std::string serveKeda;
  std::vector<std::string> replicaArgs;
};

// With --serve-keda KEDA runs the replicas; a reading older than this is not served.
std::chrono::milliseconds staleAfter(const scale::Policy& policy) {
  return std::max<std::chrono::milliseconds>(3 * policy.interval(), std::chrono::seconds(10));
}

// The replicas: child processes of this one, or (--serve-keda) whatever KEDA runs. Local replicas
// get the client properties (-X, -F) in `properties`, a private file: the default command with
// -F, a command of the user's through EBB_PROPERTIES_FILE (which its own -F overrides).
std::unique_ptr<orchestrate::ReplicaBackend> makeBackend(
    const ScaleFlags& flags, const orchestrate::PropertiesFile* properties) {
  if (!flags.serveKeda.empty()) {
    if (!flags.replicaArgs.empty()) {
      throw CLI::ValidationError("--serve-keda",
                                 "KEDA runs the replicas: drop the replica command after --");
    }
    if (flags.warm > 0) {
      throw CLI::ValidationError("--warm",
                                 "KEDA runs the replicas: --warm is for the local backend");
    }
    return std::make_unique<orchestrate::ExternalBackend>();
  }
  std::vector<std::string> command{orchestrate::selfExecutable()};
  if (flags.replicaArgs.empty()) {
    command.insert(command.end(),
                   {"consume", "-b", flags.service.client.bootstrapServers, "-t", flags.topic, "-g",
                    flags.group, "--group-type", flags.groupType});
    if (properties != nullptr) command.insert(command.end(), {"-F", properties->path().string()});
  } else {
    command.insert(command.end(), flags.replicaArgs.begin(), flags.replicaArgs.end());
    if (properties != nullptr) ::setenv("EBB_PROPERTIES_FILE", properties->path().c_str(), 1);
  }
  if (!flags.logDir.empty()) std::filesystem::create_directories(flags.logDir);
  return std::make_unique<orchestrate::LocalBackend>(orchestrate::LocalBackendOptions{
      .command = command,
      .gracePeriod = std::chrono::milliseconds(static_cast<int64_t>(flags.graceSeconds * 1000)),
      .logDir = flags.logDir,
      .warm = flags.warm});
}

metrics::Endpoint parseKedaEndpoint(const std::string& text) {
  try {
    return metrics::parseEndpoint(text, "--serve-keda");
  } catch (const std::invalid_argument& error) {
    throw CLI::ValidationError("--serve-keda", error.what());
  }
}

std::map<std::string, std::string> parseSettings(const std::vector<std::string>& pairs) {
  try {
    return scale::parseSettings(pairs);
  } catch (const std::invalid_argument& error) {
    throw CLI::ValidationError("--set", error.what());
  }
}

void printText(const nlohmann::json& summary) {
  std::cout << fmt::format(
      "policy {}: {} decision(s), {} scale event(s), up to {} replica(s), {:.0f} replica-seconds, "
      "{} replica restart(s)\nlast decision: {}\n",
      summary["policy"].get<std::string>(), summary["decisions"].get<uint64_t>(),
      summary["scale_events"].get<uint64_t>(), summary["max_replicas"].get<int>(),
      summary["replica_seconds"].get<double>(), summary["restarts"].get<uint64_t>(),
      summary["last_reason"].get<std::string>());
}

int runScale(const ScaleFlags& flags) {
  const auto policySettings = parseSettings(flags.settings);
  auto policy = scale::makePolicy(flags.policy, policySettings);
  const auto config = flags.service.client.toConfig("ebb-scale");
  std::unique_ptr<orchestrate::PropertiesFile> properties;
  if (!config.properties.empty() && flags.serveKeda.empty()) {
    properties = std::make_unique<orchestrate::PropertiesFile>(config.properties);
  }
  auto backend = makeBackend(flags, properties.get());
  std::optional<metrics::Endpoint> kedaEndpoint;
  if (!flags.serveKeda.empty()) kedaEndpoint = parseKedaEndpoint(flags.serveKeda);
  auto registry = std::make_shared<prometheus::Registry>();
  kafka::AdminClient admin(config);
  // Share groups are read through the share-admin helper (librdkafka has no share admin API).
  std::optional<kafka::ShareGroupAdmin> share;
  if (flags.groupType == "share") share.emplace(config);
  lag::GroupLagMonitor monitor(admin, flags.group, {flags.topic}, std::chrono::seconds(60),
                               share ? &*share : nullptr);
  // Fail now, with the reason, on an unreachable cluster or an unknown topic.
  admin.topic(flags.topic);

  std::ofstream decisions;
  if (!flags.decisionsPath.empty()) {
    decisions.open(flags.decisionsPath, std::ios::app);
    if (!decisions) throw std::runtime_error("cannot write " + flags.decisionsPath);
  }
  scale::StepTotals totals;
  keda::RecommendationBoard board;
  auto onStep = [&](const scale::Step& step) {
    totals.add(step);
    // Recorded before KEDA can see it: whoever is told a count finds it in the file.
    if (decisions.is_open()) decisions << scale::toJson(step).dump() << std::endl;
    board.publish({.replicas = step.decision.replicas,
                   .reason = step.decision.reason,
                   .at = keda::Clock::now()});
  };
  scale::ControlLoop loop(monitor, flags.topic, *policy, *backend, *registry, onStep);
  std::unique_ptr<keda::ExternalScalerServer> kedaServer;
  if (kedaEndpoint) {
    kedaServer = std::make_unique<keda::ExternalScalerServer>(
        *kedaEndpoint, keda::ScalerTarget{.topic = flags.topic, .group = flags.group}, board,
        staleAfter(*policy), *registry);
    spdlog::info("serving KEDA's external scaler API on port {} (metric {}, target {} per replica)",
                 kedaServer->port(), keda::kMetricName, keda::kTargetPerReplica);
  }
  auto http = flags.service.serveHttp(registry);
  if (http) http->setReady(true);
  const auto& stop = installStopSignals();
  std::atomic<bool> done{false};
  // A reading in progress while the cluster is away gives up at once when we are told to stop.
  admin.setStopFlag(&done);
  // --duration ends the loop like a stop signal would.
  std::jthread timer([&](const std::stop_token& token) {
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(flags.durationSeconds * 1e3));
    while (!token.stop_requested() && !stop.load()) {
      if (flags.durationSeconds > 0 && std::chrono::steady_clock::now() >= end) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    done.store(true);
  });
  spdlog::info("scaling group {} on {} with policy {} every {} ms", flags.group, flags.topic,
               policy->name(), policy->interval().count());
  loop.run(done);
  kedaServer.reset();
  if (flags.serveKeda.empty()) {
    spdlog::info("stopping every replica (grace period {:.0f} s)", flags.graceSeconds);
  }
  backend->stopAll();
  printSummary(flags.service.output,
               {{"policy", std::string(policy->name())},
                {"decisions", totals.decisions},
                {"scale_events", totals.scaleEvents},
                {"max_replicas", totals.maxReplicas},
                {"replica_seconds", totals.replicaSeconds},
                {"restarts", backend->restarts()},
                {"last_reason", totals.lastReason}},
               printText);
  return 0;
}

}  // namespace

void addScaleCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<ScaleFlags>();
  auto* command = app.add_subcommand(
      "scale",
      "Scale consumer replicas from the group's lag (consumer or share group): policies keda, "
      "slo, static or cycle");
  flags->service.addTo(*command);
  command->add_option("-g,--group", flags->group, "Group the replicas join")->required();
  addGroupTypeOption(*command, flags->groupType);
  command->add_option("-t,--topic", flags->topic, "Topic whose lag drives the policy")->required();
  command
      ->add_option("--policy", flags->policy,
                   "keda, slo, static or cycle (scale events on a schedule)")
      ->check(CLI::IsMember(scale::policyNames()));
  // One value per --set, so "--set k=v -- consume ..." leaves the replica's arguments alone.
  command
      ->add_option("--set", flags->settings,
                   "Policy setting KEY=VALUE (repeatable; see docs/SCALING.md)")
      ->allow_extra_args(false);
  auto* backend =
      command
          ->add_option("--backend", flags->backend, "Where replicas run: local (child processes)")
          ->check(CLI::IsMember({"local"}));
  command
      ->add_option("--serve-keda", flags->serveKeda,
                   "Run no replicas; serve KEDA's external scaler gRPC API on HOST:PORT or :PORT "
                   "so that a ScaledObject's external trigger scales by this policy")
      ->excludes(backend);
  command
      ->add_option("--grace-period", flags->graceSeconds,
                   "Seconds a stopping replica may drain before it is killed")
      ->check(CLI::Range(0.0, 3600.0));
  command
      ->add_option("--warm", flags->warm,
                   "Standby replicas kept ready (connected, not in the group; the replica "
                   "command gets --standby): scale-out activates them at once")
      ->check(CLI::Range(0, 1000));
  command->add_option("--log-dir", flags->logDir, "Each replica's output to DIR/replica-N.log");
  command->add_option("--decisions", flags->decisionsPath,
                      "Append every observation and decision to FILE as JSON lines");
  command
      ->add_option("--duration", flags->durationSeconds, "Stop after this many seconds (0: never)")
      ->check(CLI::Range(0.0, 1e7));
  command->add_option(
      "replica", flags->replicaArgs,
      "After --: the replica's ebb arguments ({replica} is its number); default: "
      "consume -b BOOTSTRAP -t TOPIC -g GROUP --group-type TYPE. -X and -F reach the replicas in a "
      "private file (EBB_PROPERTIES_FILE), never on their command line");
  addEnvironmentNames(*command);
  command->callback([flags, &runner] { runner = [flags] { return runScale(*flags); }; });
}

}  // namespace ebb::app
