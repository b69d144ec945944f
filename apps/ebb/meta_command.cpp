// `ebb meta`: the cluster as its Metadata answer describes it (what `kcat -L` and
// `kafka-cluster.sh cluster-id` show): cluster id, brokers, controller, topics and partitions.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client_options.h"
#include "commands.h"
#include "ebb/kafka/admin_client.h"
#include "output.h"

namespace ebb::app {
namespace {

struct MetaFlags {
  ClientOptions client;
  std::string topic;
  bool all = false;
  std::string output = "text";
  int timeoutSeconds = 10;
};

nlohmann::json toJson(kafka::ClusterMetadata metadata, bool showInternal) {
  std::ranges::sort(metadata.brokers, {}, &kafka::BrokerInfo::id);
  std::ranges::sort(metadata.topics, {}, &kafka::TopicInfo::name);
  auto brokers = nlohmann::json::array();
  for (const auto& broker : metadata.brokers) {
    brokers.push_back({{"id", broker.id},
                       {"host", broker.host},
                       {"port", broker.port},
                       {"controller", broker.id == metadata.controllerId}});
  }
  auto topics = nlohmann::json::array();
  int hidden = 0;
  for (auto& topic : metadata.topics) {
    if (topic.internal && !showInternal) {
      ++hidden;
      continue;
    }
    std::ranges::sort(topic.partitions, {}, &kafka::PartitionInfo::id);
    auto partitions = nlohmann::json::array();
    for (const auto& partition : topic.partitions) {
      partitions.push_back({{"partition", partition.id},
                            {"leader", partition.leader},
                            {"replicas", partition.replicas},
                            {"isr", partition.inSyncReplicas},
                            {"under_replicated", partition.underReplicated()}});
    }
    topics.push_back(
        {{"name", topic.name}, {"internal", topic.internal}, {"partitions", partitions}});
  }
  return {{"cluster_id", metadata.clusterId},
          {"controller_id", metadata.controllerId},
          {"brokers", brokers},
          {"topics", topics},
          {"hidden_internal_topics", hidden}};
}

std::string joinIds(const nlohmann::json& ids) {
  std::string joined;
  for (const auto& id : ids) joined += (joined.empty() ? "" : ",") + std::to_string(id.get<int>());
  return joined;
}

void printText(const nlohmann::json& meta) {
  std::cout << fmt::format("cluster id  {}\ncontroller  {}\n\n",
                           meta["cluster_id"].get<std::string>(), meta["controller_id"].get<int>());
  std::vector<Row> brokers;
  for (const auto& broker : meta["brokers"]) {
    brokers.push_back(
        {std::to_string(broker["id"].get<int>()),
         fmt::format("{}:{}", broker["host"].get<std::string>(), broker["port"].get<int>()),
         broker["controller"].get<bool>() ? "controller" : ""});
  }
  printTable({"BROKER", "ADDRESS", "ROLE"}, brokers);

  std::vector<Row> partitions;
  int underReplicated = 0;
  for (const auto& topic : meta["topics"]) {
    for (const auto& partition : topic["partitions"]) {
      const int leader = partition["leader"].get<int>();
      const bool under = partition["under_replicated"].get<bool>();
      underReplicated += under ? 1 : 0;
      partitions.push_back(
          {topic["name"].get<std::string>(), std::to_string(partition["partition"].get<int>()),
           leader >= 0 ? std::to_string(leader) : "none", joinIds(partition["replicas"]),
           joinIds(partition["isr"]), under ? "under-replicated" : ""});
    }
  }
  std::cout << "\n";
  if (!partitions.empty()) {
    printTable({"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "STATUS"}, partitions);
    std::cout << "\n";
  }
  std::cout << fmt::format("{} topic(s), {} partition(s), {} under-replicated",
                           meta["topics"].size(), partitions.size(), underReplicated);
  if (const int hidden = meta["hidden_internal_topics"].get<int>(); hidden > 0) {
    std::cout << fmt::format("; {} internal topic(s) hidden (--all shows them)", hidden);
  }
  std::cout << "\n";
}

}  // namespace

void addMetaCommand(CLI::App& app, Runner& runner) {
  auto flags = std::make_shared<MetaFlags>();
  auto* command = app.add_subcommand(
      "meta",
      "Cluster id, brokers, controller, topics with leaders, replicas and in-sync replicas");
  flags->client.addTo(*command);
  command->add_option("-t,--topic", flags->topic,
                      "Only this topic (an error if it does not exist)");
  command->add_flag("-a,--all", flags->all,
                    "Also list Kafka's internal topics (__consumer_offsets)");
  command->add_option("--timeout", flags->timeoutSeconds, "Seconds to wait for the cluster")
      ->check(CLI::Range(1, 3'600));
  command->add_option("-o,--output", flags->output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  addEnvironmentNames(*command);

  command->callback([flags, &runner] {
    runner = [flags] {
      const std::chrono::seconds timeout(flags->timeoutSeconds);
      auto config = flags->client.toConfig("ebb-meta");
      config.socketTimeout = timeout;
      kafka::AdminClient admin(config, timeout);
      // A topic asked for by name is shown even when it is an internal one.
      const auto meta = toJson(admin.metadata(flags->topic), flags->all || !flags->topic.empty());
      printSummary(flags->output, meta, printText);
      return 0;
    };
  });
}

}  // namespace ebb::app
