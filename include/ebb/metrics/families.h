// One-line registration of a labelled counter or gauge in a prometheus-cpp registry.
#pragma once

#include <map>
#include <string>

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace ebb::metrics {

using Labels = std::map<std::string, std::string>;

prometheus::Counter& counter(prometheus::Registry& registry, const std::string& name,
                             const std::string& help, const Labels& labels);
prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help, const Labels& labels);

}  // namespace ebb::metrics
