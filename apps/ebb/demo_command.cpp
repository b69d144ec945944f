// `ebb demo`: the elastic loop live on real processes (broker, producer, replicas), then an HTML
// report with charts. Flags here; the run itself is ebb::demo::Demo.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client_options.h"
#include "commands.h"
#include "ebb/demo/demo.h"
#include "ebb/scale/policy_factory.h"
#include "ebb/scale/policy_text.h"
#include "signals.h"
#include "terminal_view.h"

namespace ebb::app {
namespace {

// The status of a run that lost messages, as `ebb verify` exits.
constexpr int kLost = 4;
constexpr int kInterrupted = 130;

struct DemoFlags {
  ClientOptions client;
  std::string policy = "slo";
  std::string groupType = "consumer";
  std::vector<std::string> compare;
  std::vector<std::string> settings;
  double duration = 240;
  std::string profile = "spike:60:90:8";
  double rate = 500;
  int32_t partitions = 12;
  std::string slo = "500ms";
  std::string work = "sleep:1ms";
  int32_t warm = 4;
  std::string out = "out";
  std::string kafkaScript = std::string(EBB_SOURCE_DIR) + "/tools/kafka/kafka.sh";
  bool plain = false;
};

// One --compare item as (policy, group type): a policy (with --group-type), a group type (with
// --policy), or POLICY/TYPE.
std::pair<std::string, std::string> compareItem(const std::string& item, const DemoFlags& flags) {
  const auto slash = item.find('/');
  std::string policy = item.substr(0, slash);
  std::string groupType = slash == std::string::npos ? flags.groupType : item.substr(slash + 1);
  if (slash == std::string::npos && (item == "consumer" || item == "share")) {
    policy = flags.policy;
    groupType = item;
  }
  const auto names = scale::policyNames();
  if (std::find(names.begin(), names.end(), policy) == names.end() ||
      (groupType != "consumer" && groupType != "share")) {
    throw CLI::ValidationError("--compare", "'" + item +
                                                "' is not a policy (keda, slo, static), a group "
                                                "type (consumer, share) or POLICY/TYPE");
  }
  return {policy, groupType};
}

int runDemo(const DemoFlags& flags) {
  demo::DemoOptions options;
  options.client = flags.client.toConfig("ebb-demo");
  options.policies.clear();
  for (const auto& run :
       flags.compare.empty() ? std::vector<std::string>{flags.policy} : flags.compare) {
    const auto [policy, groupType] = compareItem(run, flags);
    options.policies.push_back(policy);
    options.groupTypes.push_back(groupType);
  }
  options.settings = flags.settings;
  options.durationSeconds = flags.duration;
  options.profile = flags.profile;
  options.rate = flags.rate;
  options.partitions = flags.partitions;
  const auto objective = scale::parseDuration(flags.slo);
  if (!objective || objective->count() <= 0) {
    throw CLI::ValidationError(
        "--slo", "expected a latency objective like 500ms or 1s, got '" + flags.slo + "'");
  }
  options.objectiveMs = static_cast<double>(objective->count());
  options.work = flags.work;
  options.warm = flags.warm;
  options.outDir = flags.out;
  options.kafkaScript = flags.kafkaScript;

  std::unique_ptr<demo::Demo> demo;
  try {
    demo = std::make_unique<demo::Demo>(options);
  } catch (const std::invalid_argument& error) {
    throw CLI::ValidationError(error.what());
  }
  // Ctrl-C winds the run down and still writes the report; a second one exits at once.
  const auto& stop = installStopSignals(/*exitOnSecondSignal=*/true);
  // The screen when stdout is a terminal, else plain lines; meanwhile spdlog goes to demo.log.
  const bool live = !flags.plain && ::isatty(STDOUT_FILENO) == 1;
  TerminalView view(live);
  demo::DemoOutcome outcome;
  {
    DemoLog log(demo->reportDir() / "demo.log", live);
    outcome = demo->run(stop, view);
  }
  if (!outcome.reportFile.empty()) {
    std::cout << summaryText(outcome.runs)
              << fmt::format("\n[ebb demo] report: {}\n", outcome.reportFile.string())
              << std::flush;
  }
  if (outcome.interrupted) {
    std::cerr << "[ebb demo] interrupted: the report covers what ran\n";
    return kInterrupted;
  }
  if (!outcome.verified) {
    spdlog::error("the audit files could not be verified: see {}/demo.log",
                  outcome.reportDir.string());
    return 1;
  }
  if (outcome.lost > 0) {
    spdlog::error("{} message(s) lost: see verify.txt in {}", outcome.lost,
                  outcome.reportDir.string());
    return kLost;
  }
  return 0;
}

}  // namespace

void addDemoCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<DemoFlags>();
  auto* command = app.add_subcommand(
      "demo",
      "The elastic loop live: a broker, a producer with a load spike and consumer replicas scaled "
      "by a policy; then an HTML report with charts (needs gnuplot)");
  command
      ->add_option("-b,--bootstrap-server", flags->client.bootstrapServers,
                   "An existing cluster, HOST:PORT[,...] (default: start a local broker)")
      ->envname("EBB_BOOTSTRAP_SERVERS");
  command
      ->add_option("-X,--property", flags->client.properties,
                   "librdkafka property KEY=VALUE for every client (repeatable)")
      ->envname("EBB_PROPERTIES")
      ->delimiter(';');
  command
      ->add_option("-F,--properties-file", flags->client.propertiesFile,
                   "Read librdkafka properties for every client from FILE, one KEY=VALUE per line")
      ->envname("EBB_PROPERTIES_FILE");
  command->add_option("--policy", flags->policy, "keda, slo or static")
      ->check(CLI::IsMember(scale::policyNames()));
  addGroupTypeOption(*command, flags->groupType);
  command
      ->add_option("--compare", flags->compare,
                   "Runs one after another on the same load: policies (slo,keda), group types "
                   "with --policy (consumer,share) or POLICY/TYPE (slo/share,keda/consumer)")
      ->delimiter(',');
  command
      ->add_option("--set", flags->settings,
                   "Policy setting [POLICY.]KEY=VALUE over the demo's own (repeatable; see "
                   "docs/SCALING.md)")
      ->allow_extra_args(false);
  command->add_option("--duration", flags->duration, "Seconds of load (the producer's run)")
      ->check(CLI::Range(10.0, 86400.0));
  command->add_option("--profile", flags->profile,
                      "Load shape: constant, step:AT:RATE, spike:START:LENGTH:FACTOR, "
                      "ramp:FROM:TO:SECONDS, sine:PERIOD:AMPLITUDE, csv:PATH");
  command->add_option("--rate", flags->rate, "Messages per second, the base of --profile")
      ->check(CLI::PositiveNumber);
  command->add_option("--partitions", flags->partitions, "Partitions of the demo's topic")
      ->check(CLI::Range(1, 1000));
  command->add_option("--slo", flags->slo,
                      "Latency objective, p99 end to end (slo's objective; drawn in the charts)");
  command->add_option("--work", flags->work,
                      "Each replica's simulated work per message: sleep:1ms (I/O-bound), "
                      "cpu:200us, none");
  command
      ->add_option("--warm", flags->warm,
                   "Standby replicas kept ready (connected, not yet in the group): scale-out "
                   "activates them at once (0: every new replica starts cold)")
      ->check(CLI::Range(0, 100));
  command->add_option("--out", flags->out, "Reports go to OUT/demo-TIMESTAMP/");
  command->add_option("--kafka-script", flags->kafkaScript,
                      "tools/kafka/kafka.sh that starts the local broker");
  command->add_flag("--plain", flags->plain,
                    "Plain lines every few seconds instead of the live screen (the default when "
                    "stdout is not a terminal)");
  addEnvironmentNames(*command);
  command->callback([flags, &runner] { runner = [flags] { return runDemo(*flags); }; });
}

}  // namespace ebb::app
