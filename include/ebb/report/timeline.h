// A run of the elastic loop, second by second: the group's readings (rates, lag, replicas) joined
// with what every replica says it processed (`ebb consume --stats`). Pure: the demo feeds it, the
// report draws it, the tests build small ones by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ebb::report {

// One line of `ebb consume --stats`: what a replica processed since its previous line.
struct ReplicaSecond {
  double time = 0;        // epoch seconds at the end of the interval
  uint64_t consumed = 0;  // messages processed in it, malformed ones included
  uint64_t malformed = 0;
  double p50Ms = 0;  // end-to-end latency of those messages
  double p99Ms = 0;
  double maxMs = 0;
};

// Nothing when the line is not such a JSON object (a line cut short by a crash, say).
std::optional<ReplicaSecond> parseStatsLine(std::string_view line);

// The latency of a group of messages as far as it is known: how many, and values that at most
// 50 %, 1 % and none of them exceed.
struct LatencyPart {
  uint64_t count = 0;
  double p50Ms = 0;
  double p99Ms = 0;
  double maxMs = 0;
};

// The smallest value that at most (1 - q) of all the parts' messages can exceed, knowing only each
// part's count, p50, p99 and max: an upper bound of the q-quantile of the union (exact for one
// part, at most the largest part's quantile, and a part with a few slow messages among many fast
// ones in the others does not pull it up). q is 0.5 or 0.99. Nothing when there are no messages.
std::optional<double> quantileUpperBound(std::span<const LatencyPart> parts, double q);

// Parts merged: counts added, p50 and p99 as quantileUpperBound, the largest max. The result is a
// part again (its bounds hold), so it can be merged further. count 0 when there is nothing.
LatencyPart combine(std::span<const LatencyPart> parts);

// One reading of the group, made once a second by the demo.
struct Reading {
  double t = 0;           // seconds since the run started (monotonic)
  double targetRate = 0;  // what the load profile asks for at t, messages/s
  int64_t logEnd = 0;     // sum of the topic's log-end offsets
  int64_t lag = 0;        // messages, all partitions
  int32_t desired = 0;    // the policy's last answer
  int32_t running = 0;    // replica processes running (not stopping)
  int32_t members = 0;    // members of the group
};

// One second of the timeline: the interval (previous reading, this reading].
struct Sample {
  double t = 0;  // the reading's time: the end of the interval
  double targetRate = 0;
  double produceRate = 0;  // growth of the log-end offsets over the interval
  double consumeRate = 0;  // what the replicas processed in the interval (see buildTimeline)
  int64_t lag = 0;
  int32_t desired = 0;
  int32_t running = 0;
  int32_t members = 0;
  LatencyPart latency;  // replicas' stats lines that ended in the interval, combined
};

// `readings` in time order; `replicas` one list of stats lines per replica, each in time order;
// `startEpoch` the epoch second of t = 0. A stats line covers the time since the replica's
// previous line (its first, one second); its messages are spread evenly over that time, so the
// consume rate does not jump when a replica's lines drift against the readings. Its latency
// counts in the interval in which it ended. The first sample has no rates (nothing before it).
std::vector<Sample> buildTimeline(std::span<const Reading> readings,
                                  std::span<const std::vector<ReplicaSecond>> replicas,
                                  double startEpoch);

// The CSV form: a header, then one row per sample. `policy` is the first column, so the rows of
// several runs can share a file. Latency fields are empty for a second without messages.
//   policy,t_s,target_rate,produce_rate,consume_rate,lag,replicas_desired,replicas_running,
//   group_members,consumed,p50_ms,p99_ms,max_ms
std::string csvHeader();
std::string toCsv(std::string_view policy, std::span<const Sample> samples);

}  // namespace ebb::report
