// `ebb verify`: what consumers processed (their --audit files) against what producers sent.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
#include "ebb/verify/audit.h"

namespace ebb::app {
namespace {

// Exit status when a message was lost or delivered out of order (the report is printed too).
constexpr int kVerifyFailed = 4;

struct VerifyFlags {
  std::vector<std::string> audits;
  std::vector<std::string> expectations;
  std::string output = "text";
};

const CLI::Validator kExpectation(
    [](const std::string& value) {
      try {
        verify::parseExpectation(value);
        return std::string();
      } catch (const std::invalid_argument& error) {
        return std::string(error.what());
      }
    },
    "PRODUCER=COUNT");

}  // namespace

void addVerifyCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<VerifyFlags>();
  auto* command = app.add_subcommand(
      "verify", "Check consumers' --audit files against what producers sent: loss, order");
  command
      ->add_option("--audit", flags->audits,
                   "Audit file(s) written by `ebb consume --audit` (repeatable)")
      ->required();
  command
      ->add_option("--expect", flags->expectations,
                   "PRODUCER=COUNT: the producer sent seq 0..COUNT-1 (repeatable)")
      ->required()
      ->check(kExpectation);
  command->add_option("-o,--output", flags->output, "Report as text or json")
      ->check(CLI::IsMember({"text", "json"}));

  command->callback([flags, &runner] {
    runner = [flags] {
      std::vector<verify::Expectation> expectations;
      for (const auto& value : flags->expectations) {
        expectations.push_back(verify::parseExpectation(value));
      }
      std::unique_ptr<verify::AuditVerifier> verifier;
      try {
        verifier = std::make_unique<verify::AuditVerifier>(expectations);
      } catch (const std::invalid_argument& error) {
        throw CLI::ValidationError("--expect", error.what());
      }
      for (const auto& path : flags->audits) verifier->addFile(path);
      const auto report = verifier->report();
      if (flags->output == "json") {
        std::cout << verify::toJson(report).dump(2) << "\n";
      } else {
        std::cout << verify::toText(report);
      }
      return report.ok() ? 0 : kVerifyFailed;
    };
  });
}

}  // namespace ebb::app
