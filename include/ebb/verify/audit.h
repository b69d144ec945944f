// Checks what consumers processed (their `ebb consume --audit` files) against what producers sent
// (seq 0..COUNT-1 per producer id): loss, duplicates, unexpected messages and per-key reordering.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ebb::verify {

// One audit line: `partition<TAB>offset<TAB>key<TAB>producer<TAB>seq<TAB>time[<TAB>deliveries]`,
// time being when the message was processed (epoch microseconds; files written before it had no
// time field) and deliveries how many times a share group delivered the record (share groups
// only).
struct AuditRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;       // "-": the message had no key
  std::string_view producer;  // "-": no ebb envelope (a foreign message; seq is "-" too)
  uint64_t seq = 0;
  int64_t timeMicros = -1;  // -1: the line has no time field
  int deliveryCount = 0;    // 0: not a share group's record

  bool keyed() const { return key != "-"; }
  bool foreign() const { return producer == "-"; }
};

// `line` without its '\n'; nothing when it is not five to seven tab-separated fields of the right
// kinds.
std::optional<AuditRecord> parseAuditLine(std::string_view line);

struct Expectation {
  std::string producer;
  uint64_t count = 0;  // the producer sent seq 0..count-1
};

// The largest COUNT accepted: the verifier keeps one bit per expected message (512 MiB here).
inline constexpr uint64_t kMaxExpectedCount = uint64_t{1} << 32;

// "PRODUCER=COUNT" (split at the last '='); throws std::invalid_argument naming the value.
Expectation parseExpectation(std::string_view text);

struct ProducerReport {
  std::string producer;
  uint64_t expected = 0;
  uint64_t received = 0;  // distinct seqs below `expected`
  uint64_t lost = 0;
  std::vector<uint64_t> firstLost;  // the lowest missing seqs, at most kMaxListed
  uint64_t duplicates = 0;          // deliveries beyond the first of a seq
  uint64_t unexpected = 0;          // deliveries with seq >= expected
  uint64_t orderViolations = 0;
};

// A keyed message delivered for the first time after a higher seq of its (producer, key) in the
// same file.
struct OrderViolation {
  std::string file;
  uint64_t line = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string producer;
  std::string key;
  uint64_t seq = 0;
  uint64_t after = 0;  // the highest seq of that key seen earlier in the file
};

struct FileReport {
  std::string name;
  uint64_t lines = 0;  // counted ones, without a truncated last line
  uint64_t foreign = 0;
  bool truncated = false;     // its last line was cut short and not counted
  uint64_t shareRecords = 0;  // lines of a share group member (with a delivery count)
};

struct VerifyReport {
  static constexpr size_t kMaxListed = 10;

  std::vector<ProducerReport> producers;                // the expected ones, in the given order
  std::map<std::string, uint64_t> unexpectedProducers;  // deliveries by producers not expected
  std::vector<OrderViolation> firstViolations;          // at most kMaxListed
  std::vector<FileReport> files;

  uint64_t lines() const;
  uint64_t foreign() const;
  uint64_t truncatedLines() const;
  uint64_t lost() const;
  uint64_t duplicates() const;
  uint64_t unexpected() const;  // both kinds
  uint64_t orderViolations() const;
  uint64_t shareRecords() const;
  // A share group keeps no order per key: for its audits order is reported, not required.
  bool orderInformational() const { return shareRecords() > 0; }
  // At-least-once holds: nothing lost, nothing delivered first out of order (duplicates allowed;
  // order only where the group kept it).
  bool ok() const { return lost() == 0 && (orderViolations() == 0 || orderInformational()); }
};

nlohmann::json toJson(const VerifyReport& report);
// A verdict line, then one line per producer, unexpected producer and listed violation.
std::string toText(const VerifyReport& report);

// Streams audit files through per-producer bitmaps: memory is one bit per expected message plus one
// entry per (producer, key) of the current file, whatever the number of lines.
//
// Files are taken one after another. A message counts as a replay (a duplicate) when any earlier
// line, of any file, delivered it; otherwise, if its key already had a higher seq in this file, it
// is an order violation. Malformed lines throw std::runtime_error naming file and line, except the
// last line of a file, which a consumer killed mid-write may have cut short: it is not counted and
// shows as truncated. A last line without its '\n' is such a line even when it parses, since its
// seq may be cut short ("42" written as "4").
class AuditVerifier {
 public:
  // Throws std::invalid_argument when a producer is expected twice.
  explicit AuditVerifier(const std::vector<Expectation>& expectations);

  void beginFile(std::string name);
  // `line` without its '\n'; `terminated` false for a final line that had none.
  void addLine(std::string_view line, bool terminated = true);
  void endFile();

  // beginFile, every line of `in`, endFile. Throws std::runtime_error on a read error.
  void addStream(std::string name, std::istream& in);
  // Throws std::runtime_error naming the path when it cannot be opened or read.
  void addFile(const std::filesystem::path& path);

  VerifyReport report() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  template <typename T>
  using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

  struct Producer {
    std::string name;
    uint64_t expected = 0;
    std::vector<bool> seen;  // by seq
    uint64_t received = 0;
    uint64_t duplicates = 0;
    uint64_t unexpected = 0;
    uint64_t orderViolations = 0;
    StringMap<uint64_t> highestSeqByKey;  // in the current file
  };
  struct PendingLine {
    uint64_t number = 0;
    std::string text;
    std::string reason;
  };

  void count(const AuditRecord& record);
  void failOnPending() const;

  std::vector<Producer> producers_;
  StringMap<size_t> producerIndex_;
  std::map<std::string, uint64_t, std::less<>> unexpectedProducers_;
  std::vector<OrderViolation> firstViolations_;
  std::vector<FileReport> files_;
  bool inFile_ = false;
  uint64_t lineNumber_ = 0;
  std::optional<PendingLine> pending_;  // a bad line that is only acceptable as the last one
};

}  // namespace ebb::verify
