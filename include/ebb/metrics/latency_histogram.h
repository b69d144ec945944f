// End-to-end and acknowledgement latencies as Prometheus histograms (seconds), which Prometheus
// can sum across replicas and window with rate(): histogram_quantile(0.99, sum by (le)
// (rate(ebb_consumer_end_to_end_latency_seconds_bucket[1m]))). Values are counted per batch in a
// LatencyHistogram::Batch without locks and added to the shared histogram in one call, so
// prometheus-cpp's mutex is taken once per batch, never per message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ebb/metrics/families.h"

namespace prometheus {
class Histogram;
class Registry;
}  // namespace prometheus

namespace ebb::metrics {

// Bucket bounds in seconds: 0.5 ms to 60 s, about three per decade.
const std::vector<double>& latencyBuckets();

class LatencyHistogram {
 public:
  // Values not yet added to the histogram; one per recording thread.
  class Batch {
   public:
    void add(int64_t nanos);
    bool empty() const { return count_ == 0; }

   private:
    friend class LatencyHistogram;
    std::vector<double> counts_ = std::vector<double>(latencyBuckets().size() + 1, 0.0);
    double sumSeconds_ = 0;
    uint64_t count_ = 0;
  };

  LatencyHistogram(prometheus::Registry& registry, const std::string& name, const std::string& help,
                   const Labels& labels);
  // Adds the batch's values and empties it.
  void publish(Batch& batch);

 private:
  prometheus::Histogram* histogram_;
};

}  // namespace ebb::metrics
