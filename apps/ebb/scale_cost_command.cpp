// `ebb scale-cost`: what each scale event of a run cost (excess p99, partition gaps, decision to
// capacity), from `ebb scale --decisions` and the replicas' --audit and --stats files.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "ebb/report/scale_cost.h"

namespace ebb::app {
namespace {

struct ScaleCostFlags {
  std::string decisions;
  std::string replicas;
  double steadySeconds = 10;
  double afterSeconds = 15;
  std::string output = "text";
};

}  // namespace

void addScaleCostCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<ScaleCostFlags>();
  auto* command = app.add_subcommand(
      "scale-cost", "What each scale event cost: excess p99, partition gaps, decision to capacity");
  command->add_option("--decisions", flags->decisions, "The run's `ebb scale --decisions` file")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("--replicas", flags->replicas,
                   "Directory of the replicas' NAME.audit and NAME.stats[.jsonl] files")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--steady", flags->steadySeconds, "Seconds before an event: steady p99")
      ->check(CLI::Range(1.0, 3600.0));
  command->add_option("--after", flags->afterSeconds, "Seconds after an event: its cost")
      ->check(CLI::Range(1.0, 3600.0));
  command->add_option("-o,--output", flags->output, "Report as text or json")
      ->check(CLI::IsMember({"text", "json"}));
  command->callback([flags, &runner] {
    runner = [flags] {
      const auto decisions = report::readDecisions(flags->decisions);
      const auto replicas = report::readReplicaTraces(flags->replicas);
      if (replicas.empty()) {
        throw CLI::ValidationError("--replicas", "no NAME.audit files in " + flags->replicas);
      }
      const auto summary = report::measureScaleCosts(
          decisions, replicas,
          {.steadySeconds = flags->steadySeconds, .afterSeconds = flags->afterSeconds});
      if (flags->output == "json") {
        std::cout << report::toJson(summary).dump(2) << "\n";
      } else {
        std::cout << report::toText(summary);
      }
      return 0;
    };
  });
}

}  // namespace ebb::app
