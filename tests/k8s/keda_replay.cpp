// ebb's keda policy replayed over lag recorded once a second beside a real KEDA + HPA
// (tests/k8s/lib.sh): the policy keeps its own replica count, as the HPA keeps the Deployment's,
// and decides at the HPA's sync times, taken from the real HPA's first scale event.
//
//   ebb_keda_replay RECORDED.jsonl FIRST_SYNC_EPOCH_SECONDS KEY=VALUE...
//
// RECORDED.jsonl: `ebb scale --decisions` lines of a recorder (observation.partitions, time,
// observation.replicas); KEY=VALUE: the keda policy's settings (the ScaledObject's). Prints one
// JSON line per sync: {"time": epoch seconds, "replicas": N, "reason": "..."}.
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ebb/scale/policy_factory.h"

namespace {

struct Recorded {
  double time = 0;
  ebb::scale::Observation observation;
};

std::vector<Recorded> readRecorded(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Recorded> all;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto step = nlohmann::json::parse(line);
    if (!step.contains("time")) continue;
    Recorded recorded{.time = step["time"].get<double>()};
    recorded.observation.currentReplicas = step["observation"]["replicas"].get<int32_t>();
    for (const auto& p : step["observation"]["partitions"]) {
      recorded.observation.partitions.push_back({.partition = p[0].get<int32_t>(),
                                                 .logStart = p[1].get<int64_t>(),
                                                 .logEnd = p[2].get<int64_t>(),
                                                 .committed = p[3].get<int64_t>()});
    }
    all.push_back(std::move(recorded));
  }
  if (all.empty()) throw std::runtime_error("no recorded observations in " + path);
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: ebb_keda_replay RECORDED.jsonl FIRST_SYNC_EPOCH_SECONDS KEY=VALUE...\n";
    return 2;
  }
  try {
    const auto recorded = readRecorded(argv[1]);
    const double firstSync = std::stod(argv[2]);
    auto policy = ebb::scale::makePolicy(
        "keda", ebb::scale::parseSettings(std::vector<std::string>(argv + 3, argv + argc)));
    const double period = std::chrono::duration<double>(policy->interval()).count();
    const double origin = recorded.front().time;
    // The sync times the real HPA had: firstSync plus or minus whole periods.
    double tick = firstSync - std::floor((firstSync - origin) / period) * period;
    int32_t replicas = recorded.front().observation.currentReplicas;
    size_t next = 0;
    for (; tick <= recorded.back().time; tick += period) {
      while (next + 1 < recorded.size() && recorded[next + 1].time <= tick) ++next;
      auto observation = recorded[next].observation;
      observation.at = ebb::scale::Millis(std::llround((tick - origin) * 1000));
      observation.currentReplicas = replicas;
      const auto decision = policy->decide(observation);
      replicas = decision.replicas;
      std::cout << nlohmann::json{{"time", tick},
                                  {"replicas", decision.replicas},
                                  {"reason", decision.reason}}
                       .dump()
                << "\n";
    }
  } catch (const std::exception& error) {
    std::cerr << "ebb_keda_replay: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
