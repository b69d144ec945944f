// `ebb demo`: the elastic loop end to end on real processes. A broker (started with
// tools/kafka/kafka.sh, or an existing cluster), a topic, a producer following a load profile,
// and the control loop running `ebb consume` replicas; shown live, then verified (nothing lost)
// and written up as an HTML report with charts. With several policies, one run each, compared.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ebb/demo/demo_view.h"
#include "ebb/kafka/client_config.h"
#include "ebb/report/summary.h"

namespace ebb::demo {

struct DemoOptions {
  // Bootstrap servers empty: start a local broker with `kafkaScript` and stop it at the end.
  kafka::ClientConfig client;
  std::vector<std::string> policies{"slo"};
  // The group type of each run, beside `policies` (same length; empty: every run "consumer").
  // "share": a share group (KIP-932), its replicas not capped at the partition count.
  std::vector<std::string> groupTypes;
  // --set [POLICY.]KEY=VALUE: over the demo's own settings for each policy (see policySettings).
  std::vector<std::string> settings;
  double durationSeconds = 240;
  std::string profile = "spike:60:90:8";
  double rate = 500;  // messages/s, the profile's base
  int32_t partitions = 12;
  double objectiveMs = 500;
  std::string work = "sleep:1ms";  // each replica's simulated work per message
  // Standby replicas kept ready (ebb scale --warm): scale-out activates them at once.
  int32_t warm = 4;
  std::filesystem::path outDir = "out";
  std::string ebbBinary;    // runs the replicas and the producer
  std::string kafkaScript;  // tools/kafka/kafka.sh
  std::string gnuplot = "gnuplot";
};

// A run's name (its folder, topic and label in the report): the policy, "-share" for share groups.
std::string runName(const DemoOptions& options, size_t index);

// What the demo gives a policy unless --set says otherwise, with the reasons for the report.
struct PolicySettings {
  std::map<std::string, std::string> settings;
  std::vector<std::string> notes;
};

// Messages/s one replica clears with `work` (WorkSpec grammar): one message per work time plus
// 0.1 ms of overhead, which is what sleep:1ms measures (about 910/s).
double replicaRate(const std::string& work);

// The demo's settings for `policy` with the --set values for it on top (a KEY=VALUE goes to every
// policy, POLICY.KEY=VALUE to that one). Throws std::invalid_argument for a malformed --set or one
// that names a policy not run.
PolicySettings policySettings(const std::string& policy, const DemoOptions& options);

struct DemoOutcome {
  std::filesystem::path reportDir;
  std::filesystem::path reportFile;  // report.html; empty when no run got far enough for one
  std::vector<report::Summary> runs;
  bool interrupted = false;
  bool verified = false;  // every run's audit files were checked
  uint64_t lost = 0;      // over all runs
};

class Demo {
 public:
  // Checks everything that can be checked before anything starts: the policies and their
  // settings, the profile, gnuplot, the broker script or the cluster behind -b, and the output
  // directory (created here). Throws std::invalid_argument for a bad option and
  // std::runtime_error for what the machine lacks, each saying what to fix.
  explicit Demo(DemoOptions options);
  ~Demo();
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  // Where the report goes (created by the constructor): DIR/demo.log can be opened before run().
  const std::filesystem::path& reportDir() const;

  // Runs every policy in turn and writes the report. When `stop` is set (SIGINT, SIGTERM) the
  // current run winds down early (producer first, then the replicas drain and commit), later
  // runs are skipped, and the report covers what ran. Each run is shown through `view`, which
  // finish() ends before the run's one-line summary is printed.
  DemoOutcome run(const std::atomic<bool>& stop, DemoView& view);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ebb::demo
