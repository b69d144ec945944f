#include "ebb/demo/demo.h"

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
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

#include "ebb/demo/live_view.h"
#include "ebb/kafka/admin_client.h"
#include "ebb/kafka/error.h"
#include "ebb/lag/group_lag.h"
#include "ebb/load/profile.h"
#include "ebb/orchestrate/local_backend.h"
#include "ebb/orchestrate/process.h"
#include "ebb/report/html_report.h"
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
// Plain output: a line this often, and on every scale event.
constexpr auto kPlainEvery = 5s;
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

// The screen or the log lines, whichever stdout is.
class Output {
 public:
  explicit Output(bool live) : live_(live) {
    if (live_) std::cout << "\x1b[?25l" << std::flush;  // no cursor blinking through the view
  }
  ~Output() { finish(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void show(const ViewState& state) {
    if (live_) {
      winsize size{};
      const int width = ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0
                            ? static_cast<int>(size.ws_col)
                            : 100;
      const std::string screen = renderView(state, std::min(width, 140), true);
      std::string frame;
      if (drawn_ > 0) frame += fmt::format("\x1b[{}A\r", drawn_);
      size_t lines = 0;
      for (size_t start = 0; start < screen.size();) {
        const size_t end = screen.find('\n', start);
        frame += screen.substr(start, end - start) + "\x1b[K\n";
        ++lines;
        start = end + 1;
      }
      frame += "\x1b[J";
      drawn_ = lines;
      std::cout << frame << std::flush;
      return;
    }
    const auto now = Clock::now();
    if (now - lastLine_ >= kPlainEvery || state.phase != lastPhase_) {
      std::cout << "[ebb demo] " << renderLine(state) << std::endl;
      lastLine_ = now;
      lastPhase_ = state.phase;
    }
  }

  // A scale event or a phase change: a line of its own in plain mode (the screen shows it).
  void note(const std::string& text) {
    if (!live_) std::cout << "[ebb demo] " << text << std::endl;
  }

  // Text below the view, which stays on screen as it was last drawn.
  void print(const std::string& text) {
    drawn_ = 0;
    std::cout << text << std::flush;
  }

  void finish() {
    if (live_ && !finished_) std::cout << "\x1b[?25h" << std::flush;
    finished_ = true;
  }

 private:
  bool live_;
  bool finished_ = false;
  size_t drawn_ = 0;
  Clock::time_point lastLine_{};
  std::string lastPhase_;
};

// spdlog to DIR/demo.log while the demo runs (the screen is ours), and warnings also to stderr
// when there is no screen to spoil; the previous logger comes back at the end.
class DemoLog {
 public:
  DemoLog(const fs::path& file, bool live) : previous_(spdlog::default_logger()) {
    std::vector<spdlog::sink_ptr> sinks{
        std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string())};
    sinks.front()->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l %v");
    if (!live) {
      auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      err->set_level(spdlog::level::warn);
      err->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
      sinks.push_back(err);
    }
    auto logger = std::make_shared<spdlog::logger>("ebb-demo", sinks.begin(), sinks.end());
    logger->set_level(std::min(previous_->level(), spdlog::level::info));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~DemoLog() { spdlog::set_default_logger(previous_); }
  DemoLog(const DemoLog&) = delete;
  DemoLog& operator=(const DemoLog&) = delete;

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

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

  RunResult runOne(size_t index, const kafka::ClientConfig& config, const std::atomic<bool>& stop,
                   Output& output);
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
    if (std::find(o.policies.begin(), o.policies.begin() + static_cast<std::ptrdiff_t>(i),
                  o.policies[i]) != o.policies.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("--compare names policy " + o.policies[i] + " twice");
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

Demo::Impl::RunResult Demo::Impl::runOne(size_t index, const kafka::ClientConfig& config,
                                         const std::atomic<bool>& stop, Output& output) {
  const auto& policyName = options.policies[index];
  const auto& setup = settings[index];
  const fs::path dir = runDir / policyName;
  fs::create_directories(dir);
  // Unique per run, also when several demos share a cluster (-b).
  const std::string topic = fmt::format("ebb-demo-{}-{}-{}", policyName, stamp, ::getpid());
  const std::string groupId = topic + "-group";
  const std::string producerId = "demo-" + policyName;

  kafka::AdminClient admin(config);
  admin.createTopic({.name = topic, .partitions = options.partitions});
  spdlog::info("run {} of {}: policy {} on topic {} ({} partitions)", index + 1,
               options.policies.size(), policyName, topic, options.partitions);

  std::vector<std::string> clientArgs{"-b", config.bootstrapServers};
  for (const auto& [key, value] : config.properties) {
    clientArgs.insert(clientArgs.end(), {"-X", key + "=" + value});
  }
  std::vector<std::string> replica{options.ebbBinary, "--log-level", "info", "consume"};
  replica.insert(replica.end(), clientArgs.begin(), clientArgs.end());
  replica.insert(replica.end(), {"-t", topic, "-g", groupId, "--work", options.work,
                                 "--grace-period", std::to_string(kReplicaGraceSeconds), "--audit",
                                 (dir / "replica-{replica}.audit").string(), "--stats",
                                 (dir / "replica-{replica}.stats.jsonl").string()});
  orchestrate::LocalBackend backend({.command = replica,
                                     .gracePeriod = kBackendGrace,
                                     .logDir = dir.string(),
                                     .ownProcessGroup = true});
  auto policy = scale::makePolicy(policyName, setup.settings);
  lag::GroupLagMonitor monitor(admin, groupId, {topic}, std::chrono::seconds(5));
  prometheus::Registry registry;

  std::ofstream decisions(dir / "decisions.jsonl");
  std::vector<report::ScaleEvent> events;
  std::optional<report::ScaleEvent> lastChange;
  std::string lastReason;
  std::optional<Clock::time_point> loadStart;
  const auto origin = Clock::now();
  auto onStep = [&](const scale::Step& step) {
    decisions << scale::toJson(step).dump() << "\n";
    lastReason = step.decision.reason;
    if (step.decision.replicas == step.observation.currentReplicas) return;
    const double t = loadStart ? secondsOf(origin + step.observation.at - *loadStart) : 0;
    report::ScaleEvent event{.t = std::max(0.0, t),
                             .from = step.observation.currentReplicas,
                             .to = step.decision.replicas,
                             .reason = step.decision.reason};
    lastChange = event;
    if (loadStart) {
      events.push_back(event);
      output.note(
          fmt::format("{} scale {} → {}: {}", clock(event.t), event.from, event.to, event.reason));
    }
  };
  scale::ControlLoop loop(monitor, topic, *policy, backend, registry, onStep);

  StatsTail stats(dir);
  std::vector<report::Reading> readings;
  std::vector<report::ReplicaSecond> sinceStep;
  ViewState view{.policy = policyName,
                 .run = index + 1,
                 .runs = options.policies.size(),
                 .topic = topic,
                 .load = describeProfile(options, *profile),
                 .objectiveMs = options.objectiveMs,
                 .duration = options.durationSeconds};
  scale::Millis nextStep{0};
  int32_t desired = 0;
  int64_t lastLag = 0;
  std::optional<orchestrate::Process> producer;
  double startEpoch = 0;

  // One tick: read the group, let the policy act when its interval is due, follow the replicas'
  // stats, record, redraw.
  const auto tick = [&](const std::string& phase) {
    const auto now = Clock::now();
    const auto at = std::chrono::duration_cast<scale::Millis>(now - origin);
    std::optional<lag::GroupLag> group;
    try {
      group = monitor.read(at);
    } catch (const std::exception& error) {
      // Before the load a fresh broker may still be electing the group's coordinator.
      spdlog::log(loadStart ? spdlog::level::warn : spdlog::level::info,
                  "reading the group's lag failed: {}", error.what());
    }
    for (const auto& line : stats.poll()) sinceStep.push_back(line);
    if (group && at >= nextStep) {
      const auto recent = combineLines(sinceStep);
      std::optional<double> p99;
      if (recent.count > 0) p99 = recent.p99Ms / 1000;
      try {
        desired = loop.step(at, *group, p99).decision.replicas;
      } catch (const std::exception& error) {
        spdlog::warn("scaling round failed: {}", error.what());
      }
      sinceStep.clear();
      nextStep = std::max(nextStep + policy->interval(), at);
    }
    const int32_t running = backend.reconcile();
    const double t = loadStart ? secondsOf(now - *loadStart) : 0;
    view.phase = phase;
    view.elapsed = t;
    view.targetRate = loadStart && t <= options.durationSeconds ? profile->rateAt(t) : 0;
    view.desired = desired;
    view.running = running;
    view.lastChange = lastChange;
    view.lastReason = lastReason;
    if (group) {
      int64_t logEnd = 0;
      view.partitionLag.clear();
      for (const auto& p : group->partitions) {
        logEnd += p.logEnd;
        view.partitionLag.push_back(p.lag);
      }
      view.lag = group->lag;
      lastLag = group->lag;
      view.members = static_cast<int32_t>(group->members);
      if (!group->topics.empty()) {
        view.produceRate = group->topics.front().produceRate;
        view.consumeRate = group->topics.front().consumeRate;
      }
      if (loadStart) {
        readings.push_back({.t = t,
                            .targetRate = view.targetRate,
                            .logEnd = logEnd,
                            .lag = group->lag,
                            .desired = desired,
                            .running = running,
                            .members = view.members});
      }
    }
    // Latency shown: the replicas' lines of the last two seconds.
    std::vector<report::ReplicaSecond> recent;
    const double nowEpoch = epochSeconds();
    for (const auto& lines : stats.all()) {
      for (auto it = lines.rbegin(); it != lines.rend() && it->time > nowEpoch - 2; ++it) {
        recent.push_back(*it);
      }
    }
    const auto latency = combineLines(recent);
    view.p50Ms = latency.count > 0 ? std::optional(latency.p50Ms) : std::nullopt;
    view.p99Ms = latency.count > 0 ? std::optional(latency.p99Ms) : std::nullopt;
    output.show(view);
    return group;
  };
  const auto sleepUntil = [&](Clock::time_point when) {
    while (Clock::now() < when && !stop.load()) std::this_thread::sleep_for(20ms);
  };

  RunResult result;
  // Warm-up: the first replica joins and has every partition before any load.
  {
    const auto limit = Clock::now() + kWarmUpLimit;
    auto next = Clock::now();
    while (!stop.load()) {
      const auto group = tick("starting: the first replica joins the group");
      if (group && group->members >= 1 &&
          std::ranges::all_of(group->partitions,
                              [](const lag::PartitionLag& p) { return !p.owner.empty(); })) {
        break;
      }
      if (Clock::now() >= limit) {
        throw std::runtime_error(fmt::format(
            "no replica joined group {} within {} s: see {}/replica-0.log", groupId,
            std::chrono::duration_cast<std::chrono::seconds>(kWarmUpLimit).count(), dir.string()));
      }
      next += kTick;
      sleepUntil(next);
    }
  }

  // The load: the producer runs for --duration along the profile.
  const std::string phaseDuring = "load";
  if (!stop.load()) {
    std::vector<std::string> produce{options.ebbBinary, "--log-level", "warn", "produce"};
    produce.insert(produce.end(), clientArgs.begin(), clientArgs.end());
    produce.insert(produce.end(), {"-t", topic, "--rate", number(options.rate), "--profile",
                                   options.profile, "--duration", number(options.durationSeconds),
                                   "--producer-id", producerId, "--keys", kKeys, "-o", "json"});
    producer.emplace(produce,
                     orchestrate::SpawnOptions{.stdoutPath = (dir / "producer.json").string(),
                                               .stderrPath = (dir / "producer.log").string(),
                                               .dieWithParent = true,
                                               .ownProcessGroup = true});
    loadStart = Clock::now();
    startEpoch = epochSeconds();
    output.note(fmt::format("run {} of {}: policy {}, load {} for {}", index + 1,
                            options.policies.size(), policyName, view.load,
                            clock(options.durationSeconds)));
    auto next = *loadStart;
    const auto end =
        *loadStart + std::chrono::milliseconds(std::llround(options.durationSeconds * 1000));
    while (!stop.load() && Clock::now() < end) {
      const double t = secondsOf(Clock::now() - *loadStart);
      std::string phase = phaseDuring;
      if (spike) {
        phase = t < spike->start ? "before the spike"
                : t < spike->end ? "spike"
                                 : "after the spike";
      }
      tick(phase);
      next += kTick;
      sleepUntil(std::min(next, end));
    }
  }
  result.interrupted = stop.load();

  // Wind down: the producer first (it has normally ended on its own), then let the replicas work
  // off the lag, then stop them (each drains, commits and leaves the group).
  std::optional<int> producerStatus;
  if (producer) {
    if (result.interrupted) producer->signal(SIGTERM);
    const auto limit = Clock::now() + kProducerEndWait;
    auto next = Clock::now();
    while (!(producerStatus = producer->wait(0ms))) {
      if (Clock::now() >= limit) {
        spdlog::warn("the producer did not end on time: stopping it");
        producerStatus = producer->stop(10s);
        break;
      }
      if (stop.load()) producer->signal(SIGTERM);
      tick("waiting for the producer to finish");
      next += kTick;
      while (Clock::now() < next && !producer->wait(0ms)) std::this_thread::sleep_for(20ms);
    }
    bool stopSeen = result.interrupted;
    auto drainEnd = Clock::now() + (result.interrupted ? kInterruptedDrainLimit : kDrainLimit);
    next = Clock::now();
    while (Clock::now() < drainEnd) {
      if (stop.load() && !stopSeen) {
        stopSeen = true;
        result.interrupted = true;
        drainEnd = std::min(drainEnd, Clock::now() + kInterruptedDrainLimit);
      }
      const auto group = tick("draining: the producer is done, the replicas catch up");
      if (group && group->lag == 0) break;
      next += kTick;
      while (Clock::now() < next) std::this_thread::sleep_for(20ms);
    }
  }
  result.interrupted = result.interrupted || stop.load();
  view.phase = "stopping the replicas (each drains and commits)";
  output.show(view);
  backend.stopAll();
  stats.poll();  // the replicas' last lines, written as they stopped

  // What the producer sent and what the replicas processed: the audit.
  report::RunFacts facts{.policy = policyName,
                         .settings = setup.settings,
                         .objectiveMs = options.objectiveMs,
                         .spike = spike,
                         .interrupted = result.interrupted,
                         .lagAtStop = lastLag};
  if (producer) {
    try {
      const auto summary = nlohmann::json::parse(readFile(dir / "producer.json"));
      facts.sent = summary.at("sent").get<uint64_t>();
      facts.acknowledged = summary.at("acknowledged").get<uint64_t>();
      facts.producerFailed = summary.at("failed").get<uint64_t>();
      verify::AuditVerifier verifier({{.producer = producerId, .count = facts.acknowledged}});
      for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() == ".audit") verifier.addFile(entry.path());
      }
      const auto audit = verifier.report();
      facts.verified = true;
      facts.processed = audit.lines();
      facts.lost = audit.lost();
      facts.duplicates = audit.duplicates();
      facts.orderViolations = audit.orderViolations();
      std::ofstream(dir / "verify.txt") << verify::toText(audit);
    } catch (const std::exception& error) {
      spdlog::error("cannot verify run {}: {} (producer {})", policyName, error.what(),
                    producerStatus ? fmt::format("exit status {}", *producerStatus)
                                   : std::string("still running"));
    }
  }
  if (!ownBroker) {
    try {
      admin.deleteTopic(topic);
    } catch (const std::exception& error) {
      spdlog::warn("could not delete topic {}: {}", topic, error.what());
    }
  }
  auto& run = result.report;
  run.samples = report::buildTimeline(readings, stats.all(), startEpoch);
  run.events = events;
  run.notes = setup.notes;
  run.summary = report::summarize(run.samples, run.events, facts);
  return result;
}

DemoOutcome Demo::run(const std::atomic<bool>& stop) {
  auto& o = impl_->options;
  DemoLog log(impl_->runDir / "demo.log", o.live);
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
  std::cout << fmt::format("[ebb demo] {} policy run(s) against {}; report in {}\n",
                           o.policies.size(), config.bootstrapServers, impl_->runDir.string())
            << std::flush;

  std::vector<report::RunReport> reports;
  outcome.verified = true;
  for (size_t i = 0; i < o.policies.size() && !stop.load(); ++i) {
    Output output(o.live);
    auto result = impl_->runOne(i, config, stop, output);
    output.finish();
    const auto& s = result.report.summary;
    output.print(fmt::format(
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

  report::ReportInput input{
      .title = fmt::format("ebb demo, {}", localTime("%Y-%m-%d %H:%M")),
      .setup = {{"load",
                 fmt::format("--profile {} --rate {} ({}) for {} s", o.profile, number(o.rate),
                             impl_->profile->describe(), number(o.durationSeconds))},
                {"topic",
                 fmt::format("{} partitions, keys {}, 100-byte messages", o.partitions, kKeys)},
                {"replicas", fmt::format("ebb consume --work {} (about {:.0f} msg/s each), "
                                         "local backend: one process each",
                                         o.work, replicaRate(o.work))},
                {"objective", fmt::format("p99 end to end ≤ {:g} ms", o.objectiveMs)},
                {"cluster", impl_->ownBroker ? "a local Kafka broker (tools/kafka/kafka.sh)"
                                             : o.client.bootstrapServers},
                {"policies", fmt::format("{}", fmt::join(o.policies, ", "))}},
      .runs = std::move(reports),
      .gnuplot = o.gnuplot};
  if (outcome.interrupted) {
    input.setup.emplace_back("note", "interrupted (Ctrl-C or SIGTERM): the runs end early");
  }
  input.files = {{"timeseries.csv", "every second of every run"},
                 {"summary.json", "the figures above, and every scale event"},
                 {"demo.log", "what the demo did"}};
  for (const auto& policy : o.policies) {
    if (!fs::exists(impl_->runDir / policy)) continue;
    input.files.emplace_back(policy + "/decisions.jsonl",
                             "every observation and decision of " + policy);
    input.files.emplace_back(policy + "/verify.txt", "the audit verification of " + policy);
  }
  const auto files = report::writeReport(impl_->runDir, input);

  std::vector<report::Summary> summaries = outcome.runs;
  const auto rows = report::summaryTable(summaries);
  size_t labelWidth = 0;
  for (const auto& row : rows) labelWidth = std::max(labelWidth, columns(row.label));
  std::string table = "\n";
  table += fmt::format("{:<{}}", "", labelWidth + 2);
  for (const auto& s : summaries) table += fmt::format("  {:>24}", s.facts.policy);
  table += "\n";
  for (const auto& row : rows) {
    table += row.label + std::string(labelWidth + 2 - columns(row.label), ' ');
    for (const auto& value : row.values) {
      table += std::string(2 + (columns(value) < 24 ? 24 - columns(value) : 0), ' ') + value;
    }
    table += "\n";
  }
  std::cout << table << fmt::format("\n[ebb demo] report: {}\n", files.html.string()) << std::flush;
  return outcome;
}

}  // namespace ebb::demo
