// Each subcommand registers its flags and the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace ebb::app {

// What main() runs after parsing: the chosen subcommand's body, returning the exit status.
using Runner = std::function<int()>;

void addRoundtripCommand(CLI::App& app, Runner& runner);
void addProduceCommand(CLI::App& app, Runner& runner);
void addConsumeCommand(CLI::App& app, Runner& runner);
void addVerifyCommand(CLI::App& app, Runner& runner);
void addMetaCommand(CLI::App& app, Runner& runner);
void addLagCommand(CLI::App& app, Runner& runner);
void addScaleCommand(CLI::App& app, Runner& runner);
void addScaleCostCommand(CLI::App& app, Runner& runner);
void addDemoCommand(CLI::App& app, Runner& runner);

}  // namespace ebb::app
