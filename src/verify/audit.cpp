#include "ebb/verify/audit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace ebb::verify {
namespace {

constexpr size_t kAuditFields = 5;
constexpr size_t kQuotedChars = 120;  // of a bad line, in its error

template <typename T>
bool parseNumber(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  return !text.empty() && error == std::errc() && ptr == end;
}

// A bad line as it can be quoted in one line of an error: tabs visible, at most kQuotedChars.
std::string quote(std::string_view line) {
  std::string quoted;
  for (const char c : line.substr(0, kQuotedChars)) {
    if (c == '\t') {
      quoted += "\\t";
    } else {
      quoted += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  if (line.size() > kQuotedChars) quoted += "...";
  return quoted;
}

template <typename Item, typename Field>
uint64_t sum(const std::vector<Item>& items, Field field) {
  return std::accumulate(items.begin(), items.end(), uint64_t{0},
                         [&](uint64_t total, const Item& item) { return total + item.*field; });
}

}  // namespace

std::optional<AuditRecord> parseAuditLine(std::string_view line) {
  std::array<std::string_view, kAuditFields + 2> fields;
  size_t count = 0;
  for (size_t start = 0;; ++count) {
    if (count == fields.size()) return std::nullopt;
    const size_t tab = line.find('\t', start);
    fields[count] = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  ++count;
  if (count < kAuditFields) return std::nullopt;
  AuditRecord record;
  record.key = fields[2];
  record.producer = fields[3];
  if (!parseNumber(fields[0], record.partition) || record.partition < 0 ||
      !parseNumber(fields[1], record.offset) || record.offset < 0 || record.producer.empty()) {
    return std::nullopt;
  }
  if (record.foreign()) {
    if (fields[4] != "-") return std::nullopt;
  } else if (!parseNumber(fields[4], record.seq)) {
    return std::nullopt;
  }
  if (count > kAuditFields &&
      (!parseNumber(fields[kAuditFields], record.timeMicros) || record.timeMicros < 0)) {
    return std::nullopt;
  }
  if (count > kAuditFields + 1 &&
      (!parseNumber(fields[kAuditFields + 1], record.deliveryCount) || record.deliveryCount < 1)) {
    return std::nullopt;
  }
  return record;
}

Expectation parseExpectation(std::string_view text) {
  const size_t equals = text.rfind('=');
  if (equals == std::string_view::npos || equals == 0 || text.substr(0, equals) == "-") {
    throw std::invalid_argument(fmt::format("expected PRODUCER=COUNT, got '{}'", text));
  }
  Expectation expectation{std::string(text.substr(0, equals)), 0};
  if (!parseNumber(text.substr(equals + 1), expectation.count) ||
      expectation.count > kMaxExpectedCount) {
    throw std::invalid_argument(
        fmt::format("COUNT in '{}' must be a whole number from 0 to {}", text, kMaxExpectedCount));
  }
  return expectation;
}

uint64_t VerifyReport::lines() const { return sum(files, &FileReport::lines); }
uint64_t VerifyReport::foreign() const { return sum(files, &FileReport::foreign); }
uint64_t VerifyReport::truncatedLines() const { return sum(files, &FileReport::truncated); }
uint64_t VerifyReport::lost() const { return sum(producers, &ProducerReport::lost); }
uint64_t VerifyReport::duplicates() const { return sum(producers, &ProducerReport::duplicates); }
uint64_t VerifyReport::shareRecords() const { return sum(files, &FileReport::shareRecords); }
uint64_t VerifyReport::orderViolations() const {
  return sum(producers, &ProducerReport::orderViolations);
}
uint64_t VerifyReport::unexpected() const {
  uint64_t total = sum(producers, &ProducerReport::unexpected);
  for (const auto& [producer, count] : unexpectedProducers) total += count;
  return total;
}

AuditVerifier::AuditVerifier(const std::vector<Expectation>& expectations) {
  producers_.reserve(expectations.size());
  for (const auto& expectation : expectations) {
    if (!producerIndex_.emplace(expectation.producer, producers_.size()).second) {
      throw std::invalid_argument("producer '" + expectation.producer + "' is expected twice");
    }
    if (expectation.count > kMaxExpectedCount) {
      throw std::invalid_argument(
          fmt::format("producer '{}': at most {} messages can be expected, got {}",
                      expectation.producer, kMaxExpectedCount, expectation.count));
    }
    Producer producer;
    producer.name = expectation.producer;
    producer.expected = expectation.count;
    producer.seen.assign(expectation.count, false);
    producers_.push_back(std::move(producer));
  }
}

void AuditVerifier::beginFile(std::string name) {
  endFile();
  files_.push_back(FileReport{.name = std::move(name)});
  inFile_ = true;
  lineNumber_ = 0;
  // Order is only defined within one consumer's file.
  for (auto& producer : producers_) producer.highestSeqByKey.clear();
}

void AuditVerifier::addLine(std::string_view line, bool terminated) {
  if (!inFile_) throw std::logic_error("AuditVerifier::addLine before beginFile");
  failOnPending();
  ++lineNumber_;
  const auto record = parseAuditLine(line);
  if (!record || !terminated) {
    pending_ = PendingLine{
        lineNumber_, quote(line),
        record ? "the line has no '\\n' at its end"
               : "expected 'partition<TAB>offset<TAB>key<TAB>producer<TAB>seq' (seq and "
                 "producer '-' without an ebb envelope)"};
    return;
  }
  auto& file = files_.back();
  ++file.lines;
  if (record->deliveryCount > 0) ++file.shareRecords;
  if (record->foreign()) {
    ++file.foreign;
  } else {
    count(*record);
  }
}

void AuditVerifier::endFile() {
  if (!inFile_) return;
  if (pending_) files_.back().truncated = true;
  pending_.reset();
  inFile_ = false;
}

void AuditVerifier::failOnPending() const {
  if (!pending_) return;
  throw std::runtime_error(fmt::format("{}:{}: {}, got '{}'", files_.back().name, pending_->number,
                                       pending_->reason, pending_->text));
}

void AuditVerifier::count(const AuditRecord& record) {
  const auto index = producerIndex_.find(record.producer);
  if (index == producerIndex_.end()) {
    const auto unexpected = unexpectedProducers_.find(record.producer);
    if (unexpected == unexpectedProducers_.end()) {
      unexpectedProducers_.emplace(std::string(record.producer), 1);
    } else {
      ++unexpected->second;
    }
    return;
  }
  Producer& producer = producers_[index->second];
  if (record.seq >= producer.expected) {
    ++producer.unexpected;
    return;
  }
  const bool replay = producer.seen[record.seq];
  if (replay) {
    ++producer.duplicates;
  } else {
    producer.seen[record.seq] = true;
    ++producer.received;
  }
  if (!record.keyed()) return;
  const auto highest = producer.highestSeqByKey.find(record.key);
  if (highest == producer.highestSeqByKey.end()) {
    producer.highestSeqByKey.emplace(std::string(record.key), record.seq);
  } else if (record.seq > highest->second) {
    highest->second = record.seq;
  } else if (record.seq < highest->second && !replay) {
    ++producer.orderViolations;
    if (firstViolations_.size() < VerifyReport::kMaxListed) {
      firstViolations_.push_back(OrderViolation{.file = files_.back().name,
                                                .line = lineNumber_,
                                                .partition = record.partition,
                                                .offset = record.offset,
                                                .producer = producer.name,
                                                .key = std::string(record.key),
                                                .seq = record.seq,
                                                .after = highest->second});
    }
  }
}

void AuditVerifier::addStream(std::string name, std::istream& in) {
  beginFile(std::move(name));
  std::string line;
  // getline sets eof only when the last line ended without '\n'.
  while (std::getline(in, line)) addLine(line, !in.eof());
  if (in.bad()) throw std::runtime_error("cannot read the audit file " + files_.back().name);
  endFile();
}

void AuditVerifier::addFile(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error("cannot read the audit file " + path.string() + ": it is a directory");
  }
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(
        fmt::format("cannot open the audit file {}: {}", path.string(), std::strerror(errno)));
  }
  addStream(path.string(), in);
}

VerifyReport AuditVerifier::report() const {
  VerifyReport report;
  for (const auto& producer : producers_) {
    ProducerReport entry{.producer = producer.name,
                         .expected = producer.expected,
                         .received = producer.received,
                         .lost = producer.expected - producer.received,
                         .duplicates = producer.duplicates,
                         .unexpected = producer.unexpected,
                         .orderViolations = producer.orderViolations};
    for (uint64_t seq = 0;
         entry.firstLost.size() < std::min<uint64_t>(entry.lost, VerifyReport::kMaxListed); ++seq) {
      if (!producer.seen[seq]) entry.firstLost.push_back(seq);
    }
    report.producers.push_back(std::move(entry));
  }
  report.unexpectedProducers.insert(unexpectedProducers_.begin(), unexpectedProducers_.end());
  report.firstViolations = firstViolations_;
  report.files = files_;
  return report;
}

// nlohmann's to_json hooks for the report's parts: it finds them by that name, in their namespace.
// NOLINTBEGIN(readability-identifier-naming)
void to_json(nlohmann::json& json, const ProducerReport& p) {
  json = {{"producer", p.producer},     {"expected", p.expected},
          {"received", p.received},     {"lost", p.lost},
          {"first_lost", p.firstLost},  {"duplicates", p.duplicates},
          {"unexpected", p.unexpected}, {"order_violations", p.orderViolations}};
}

void to_json(nlohmann::json& json, const OrderViolation& v) {
  json = {{"file", v.file},     {"line", v.line},         {"partition", v.partition},
          {"offset", v.offset}, {"producer", v.producer}, {"key", v.key},
          {"seq", v.seq},       {"after", v.after}};
}

void to_json(nlohmann::json& json, const FileReport& f) {
  json = {{"name", f.name},
          {"lines", f.lines},
          {"foreign", f.foreign},
          {"truncated", f.truncated},
          {"share_records", f.shareRecords}};
}
// NOLINTEND(readability-identifier-naming)

nlohmann::json toJson(const VerifyReport& report) {
  return {{"ok", report.ok()},
          {"lines", report.lines()},
          {"foreign", report.foreign()},
          {"truncated_lines", report.truncatedLines()},
          {"lost", report.lost()},
          {"duplicates", report.duplicates()},
          {"unexpected", report.unexpected()},
          {"order_violations", report.orderViolations()},
          {"order_informational", report.orderInformational()},
          {"producers", report.producers},
          {"unexpected_producers", report.unexpectedProducers},
          {"first_order_violations", report.firstViolations},
          {"files", report.files}};
}

std::string toText(const VerifyReport& report) {
  std::string text = fmt::format(
      "{}: {} file(s), {} line(s) ({} foreign, {} truncated): {} lost, {} out of order, "
      "{} duplicate(s), {} unexpected{}\n",
      report.ok() ? "OK" : "FAILED", report.files.size(), report.lines(), report.foreign(),
      report.truncatedLines(), report.lost(), report.orderViolations(), report.duplicates(),
      report.unexpected(),
      report.orderInformational() ? " (order informational: a share group keeps no order per key)"
                                  : "");
  for (const auto& p : report.producers) {
    std::string lost = std::to_string(p.lost);
    if (p.lost > 0) {
      lost += fmt::format(" (seq {}{})", fmt::join(p.firstLost, ", "),
                          p.lost > p.firstLost.size() ? ", ..." : "");
    }
    text += fmt::format(
        "  producer {}: expected {}, received {}, lost {}, {} duplicate(s), {} unexpected, {} out "
        "of order\n",
        p.producer, p.expected, p.received, lost, p.duplicates, p.unexpected, p.orderViolations);
  }
  for (const auto& [producer, count] : report.unexpectedProducers) {
    text += fmt::format("  unexpected producer {}: {} message(s)\n", producer, count);
  }
  for (const auto& v : report.firstViolations) {
    text += fmt::format(
        "  out of order: {}:{} (partition {} offset {}): producer {} key {} seq {} after seq {}\n",
        v.file, v.line, v.partition, v.offset, v.producer, v.key, v.seq, v.after);
  }
  for (const auto& f : report.files) {
    if (f.truncated)
      text += fmt::format("  truncated: the last line of {} (not counted)\n", f.name);
  }
  return text;
}

}  // namespace ebb::verify
