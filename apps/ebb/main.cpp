// ebb: low-latency load balancing with elastic consumers on Apache Kafka.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "commands.h"
#include "ebb/kafka/client_config.h"
#include "ebb/kafka/error.h"
#include "ebb/log/log.h"

int main(int argc, char** argv) {
  CLI::App app{"ebb: low-latency load balancing with elastic consumers on Apache Kafka", "ebb"};
  app.require_subcommand(1);
  app.set_version_flag(
      "--version", [] { return "ebb 0.1.0 (librdkafka " + ebb::kafka::libraryVersion() + ")"; });
  std::string logLevel = "info";
  std::string logFormat = "text";
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error or off")
      ->envname("EBB_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", logFormat, "text (people) or json (log collectors)")
      ->envname("EBB_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));

  ebb::app::Runner runner;
  ebb::app::addProduceCommand(app, runner);
  ebb::app::addConsumeCommand(app, runner);
  ebb::app::addRoundtripCommand(app, runner);
  ebb::app::addVerifyCommand(app, runner);
  ebb::app::addMetaCommand(app, runner);
  ebb::app::addLagCommand(app, runner);
  ebb::app::addScaleCommand(app, runner);
  ebb::app::addScaleCostCommand(app, runner);
  ebb::app::addDemoCommand(app, runner);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  ebb::log::configure(logLevel, ebb::log::parseFormat(logFormat));
  try {
    return runner();
  } catch (const CLI::Error& error) {
    return app.exit(error);
  } catch (const ebb::kafka::KafkaError& error) {
    spdlog::error("{}", error.what());
    return 1;
  } catch (const std::exception& error) {
    spdlog::error("{}", error.what());
    return 1;
  }
}
