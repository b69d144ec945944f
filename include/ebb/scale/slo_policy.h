// slo: ebb's own scaling policy. It learns the arrival rate (Holt's double exponential smoothing)
// and what one replica consumes (only while replicas are saturated) from offsets alone, sizes the
// group in one step to serve the arrivals with headroom and drain the backlog, weighs the pause a
// rebalance costs (learnt from measured handoffs) against what the change gains, scales in slowly
// and only when the handoff fits the objective, ignores stuck partitions and never runs more
// replicas than partitions. Pure: time comes in with each observation.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ebb/scale/policy.h"

namespace ebb::scale {

struct SloConfig {
  Millis objective{500};  // p99 end-to-end latency to keep
  Millis interval{1000};  // how often to observe and decide
  int32_t minReplicas = 1;
  int32_t maxReplicas = 0;  // 0: the partition count (the cap in any case)
  // Messages/s one replica consumes, used until the first saturated interval measures it.
  double serviceRate = 1000;
  double smoothing = 0.7;         // Holt's level weight for the arrival rate, (0, 1]
  double trendSmoothing = 0.2;    // Holt's trend weight, [0, 1]
  double serviceSmoothing = 0.3;  // weight of a new service-rate sample, (0, 1]
  // Plan as if a replica delivered serviceRate / (1 + headroom): room for bursts and for the
  // queueing delay that grows fast near full utilisation.
  double headroom = 0.2;
  Millis drain{10'000};    // drain the backlog (and what a rebalance adds to it) within this
  Millis horizon{30'000};  // how far ahead a change's gain and cost are weighed
  // Consumption stops this long for every membership change: the prior, until the first measured
  // handoff (Observation::handoffSeconds) replaces it.
  Millis rebalancePause{3000};
  double handoffSmoothing = 0.5;  // weight of a new handoff sample after the first, (0, 1]
  // Scale in only to the largest count needed over this window, and only when it removes at
  // least scaleInHysteresis of the replicas (and at least one).
  Millis scaleInDelay{60'000};
  double scaleInHysteresis = 0.2;
  // A partition whose committed offset has not moved for this long while it has lag and other
  // partitions' offsets move is stuck: its lag is ignored (no replica count fixes it).
  Millis stuckAfter{30'000};
  // How often consumers commit (ebb consume auto-commits every 1 s; Kafka's default is 5 s). Lag
  // includes up to this much of processed, uncommitted work; 0: commits as processed.
  Millis commitInterval{1000};

  // Throws std::invalid_argument naming the setting and the accepted range.
  void validate() const;
  // Keys: objective, interval, min-replicas, max-replicas, service-rate, smoothing,
  // trend-smoothing, service-smoothing, headroom, drain, horizon, rebalance-pause,
  // handoff-smoothing, scale-in-delay, scale-in-hysteresis, stuck-after, commit-interval, read by
  // PolicySettings (durations "500ms", "1.5s", "5m", "1h", a bare number is seconds). Unknown keys
  // and bad values throw std::invalid_argument naming the key and what is accepted. The result is
  // validated.
  static SloConfig fromSettings(const std::map<std::string, std::string>& settings);
  static const std::vector<std::string_view>& settingKeys();
};

// What the policy believes after its last observation (for tests, metrics and the reason).
struct SloEstimate {
  double arrivalRate = 0;   // Holt level, messages/s over all partitions
  double arrivalTrend = 0;  // Holt trend, messages/s per second
  double arrivalNoise = 0;  // mean absolute miss of the one-step forecast, messages/s
  double serviceRate = 0;   // per replica, messages/s
  bool serviceRateLearnt = false;
  // What a membership change stops the moved partitions for: rebalance-pause until the first
  // measured handoff, then smoothed over the samples.
  double handoffSeconds = 0;
  bool handoffLearnt = false;
  // The same for scale-ins alone (a leaving member's partitions move in about one heartbeat,
  // while a scale-out also waits for new members to join): what the scale-in gate weighs.
  double scaleInHandoffSeconds = 0;
  bool scaleInHandoffLearnt = false;
  int64_t backlog = 0;                   // lag of the partitions that are not stuck
  double uncommitted = 0;                // of it, processed but not committed yet (estimated)
  std::vector<int32_t> stuckPartitions;  // ascending
};

// The fluid model slo plans with. A group with `backlog` messages waiting, arrivals at
// `arrivalRate` and consumption capacity `capacity` (both messages/s) first stops consuming for
// `pauseSeconds`; a message arriving at t waits the remaining pause plus backlog(t) / capacity.
struct Forecast {
  double violationSeconds = 0;  // within the horizon, time during which that wait > objective
  double backlogAtHorizon = 0;
};
Forecast forecast(double backlog, double arrivalRate, double capacity, double pauseSeconds,
                  double objectiveSeconds, double horizonSeconds);

// What `replicas` consume per second when `partitions` partitions are spread over them like a
// group assignor does and load is even: the busiest replica holds ceil(partitions / replicas)
// partitions and limits each to perReplicaRate / that; `healthy` of the partitions take part. A
// share group past its partition count counts whole multiples of it: floor(replicas / partitions)
// members per partition.
double groupCapacity(int32_t replicas, int32_t partitions, int32_t healthy, double perReplicaRate,
                     bool shareGroup = false);

class SloPolicy final : public Policy {
 public:
  explicit SloPolicy(SloConfig config);  // validates
  std::string_view name() const override { return "slo"; }
  Millis interval() const override { return config_.interval; }
  Decision decide(const Observation& observation) override;

  const SloConfig& config() const { return config_; }
  const SloEstimate& estimate() const { return estimate_; }

 private:
  struct PartitionHistory {
    int64_t logEnd = 0;
    int64_t committed = 0;  // effective: the log start when the group has none
    Millis movedAt{0};      // last time the committed offset advanced or the lag was zero
    Millis advancedAt{0};   // last time the committed offset advanced
  };
  struct Recommendation {
    Millis at;
    int32_t replicas;
  };

  struct Window {  // where the current service-rate sample started
    Millis at;
    std::vector<int64_t> committed;
    std::vector<int64_t> lags;
  };
  // Offsets per partition since the last observation.
  struct Offsets {
    std::vector<int64_t> lags;
    std::vector<int64_t> committed;  // effective: the log start when the group has none
    int64_t produced = 0;            // over all partitions
  };
  // What estimation found in one observation: the input of planning.
  struct Reading {
    Millis now{0};
    int32_t current = 0;  // replicas running
    int32_t partitions = 0;
    int32_t healthy = 0;  // partitions not stuck
    int32_t lower = 0;    // the bounds, within the partition count
    int32_t upper = 0;
    double arrivalSample = 0;
    std::string stuckNote;
    std::optional<double> p99Seconds;
  };
  // The figures a decision is made from.
  struct Plan {
    double rateNow = 0;    // arrivals planned for, all partitions, before the trend
    double rise = 0;       // what the trend adds to it
    double arrivals = 0;   // planned on the healthy partitions
    double backlog = 0;    // the lag less its uncommitted share
    double pause = 0;      // what a change stops consumption for (the handoff estimate)
    double pauseLeft = 0;  // of a change under way
    double capacityNow = 0;
    int32_t enough = 0;   // the size that copes as is
    int32_t needed = 0;   // the size to change to (drains its own pause too)
    int32_t largest = 0;  // the most needed over the scale-in window, and when
    Millis largestAt{0};
    bool settled = false;  // the window's largest not falling since the last decision
    std::string status;
    std::string capacityText;
  };

  Decision baseline(const Observation& observation, int32_t lower, int32_t upper);

  // Estimation: offsets, stuck partitions, arrival and service rates, handoff cost.
  Reading read(const Observation& observation, int32_t lower, int32_t upper);
  Offsets readOffsets(const Observation& observation);
  std::vector<bool> findStuck(const Observation& observation, const Offsets& offsets,
                              Reading& reading);
  void learnArrivalRate(double sample, double dt);
  void learnHandoff(std::optional<double> sample);
  void noteChange(Millis at);
  void startWindow(Millis at, const std::vector<int64_t>& committed,
                   const std::vector<int64_t>& lags);
  void learnServiceRate(Millis now, int32_t replicas, const std::vector<int64_t>& committed,
                        const std::vector<int64_t>& lags, const std::vector<bool>& stuck);
  Millis handoff() const;           // the pause a change costs, as estimated now
  std::string handoffText() const;  // "handoff 400 ms measured", "rebalance pause 3 s assumed"

  // Planning: sizing, scale-up, scale-in.
  Plan plan(const Reading& reading);
  void recommend(const Reading& reading, Plan& plan);
  std::string describe(const Reading& reading, const Plan& plan) const;
  Decision choose(const Reading& reading, const Plan& plan);
  Decision scaleUp(const Reading& reading, const Plan& plan);
  Decision scaleIn(const Reading& reading, const Plan& plan);
  Decision answer(const Reading& reading, int32_t replicas, std::string reason);
  int32_t size(double arrivalRate, double backlog, int32_t partitions, int32_t healthy,
               int32_t lower, int32_t upper) const;

  SloConfig config_;
  SloEstimate estimate_;
  std::vector<PartitionHistory> history_;  // index = position in the observation
  std::optional<Millis> previousAt_;
  std::optional<Millis> startedAt_;
  std::optional<Millis> lastChangeAt_;  // our last change, or the last change we observed
  Millis learnAfter_{Millis::min()};    // no service-rate samples before (rebalance under way)
  std::optional<Window> window_;
  std::string_view serviceRateNote_ = "guessed";  // or "at least" (a lower bound), "learnt"
  int32_t previousReplicas_ = -1;
  bool shareGroup_ = false;  // of the last observation
  bool levelStarted_ = false;
  std::optional<int32_t> previousLargest_;      // the scale-in window's largest count last time
  std::deque<Recommendation> recommendations_;  // within the scale-in window
  // Which way our last change went, to file the handoff measured after it.
  enum class Direction { kNone, kOut, kIn };
  Direction lastDirection_ = Direction::kNone;
};

}  // namespace ebb::scale
