#include "ebb/demo/demo.h"

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ebb/demo/demo_view.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/error.h"
#include "ebb/kafka/share_admin.h"
#include "ebb/lag/group_lag.h"
#include "ebb/load/profile.h"
#include "ebb/orchestrate/local_backend.h"
#include "ebb/orchestrate/process.h"
#include "ebb/orchestrate/properties_file.h"
#include "ebb/report/html_report.h"
#include "ebb/report/scale_cost.h"
#include "ebb/scale/control_loop.h"
#include "ebb/scale/policy_factory.h"
#include "ebb/service/work.h"
#include "ebb/verify/audit.h"

namespace ebb::demo {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kTick = 1s;
// The first replica must be in the group before the load starts, or the first seconds would
// measure its start-up rather than the policy.
constexpr auto kWarmUpLimit = 60s;
// The producer ends on its own at --duration; this much later it is stopped.
constexpr auto kProducerEndWait = 15s;
// After the load, the replicas get this long to work off the lag before they are stopped
// (messages still in the topic then are counted as lost by the audit: the run did not finish).
constexpr auto kDrainLimit = 60s;
constexpr auto kInterruptedDrainLimit = 10s;
constexpr int kReplicaGraceSeconds = 15;
constexpr auto kBackendGrace = 20s;
// Per-key order is checked by the audit, so the producer sends keyed messages.
constexpr const char* kKeys = "uniform:1000";
// Headroom the demo plans static replicas with, as slo's default does.
constexpr double kHeadroom = 1.2;

// The local time now in strftime's `format`.
std::string localTime(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof(text), format, &local);
  return text;
}

double epochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double secondsOf(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string number(double value) { return fmt::format("{:g}", value); }

// The highest rate of the profile over the run (scanned every 100 ms).
double peakRate(const load::Profile& profile, double duration) {
  double peak = 0;
  for (double t = 0; t <= duration; t += 0.1) peak = std::max(peak, profile.rateAt(t));
  return peak;
}

// What the replicas append to their --stats files, read as it arrives.
class StatsTail {
 public:
  explicit StatsTail(fs::path dir) : dir_(std::move(dir)) {}

  // Lines the replicas appended since the last call.
  std::vector<report::ReplicaSecond> poll() {
    std::vector<report::ReplicaSecond> fresh;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir_, error)) {
      const auto name = entry.path().filename().string();
      if (!name.starts_with("replica-") || !name.ends_with(".stats.jsonl")) continue;
      auto& file = files_[name];
      std::ifstream in(entry.path(), std::ios::binary);
      in.seekg(file.offset);
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      file.offset += static_cast<std::streamoff>(chunk.size());
      file.partial += chunk;
      size_t start = 0;
      for (size_t end = file.partial.find('\n'); end != std::string::npos;
           end = file.partial.find('\n', start)) {
        if (auto line =
                report::parseStatsLine(std::string_view(file.partial).substr(start, end - start))) {
          file.lines.push_back(*line);
          fresh.push_back(*line);
        }
        start = end + 1;
      }
      file.partial.erase(0, start);
    }
    return fresh;
  }

  std::vector<std::vector<report::ReplicaSecond>> all() const {
    std::vector<std::vector<report::ReplicaSecond>> result;
    for (const auto& [name, file] : files_) result.push_back(file.lines);
    return result;
  }

 private:
  struct File {
    std::streamoff offset = 0;
    std::string partial;
    std::vector<report::ReplicaSecond> lines;
  };
  fs::path dir_;
  std::map<std::string, File> files_;
};

report::LatencyPart combineLines(const std::vector<report::ReplicaSecond>& lines) {
  std::vector<report::LatencyPart> parts;
  for (const auto& line : lines) {
    parts.push_back(
        {.count = line.consumed, .p50Ms = line.p50Ms, .p99Ms = line.p99Ms, .maxMs = line.maxMs});
  }
  return report::combine(parts);
}

// A local broker run by tools/kafka/kafka.sh in DIR; stopped (data deleted) when dropped.
class LocalBroker {
 public:
  LocalBroker(std::string script, fs::path dir)
      : script_(std::move(script)), dir_(std::move(dir)) {}
  ~LocalBroker() { stop(); }
  LocalBroker(const LocalBroker&) = delete;
  LocalBroker& operator=(const LocalBroker&) = delete;

  std::string start() {
    started_ = true;
    // --owner-pid: the broker goes with us even if we are SIGKILLed. Its progress goes to our
    // stderr; the bootstrap address is the last line of its stdout.
    const auto result = orchestrate::runCommand(
        {script_, "start", "--dir", dir_.string(), "--owner-pid", std::to_string(::getpid())},
        std::chrono::minutes(5));
    std::string bootstrap;
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) bootstrap = line;
    }
    if (result.status != 0 || bootstrap.empty()) {
      throw std::runtime_error(fmt::format(
          "the local Kafka broker did not start (kafka.sh exit {}): see its messages above and "
          "{}/node-1/server.log; or pass -b HOST:PORT for an existing cluster",
          result.status, dir_.string()));
    }
    return bootstrap;
  }

  void stop() {
    if (!started_) return;
    started_ = false;
    try {
      const auto result = orchestrate::runCommand({script_, "stop", "--dir", dir_.string()},
                                                  std::chrono::minutes(1));
      if (result.status != 0) spdlog::warn("kafka.sh stop exited with {}", result.status);
    } catch (const std::exception& error) {
      spdlog::warn("stopping the local broker: {}", error.what());
    }
  }

 private:
  std::string script_;
  fs::path dir_;
  bool started_ = false;
};

std::string describeProfile(const DemoOptions& options, const load::Profile& profile) {
  return fmt::format("{} at {} msg/s", profile.describe(), number(options.rate));
}

}  // namespace

std::string clock(double seconds) {
  const auto whole = static_cast<int64_t>(std::max(0.0, std::floor(seconds)));
  return fmt::format("{}:{:02}", whole / 60, whole % 60);
}

double replicaRate(const std::string& work) {
  const auto spec = service::WorkSpec::parse(work);
  if (spec.kind == service::WorkSpec::Kind::kNone) return 20'000;
  const double seconds = std::chrono::duration<double>(spec.mean).count() + 100e-6;
  return 1 / seconds;
}

PolicySettings policySettings(const std::string& policy, const DemoOptions& options) {
  PolicySettings result;
  const double rate = replicaRate(options.work);
  const auto objective = fmt::format("{}ms", std::llround(options.objectiveMs));
  if (policy == "slo") {
    result.settings = {{"objective", objective}, {"service-rate", fmt::format("{:.0f}", rate)}};
    result.notes.push_back(fmt::format(
        "objective from --slo; service-rate {:.0f} msg/s is what one replica with --work {} "
        "clears (measured; the policy replaces it with what it learns once replicas are "
        "saturated). Everything else is the policy's default (a 1 min scale-in delay, for "
        "one).",
        rate, options.work));
  } else if (policy == "keda") {
    const auto threshold = std::max<int64_t>(1, std::llround(rate * options.objectiveMs / 1000));
    result.settings = {{"lagThreshold", std::to_string(threshold)},
                       {"minReplicaCount", "1"},
                       {"maxReplicaCount", std::to_string(options.partitions)},
                       {"pollingInterval", "5s"},
                       {"syncPeriod", "5s"},
                       {"downscaleStabilization", "60s"}};
    result.notes.push_back(fmt::format(
        "lagThreshold {}: what one replica clears within the {} objective ({:.0f} msg/s x {:g} "
        "s), the usual way to size it.",
        threshold, objective, rate, options.objectiveMs / 1000));
    result.notes.push_back(
        "Shortened so that a few minutes show KEDA's whole cycle: pollingInterval 5s (KEDA's "
        "default 30s), HPA syncPeriod 5s (default 15s), downscaleStabilization 60s (default "
        "5m). minReplicaCount 1 keeps one replica at rest, as slo does; maxReplicaCount is the "
        "partition count. Everything else (tolerance 0.1, spec.behavior unset, so scale-up at "
        "most max(2 x current, 4) per sync) is as shipped.");
  } else if (policy == "static") {
    const auto profile = load::parseProfile(options.profile, options.rate);
    const double peak = peakRate(*profile, options.durationSeconds);
    const auto replicas = std::clamp<int64_t>(
        static_cast<int64_t>(std::ceil(peak * kHeadroom / rate)), 1, options.partitions);
    result.settings = {{"replicas", std::to_string(replicas)}, {"interval", "5s"}};
    result.notes.push_back(fmt::format(
        "replicas {}: provisioned for the peak ({:.0f} msg/s with 20% headroom at {:.0f} msg/s "
        "per replica), the baseline the elastic policies are measured against.",
        replicas, peak, rate));
  }
  const auto names = scale::policyNames();
  std::vector<std::string> overrides;
  for (const auto& item : options.settings) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("--set: expected [POLICY.]KEY=VALUE, got '" + item + "'");
    }
    std::string key = item.substr(0, eq);
    const auto dot = key.find('.');
    if (dot != std::string::npos &&
        std::find(names.begin(), names.end(), key.substr(0, dot)) != names.end()) {
      const auto target = key.substr(0, dot);
      if (std::find(options.policies.begin(), options.policies.end(), target) ==
          options.policies.end()) {
        throw std::invalid_argument("--set " + item + " is for policy " + target +
                                    ", which this demo does not run");
      }
      if (target != policy) continue;
      key = key.substr(dot + 1);
    }
    result.settings[key] = item.substr(eq + 1);
    overrides.push_back(key + "=" + item.substr(eq + 1));
  }
  if (!overrides.empty()) {
    result.notes.push_back(
        fmt::format("Set with --set, over the above: {}.", fmt::join(overrides, ", ")));
  }
  return result;
}

std::string runName(const DemoOptions& options, size_t index) {
  const bool share = index < options.groupTypes.size() && options.groupTypes[index] == "share";
  return options.policies.at(index) + (share ? "-share" : "");
}

namespace {
bool isShareRun(const DemoOptions& options, size_t index) {
  return index < options.groupTypes.size() && options.groupTypes[index] == "share";
}

// "slo, slo-share (share group)": what the report's setup lists.
std::string runNames(const DemoOptions& options) {
  std::vector<std::string> names;
  for (size_t i = 0; i < options.policies.size(); ++i) {
    names.push_back(runName(options, i) + (isShareRun(options, i) ? " (share group)" : ""));
  }
  return fmt::format("{}", fmt::join(names, ", "));
}
}  // namespace

struct Demo::Impl {
  DemoOptions options;
  std::string stamp;
  fs::path runDir;
  std::unique_ptr<load::Profile> profile;
  std::optional<report::LoadWindow> spike;
  std::vector<PolicySettings> settings;  // by policy, in options.policies' order
  bool ownBroker = false;

  struct RunResult {
    report::RunReport report;
    bool interrupted = false;
  };
  class Run;

  RunResult runOne(size_t index, const kafka::ClientConfig& config, const std::atomic<bool>& stop,
                   DemoView& view) const;
  // What the report says about the whole demo, around the runs' own figures.
  report::ReportInput reportInput(std::vector<report::RunReport> runs, bool interrupted) const;
};

Demo::Demo(DemoOptions options) : impl_(std::make_unique<Impl>()) {
  auto& o = impl_->options;
  o = std::move(options);
  if (o.policies.empty()) throw std::invalid_argument("--policy: no policy to run");
  const auto names = scale::policyNames();
  for (size_t i = 0; i < o.policies.size(); ++i) {
    if (std::find(names.begin(), names.end(), o.policies[i]) == names.end()) {
      throw std::invalid_argument("unknown policy '" + o.policies[i] +
                                  "' (use keda, slo or static)");
    }
    for (size_t j = 0; j < i; ++j) {
      if (runName(o, j) == runName(o, i)) {
        throw std::invalid_argument("--compare names run " + runName(o, i) + " twice");
      }
    }
  }
  if (!o.groupTypes.empty() && o.groupTypes.size() != o.policies.size()) {
    throw std::invalid_argument("a group type for each policy run is needed");
  }
  for (const auto& type : o.groupTypes) {
    if (type != "consumer" && type != "share") {
      throw std::invalid_argument("unknown group type '" + type + "' (use consumer or share)");
    }
  }
  if (!(o.durationSeconds >= 10)) {
    throw std::invalid_argument("--duration must be at least 10 seconds");
  }
  if (o.partitions < 1) throw std::invalid_argument("--partitions must be at least 1");
  if (!(o.objectiveMs > 0)) throw std::invalid_argument("--slo must be above 0");
  try {
    service::WorkSpec::parse(o.work);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("--work: ") + error.what());
  }
  impl_->profile = load::parseProfile(o.profile, o.rate);  // its errors name --profile
  impl_->spike = report::findLoadWindow(*impl_->profile, o.durationSeconds);
  for (const auto& policy : o.policies) {
    auto setup = policySettings(policy, o);
    try {
      scale::makePolicy(policy, setup.settings);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument("policy " + policy + ": " + error.what());
    }
    impl_->settings.push_back(std::move(setup));
  }
  const auto gnuplot = orchestrate::findExecutable(o.gnuplot);
  if (!gnuplot) {
    throw std::runtime_error(
        "gnuplot is not installed: the report's charts need it (apt-get "
        "install gnuplot-nox; scripts/bootstrap.sh installs it)");
  }
  o.gnuplot = *gnuplot;
  if (o.ebbBinary.empty()) o.ebbBinary = orchestrate::selfExecutable();

  impl_->ownBroker = o.client.bootstrapServers.empty();
  if (impl_->ownBroker) {
    if (o.kafkaScript.empty() || ::access(o.kafkaScript.c_str(), X_OK) != 0) {
      throw std::runtime_error("cannot start a local broker: tools/kafka/kafka.sh not found at '" +
                               o.kafkaScript +
                               "' (run from the source tree, or pass -b HOST:PORT for a cluster)");
    }
  } else {
    try {
      kafka::AdminClient admin(o.client, std::chrono::seconds(10));
      admin.metadata();
    } catch (const kafka::KafkaError& error) {
      throw std::runtime_error("cannot reach the Kafka cluster at " + o.client.bootstrapServers +
                               " (-b): " + error.what());
    }
  }

  impl_->stamp = localTime("%Y%m%d-%H%M%S");
  impl_->runDir = o.outDir / ("demo-" + impl_->stamp);
  for (int n = 2; fs::exists(impl_->runDir); ++n) {
    impl_->runDir = o.outDir / fmt::format("demo-{}-{}", impl_->stamp, n);
  }
  std::error_code error;
  fs::create_directories(impl_->runDir, error);
  std::ofstream probe(impl_->runDir / "demo.log", std::ios::app);
  if (error || !probe) {
    throw std::runtime_error("cannot write the report to " + impl_->runDir.string() + " (--out " +
                             o.outDir.string() +
                             "): " + (error ? error.message() : std::string(std::strerror(errno))));
  }
}

Demo::~Demo() = default;

const fs::path& Demo::reportDir() const { return impl_->runDir; }

// One policy's run, phase by phase: set up (topic, replicas, policy, monitor, control loop), warm
// up (the first replica joins), the load, wind down (producer, drain, replicas), verify the
// audit, build the run's report. Every phase ticks once a second.
class Demo::Impl::Run {
 public:
  Run(const Impl& demo, size_t index, const kafka::ClientConfig& config,
      const std::atomic<bool>& stop, DemoView& view);

  RunResult execute();

 private:
  std::vector<std::string> clientArgs() const;
  std::vector<std::string> replicaCommand() const;
  std::vector<std::string> producerCommand() const;
  orchestrate::LocalBackendOptions backendOptions() const;
  void setUp();
  void onStep(const scale::Step& step);

  std::optional<lag::GroupLag> tick(const std::string& phase);
  report::LatencyPart recentLatency() const;
  void sleepUntil(Clock::time_point when);

  void warmUp();
  void startProducer();
  void load();
  void waitForProducer();
  void drain();
  void windDown();
  report::RunFacts verifyAudit() const;
  void deleteTopic();
  RunResult buildReport(const fs::path& dir, const report::RunFacts& facts) const;
  void addEventCosts(std::vector<report::ScaleEvent>& events, const fs::path& dir) const;

  const Impl& demo_;
  const DemoOptions& options_;
  size_t index_;
  const kafka::ClientConfig& config_;
  const std::atomic<bool>& stop_;
  DemoView& view_;
  const std::string& policyName_;
  const bool share_;        // a share group run
  const std::string name_;  // runName(): folder, topic, label
  const PolicySettings& setup_;
  fs::path dir_;
  // Unique per run, also when several demos share a cluster (-b).
  std::string topic_;
  std::string groupId_;
  std::string producerId_;
  // The client properties (-X, -F) for the replicas and the producer, in a private file.
  std::unique_ptr<orchestrate::PropertiesFile> properties_;

  // Made by setUp() in this order, and dropped in the reverse one.
  std::optional<kafka::AdminClient> admin_;
  std::optional<kafka::ShareGroupAdmin> shareAdmin_;
  std::optional<orchestrate::LocalBackend> backend_;
  std::unique_ptr<scale::Policy> policy_;
  std::optional<lag::GroupLagMonitor> monitor_;
  prometheus::Registry registry_;
  std::ofstream decisions_;
  std::vector<report::ScaleEvent> events_;
  std::optional<report::ScaleEvent> lastChange_;
  std::string lastReason_;
  std::optional<Clock::time_point> loadStart_;
  Clock::time_point origin_{};
  std::optional<scale::ControlLoop> loop_;

  // What the ticks record.
  StatsTail stats_;
  std::vector<report::Reading> readings_;
  std::vector<report::ReplicaSecond> sinceStep_;  // the replicas' lines since the last round
  ViewState state_;
  scale::Millis nextStep_{0};
  int32_t desired_ = 0;
  int64_t lastLag_ = 0;
  std::optional<orchestrate::Process> producer_;
  std::optional<int> producerStatus_;
  double startEpoch_ = 0;
  bool interrupted_ = false;
};

Demo::Impl::Run::Run(const Impl& demo, size_t index, const kafka::ClientConfig& config,
                     const std::atomic<bool>& stop, DemoView& view)
    : demo_(demo),
      options_(demo.options),
      index_(index),
      config_(config),
      stop_(stop),
      view_(view),
      policyName_(demo.options.policies[index]),
      share_(isShareRun(demo.options, index)),
      name_(runName(demo.options, index)),
      setup_(demo.settings[index]),
      dir_(demo.runDir / name_),
      topic_(fmt::format("ebb-demo-{}-{}-{}", name_, demo.stamp, ::getpid())),
      groupId_(topic_ + "-group"),
      producerId_("demo-" + name_),
      stats_(dir_),
      state_{.policy = name_,
             .run = index + 1,
             .runs = options_.policies.size(),
             .topic = topic_,
             .load = describeProfile(options_, *demo.profile),
             .objectiveMs = options_.objectiveMs,
             .duration = options_.durationSeconds} {
  if (!config_.properties.empty()) {
    properties_ = std::make_unique<orchestrate::PropertiesFile>(config_.properties);
  }
}

Demo::Impl::RunResult Demo::Impl::Run::execute() {
  setUp();
  warmUp();
  load();
  interrupted_ = stop_.load();
  windDown();
  const auto facts = verifyAudit();
  deleteTopic();
  return buildReport(dir_, facts);
}

// -b and -F as the replicas and the producer take them: properties never on their argv.
std::vector<std::string> Demo::Impl::Run::clientArgs() const {
  std::vector<std::string> args{"-b", config_.bootstrapServers};
  if (properties_) args.insert(args.end(), {"-F", properties_->path().string()});
  return args;
}

// One replica: `ebb consume` in the group, with its audit and per-second stats files.
std::vector<std::string> Demo::Impl::Run::replicaCommand() const {
  std::vector<std::string> replica{options_.ebbBinary, "--log-level", "info", "consume"};
  const auto client = clientArgs();
  replica.insert(replica.end(), client.begin(), client.end());
  replica.insert(replica.end(),
                 {"-t", topic_, "-g", groupId_, "--group-type", share_ ? "share" : "consumer",
                  "--work", options_.work, "--grace-period", std::to_string(kReplicaGraceSeconds),
                  "--audit", (dir_ / "replica-{replica}.audit").string(), "--stats",
                  (dir_ / "replica-{replica}.stats.jsonl").string()});
  return replica;
}

// The producer: `ebb produce` along the profile for --duration, keyed, its summary as JSON.
std::vector<std::string> Demo::Impl::Run::producerCommand() const {
  std::vector<std::string> produce{options_.ebbBinary, "--log-level", "warn", "produce"};
  const auto client = clientArgs();
  produce.insert(produce.end(), client.begin(), client.end());
  produce.insert(produce.end(), {"-t", topic_, "--rate", number(options_.rate), "--profile",
                                 options_.profile, "--duration", number(options_.durationSeconds),
                                 "--producer-id", producerId_, "--keys", kKeys, "-o", "json"});
  return produce;
}

// How the replicas run: local processes, each in a process group of its own (Ctrl-C reaches only
// us, and we stop them in order), their logs beside their audit files.
orchestrate::LocalBackendOptions Demo::Impl::Run::backendOptions() const {
  return {.command = replicaCommand(),
          .gracePeriod = kBackendGrace,
          .logDir = dir_.string(),
          .ownProcessGroup = true,
          .warm = options_.warm};
}

void Demo::Impl::Run::setUp() {
  fs::create_directories(dir_);
  admin_.emplace(config_);
  admin_->createTopic({.name = topic_, .partitions = options_.partitions});
  spdlog::info("run {} of {}: policy {} on topic {} ({} partitions, {} group)", index_ + 1,
               options_.policies.size(), policyName_, topic_, options_.partitions,
               share_ ? "share" : "consumer");
  backend_.emplace(backendOptions());
  policy_ = scale::makePolicy(policyName_, setup_.settings);
  if (share_) shareAdmin_.emplace(config_);
  monitor_.emplace(*admin_, groupId_, std::vector<std::string>{topic_}, std::chrono::seconds(5),
                   shareAdmin_ ? &*shareAdmin_ : nullptr);
  decisions_.open(dir_ / "decisions.jsonl");
  origin_ = Clock::now();
  loop_.emplace(*monitor_, topic_, *policy_, *backend_, registry_,
                [this](const scale::Step& step) { onStep(step); });
}

// Every decision to decisions.jsonl; a change of the replica count, once the load runs, is a
// scale event for the report and the view.
void Demo::Impl::Run::onStep(const scale::Step& step) {
  decisions_ << scale::toJson(step).dump() << "\n";
  lastReason_ = step.decision.reason;
  if (step.decision.replicas == step.observation.currentReplicas) return;
  const double t = loadStart_ ? secondsOf(origin_ + step.observation.at - *loadStart_) : 0;
  report::ScaleEvent event{.t = std::max(0.0, t),
                           .from = step.observation.currentReplicas,
                           .to = step.decision.replicas,
                           .reason = step.decision.reason};
  lastChange_ = event;
  if (loadStart_) {
    events_.push_back(event);
    view_.note(
        fmt::format("{} scale {} → {}: {}", clock(event.t), event.from, event.to, event.reason));
  }
}

// One tick: read the group, let the policy act when its interval is due, follow the replicas'
// stats, record, redraw.
std::optional<lag::GroupLag> Demo::Impl::Run::tick(const std::string& phase) {
  const auto now = Clock::now();
  const auto at = std::chrono::duration_cast<scale::Millis>(now - origin_);
  std::optional<lag::GroupLag> group;
  try {
    group = monitor_->read(at);
  } catch (const std::exception& error) {
    // Before the load a fresh broker may still be electing the group's coordinator.
    spdlog::log(loadStart_ ? spdlog::level::warn : spdlog::level::info,
                "reading the group's lag failed: {}", error.what());
  }
  for (const auto& line : stats_.poll()) sinceStep_.push_back(line);
  if (group && at >= nextStep_) {
    const auto recent = combineLines(sinceStep_);
    std::optional<double> p99;
    if (recent.count > 0) p99 = recent.p99Ms / 1000;
    try {
      desired_ = loop_->step(at, *group, p99).decision.replicas;
    } catch (const std::exception& error) {
      spdlog::warn("scaling round failed: {}", error.what());
    }
    sinceStep_.clear();
    nextStep_ = std::max(nextStep_ + policy_->interval(), at);
  }
  const int32_t running = backend_->reconcile();
  const double t = loadStart_ ? secondsOf(now - *loadStart_) : 0;
  state_.phase = phase;
  state_.elapsed = t;
  state_.targetRate = loadStart_ && t <= options_.durationSeconds ? demo_.profile->rateAt(t) : 0;
  state_.desired = desired_;
  state_.running = running;
  state_.lastChange = lastChange_;
  state_.lastReason = lastReason_;
  if (group) {
    int64_t logEnd = 0;
    state_.partitionLag.clear();
    for (const auto& p : group->partitions) {
      logEnd += p.logEnd;
      state_.partitionLag.push_back(p.lag);
    }
    state_.lag = group->lag;
    lastLag_ = group->lag;
    state_.members = static_cast<int32_t>(group->members);
    if (!group->topics.empty()) {
      state_.produceRate = group->topics.front().produceRate;
      state_.consumeRate = group->topics.front().consumeRate;
    }
    if (loadStart_) {
      readings_.push_back({.t = t,
                           .targetRate = state_.targetRate,
                           .logEnd = logEnd,
                           .lag = group->lag,
                           .desired = desired_,
                           .running = running,
                           .members = state_.members});
    }
  }
  const auto latency = recentLatency();
  state_.p50Ms = latency.count > 0 ? std::optional(latency.p50Ms) : std::nullopt;
  state_.p99Ms = latency.count > 0 ? std::optional(latency.p99Ms) : std::nullopt;
  view_.show(state_);
  return group;
}

// The latency shown: the replicas' lines of the last two seconds.
report::LatencyPart Demo::Impl::Run::recentLatency() const {
  std::vector<report::ReplicaSecond> recent;
  const double nowEpoch = epochSeconds();
  for (const auto& lines : stats_.all()) {
    for (auto it = lines.rbegin(); it != lines.rend() && it->time > nowEpoch - 2; ++it) {
      recent.push_back(*it);
    }
  }
  return combineLines(recent);
}

// Sleeps in short steps, watching a settling scale event (its handoff's measured length).
void Demo::Impl::Run::sleepUntil(Clock::time_point when) {
  auto nextWatch = Clock::now() + 100ms;
  while (Clock::now() < when && !stop_.load()) {
    std::this_thread::sleep_for(20ms);
    if (loop_ && Clock::now() >= nextWatch) {
      loop_->watchHandoff(std::chrono::duration_cast<scale::Millis>(Clock::now() - origin_));
      nextWatch = Clock::now() + 100ms;
    }
  }
}

// The first replica joins and has every partition before any load.
void Demo::Impl::Run::warmUp() {
  const auto limit = Clock::now() + kWarmUpLimit;
  auto next = Clock::now();
  while (!stop_.load()) {
    const auto group = tick("starting: the first replica joins the group");
    if (group && group->members >= 1 &&
        std::ranges::all_of(group->partitions,
                            [](const lag::PartitionLag& p) { return !p.owner.empty(); })) {
      return;
    }
    if (Clock::now() >= limit) {
      throw std::runtime_error(fmt::format(
          "no replica joined group {} within {} s: see {}/replica-0.log", groupId_,
          std::chrono::duration_cast<std::chrono::seconds>(kWarmUpLimit).count(), dir_.string()));
    }
    next += kTick;
    sleepUntil(next);
  }
}

void Demo::Impl::Run::startProducer() {
  producer_.emplace(producerCommand(),
                    orchestrate::SpawnOptions{.stdoutPath = (dir_ / "producer.json").string(),
                                              .stderrPath = (dir_ / "producer.log").string(),
                                              .dieWithParent = true,
                                              .ownProcessGroup = true});
  loadStart_ = Clock::now();
  startEpoch_ = epochSeconds();
  view_.note(fmt::format("run {} of {}: policy {}, load {} for {}", index_ + 1,
                         options_.policies.size(), name_, state_.load,
                         clock(options_.durationSeconds)));
}

// The load: the producer runs for --duration along the profile.
void Demo::Impl::Run::load() {
  if (stop_.load()) return;
  startProducer();
  const auto& spike = demo_.spike;
  auto next = *loadStart_;
  const auto end =
      *loadStart_ + std::chrono::milliseconds(std::llround(options_.durationSeconds * 1000));
  while (!stop_.load() && Clock::now() < end) {
    const double t = secondsOf(Clock::now() - *loadStart_);
    std::string phase = "load";
    if (spike) {
      phase = t < spike->start ? "before the spike" : t < spike->end ? "spike" : "after the spike";
    }
    tick(phase);
    next += kTick;
    sleepUntil(std::min(next, end));
  }
}

// The producer has normally ended on its own at --duration; stopped when it has not.
void Demo::Impl::Run::waitForProducer() {
  if (interrupted_) producer_->signal(SIGTERM);
  const auto limit = Clock::now() + kProducerEndWait;
  auto next = Clock::now();
  while (!(producerStatus_ = producer_->wait(0ms))) {
    if (Clock::now() >= limit) {
      spdlog::warn("the producer did not end on time: stopping it");
      producerStatus_ = producer_->stop(10s);
      break;
    }
    if (stop_.load()) producer_->signal(SIGTERM);
    tick("waiting for the producer to finish");
    next += kTick;
    while (Clock::now() < next && !producer_->wait(0ms)) std::this_thread::sleep_for(20ms);
  }
}

// The replicas work off the lag, for a shorter while once interrupted.
void Demo::Impl::Run::drain() {
  bool stopSeen = interrupted_;
  auto drainEnd = Clock::now() + (interrupted_ ? kInterruptedDrainLimit : kDrainLimit);
  auto next = Clock::now();
  while (Clock::now() < drainEnd) {
    if (stop_.load() && !stopSeen) {
      stopSeen = true;
      interrupted_ = true;
      drainEnd = std::min(drainEnd, Clock::now() + kInterruptedDrainLimit);
    }
    const auto group = tick("draining: the producer is done, the replicas catch up");
    if (group && group->lag == 0) break;
    next += kTick;
    while (Clock::now() < next) std::this_thread::sleep_for(20ms);
  }
}

// The producer first, then let the replicas work off the lag, then stop them (each drains,
// commits and leaves the group).
void Demo::Impl::Run::windDown() {
  if (producer_) {
    waitForProducer();
    drain();
  }
  interrupted_ = interrupted_ || stop_.load();
  state_.phase = "stopping the replicas (each drains and commits)";
  view_.show(state_);
  backend_->stopAll();
  stats_.poll();  // the replicas' last lines, written as they stopped
}

// What the producer sent and what the replicas processed: the audit, also written to verify.txt.
report::RunFacts Demo::Impl::Run::verifyAudit() const {
  report::RunFacts facts{.policy = name_,
                         .settings = setup_.settings,
                         .objectiveMs = options_.objectiveMs,
                         .spike = demo_.spike,
                         .interrupted = interrupted_,
                         .lagAtStop = lastLag_};
  if (!producer_) return facts;
  try {
    const auto summary = nlohmann::json::parse(readFile(dir_ / "producer.json"));
    facts.sent = summary.at("sent").get<uint64_t>();
    facts.acknowledged = summary.at("acknowledged").get<uint64_t>();
    facts.producerFailed = summary.at("failed").get<uint64_t>();
    verify::AuditVerifier verifier({{.producer = producerId_, .count = facts.acknowledged}});
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".audit") verifier.addFile(entry.path());
    }
    const auto audit = verifier.report();
    facts.verified = true;
    facts.processed = audit.lines();
    facts.lost = audit.lost();
    facts.duplicates = audit.duplicates();
    facts.orderViolations = audit.orderViolations();
    std::ofstream(dir_ / "verify.txt") << verify::toText(audit);
  } catch (const std::exception& error) {
    spdlog::error("cannot verify run {}: {} (producer {})", name_, error.what(),
                  producerStatus_ ? fmt::format("exit status {}", *producerStatus_)
                                  : std::string("still running"));
  }
  return facts;
}

// On a cluster of the user's (-b); our own broker goes with its data.
void Demo::Impl::Run::deleteTopic() {
  if (demo_.ownBroker) return;
  try {
    admin_->deleteTopic(topic_);
  } catch (const std::exception& error) {
    spdlog::warn("could not delete topic {}: {}", topic_, error.what());
  }
}

// Each scale event's cost (excess p99, longest partition gap, decision to capacity), measured
// from the decisions file and the replicas' audit and stats files.
void Demo::Impl::Run::addEventCosts(std::vector<report::ScaleEvent>& events,
                                    const fs::path& dir) const {
  const auto costs = report::measureScaleCosts(report::readDecisions(dir / "decisions.jsonl"),
                                               report::readReplicaTraces(dir));
  for (auto& event : events) {
    const double epoch = startEpoch_ + event.t;
    for (const auto& cost : costs.events) {
      if (cost.decision.from != event.from || cost.decision.to != event.to ||
          std::abs(cost.decision.time - epoch) > 1) {
        continue;
      }
      event.excessP99Ms = cost.excessP99Ms;
      event.longestGapMs = cost.longestGapMs;
      event.decisionToCapacityMs = cost.decisionToCapacityMs;
      break;
    }
  }
}

// The run's timeline, scale events and summary. `dir` holds what the replicas left (audit,
// stats and log files), for figures computed after the run.
Demo::Impl::RunResult Demo::Impl::Run::buildReport(const fs::path& dir,
                                                   const report::RunFacts& facts) const {
  RunResult result;
  result.interrupted = facts.interrupted;
  auto& run = result.report;
  run.samples = report::buildTimeline(readings_, stats_.all(), startEpoch_);
  run.events = events_;
  try {
    addEventCosts(run.events, dir);
  } catch (const std::exception& error) {
    spdlog::warn("cannot measure what the scale events cost: {}", error.what());
  }
  run.notes = setup_.notes;
  run.summary = report::summarize(run.samples, run.events, facts);
  return result;
}

Demo::Impl::RunResult Demo::Impl::runOne(size_t index, const kafka::ClientConfig& config,
                                         const std::atomic<bool>& stop, DemoView& view) const {
  return Run(*this, index, config, stop, view).execute();
}

report::ReportInput Demo::Impl::reportInput(std::vector<report::RunReport> runs,
                                            bool interrupted) const {
  const auto& o = options;
  report::ReportInput input{
      .title = fmt::format("ebb demo, {}", localTime("%Y-%m-%d %H:%M")),
      .setup = {{"load",
                 fmt::format("--profile {} --rate {} ({}) for {} s", o.profile, number(o.rate),
                             profile->describe(), number(o.durationSeconds))},
                {"topic",
                 fmt::format("{} partitions, keys {}, 100-byte messages", o.partitions, kKeys)},
                {"replicas", fmt::format("ebb consume --work {} (about {:.0f} msg/s each), "
                                         "local backend: one process each, {} standby "
                                         "replica(s) kept warm (--warm)",
                                         o.work, replicaRate(o.work), o.warm)},
                {"objective", fmt::format("p99 end to end ≤ {:g} ms", o.objectiveMs)},
                {"cluster", ownBroker ? "a local Kafka broker (tools/kafka/kafka.sh)"
                                      : o.client.bootstrapServers},
                {"runs", runNames(o)}},
      .runs = std::move(runs),
      .gnuplot = o.gnuplot};
  if (interrupted) {
    input.setup.emplace_back("note", "interrupted (Ctrl-C or SIGTERM): the runs end early");
  }
  input.files = {{"timeseries.csv", "every second of every run"},
                 {"summary.json", "the figures above, and every scale event"},
                 {"demo.log", "what the demo did"}};
  for (size_t i = 0; i < o.policies.size(); ++i) {
    const std::string run = runName(o, i);
    if (!fs::exists(runDir / run)) continue;
    input.files.emplace_back(run + "/decisions.jsonl", "every observation and decision of " + run);
    input.files.emplace_back(run + "/verify.txt", "the audit verification of " + run);
  }
  return input;
}

DemoOutcome Demo::run(const std::atomic<bool>& stop, DemoView& view) {
  auto& o = impl_->options;
  DemoOutcome outcome{.reportDir = impl_->runDir};
  std::optional<LocalBroker> broker;
  auto config = o.client;
  config.clientId = "ebb-demo";
  if (impl_->ownBroker) {
    broker.emplace(o.kafkaScript, impl_->runDir / "broker");
    std::cerr << "[ebb demo] starting a local Kafka broker (tools/kafka/kafka.sh)\n";
    try {
      config.bootstrapServers = broker->start();
    } catch (const std::runtime_error&) {
      // Ctrl-C reaches kafka.sh too (it shares our terminal): nothing ran, nothing to report.
      if (!stop.load()) throw;
      outcome.interrupted = true;
      return outcome;
    }
  }
  view.print(fmt::format("[ebb demo] {} policy run(s) against {}; report in {}\n",
                         o.policies.size(), config.bootstrapServers, impl_->runDir.string()));

  std::vector<report::RunReport> reports;
  outcome.verified = true;
  for (size_t i = 0; i < o.policies.size() && !stop.load(); ++i) {
    auto result = impl_->runOne(i, config, stop, view);
    view.finish();
    const auto& s = result.report.summary;
    view.print(fmt::format(
        "\n[ebb demo] {}: sent {}, lost {}, duplicates {}, peak {} replicas, p99 during the spike "
        "{}, {:.0f} replica-seconds\n",
        s.facts.policy, s.facts.acknowledged,
        s.facts.verified ? std::to_string(s.facts.lost) : std::string("not verified"),
        s.facts.duplicates, s.peakReplicas,
        s.spikeLatency.count > 0 ? fmt::format("{:.0f} ms", s.spikeLatency.p99Ms) : "–",
        s.replicaSeconds));
    outcome.interrupted = outcome.interrupted || result.interrupted;
    outcome.verified = outcome.verified && s.facts.verified;
    outcome.lost += s.facts.lost;
    outcome.runs.push_back(s);
    reports.push_back(std::move(result.report));
  }
  outcome.interrupted = outcome.interrupted || stop.load();
  if (broker) broker->stop();
  if (reports.empty()) return outcome;
  outcome.reportFile = report::writeReport(impl_->runDir, impl_->reportInput(std::move(reports),
                                                                             outcome.interrupted))
                           .html;
  return outcome;
}

}  // namespace ebb::demo
