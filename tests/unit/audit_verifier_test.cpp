#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ebb/verify/audit.h"

namespace ebb::verify {
namespace {

// One audit line as `ebb consume --audit` writes it; partition 0, offsets are not checked.
struct Line {
  std::string key;
  std::string producer;
  std::string seq;
};

std::string audit(const std::vector<Line>& lines) {
  std::string text;
  int64_t offset = 0;
  for (const auto& line : lines) {
    text += "0\t" + std::to_string(offset++) + "\t" + line.key + "\t" + line.producer + "\t" +
            line.seq + "\n";
  }
  return text;
}

using File = std::pair<std::string, std::string>;  // name, content

VerifyReport verifyFiles(const std::vector<Expectation>& expectations,
                         const std::vector<File>& files) {
  AuditVerifier verifier(expectations);
  for (const auto& [name, content] : files) {
    std::istringstream in(content);
    verifier.addStream(name, in);
  }
  return verifier.report();
}

// What a case expects, summed over producers; the listed lost seqs are the first producer's.
struct Outcome {
  bool ok = true;
  uint64_t lost = 0;
  std::vector<uint64_t> firstLost;
  uint64_t duplicates = 0;
  uint64_t unexpected = 0;
  uint64_t violations = 0;
  uint64_t foreign = 0;
  uint64_t truncated = 0;
};

struct VerifyCase {
  std::string name;
  std::vector<Expectation> expectations;
  std::vector<File> files;
  Outcome expected;
};

TEST(AuditVerifierTest, CountsLossDuplicatesUnexpectedAndOrder) {
  const std::vector<VerifyCase> cases = {
      {"all delivered over two files",
       {{"p", 4}, {"q", 1}},
       {{"a", audit({{"k1", "p", "0"}, {"k2", "p", "1"}, {"-", "q", "0"}})},
        {"b", audit({{"k1", "p", "2"}, {"k1", "p", "3"}})}},
       {}},
      {"lost ones named, lowest first",
       {{"p", 6}},
       {{"a", audit({{"k", "p", "0"}, {"k", "p", "2"}, {"k", "p", "5"}})}},
       {.ok = false, .lost = 3, .firstLost = {1, 3, 4}}},
      {"nothing received", {{"p", 2}}, {{"a", ""}}, {.ok = false, .lost = 2, .firstLost = {0, 1}}},
      {"duplicates across files do not fail",
       {{"p", 3}},
       {{"a", audit({{"k", "p", "0"}, {"k", "p", "1"}, {"k", "p", "2"}})},
        {"b", audit({{"k", "p", "1"}, {"k", "p", "2"}})}},
       {.duplicates = 2}},
      {"replay after a crash within one file is a duplicate, not a violation",
       {{"p", 5}},
       {{"a", audit({{"k", "p", "0"},
                     {"k", "p", "1"},
                     {"k", "p", "2"},
                     {"k", "p", "3"},
                     {"k", "p", "1"},
                     {"k", "p", "2"},
                     {"k", "p", "3"},
                     {"k", "p", "4"}})}},
       {.duplicates = 3}},
      {"a first delivery after a higher seq of its key is a violation",
       {{"p", 3}},
       {{"a", audit({{"k", "p", "0"}, {"k", "p", "2"}, {"k", "p", "1"}})}},
       {.ok = false, .violations = 1}},
      {"each late first delivery counts, against the highest seq",
       {{"p", 4}},
       {{"a", audit({{"k", "p", "0"}, {"k", "p", "3"}, {"k", "p", "1"}, {"k", "p", "2"}})}},
       {.ok = false, .violations = 2}},
      {"order is per key",
       {{"p", 4}},
       {{"a", audit({{"k1", "p", "2"}, {"k2", "p", "0"}, {"k2", "p", "1"}, {"k1", "p", "3"}})}},
       {}},
      {"order is per producer",
       {{"p", 2}, {"q", 2}},
       {{"a", audit({{"k", "p", "1"}, {"k", "q", "0"}, {"k", "q", "1"}, {"k", "p", "0"}})}},
       {.ok = false, .violations = 1}},
      {"unkeyed messages have no order",
       {{"p", 3}},
       {{"a", audit({{"-", "p", "2"}, {"-", "p", "0"}, {"-", "p", "1"}})}},
       {}},
      {"order is per file",
       {{"p", 2}},
       {{"a", audit({{"k", "p", "1"}})}, {"b", audit({{"k", "p", "0"}})}},
       {}},
      {"unexpected producer is reported, not failed",
       {{"p", 1}},
       {{"a", audit({{"k", "p", "0"}, {"k", "stranger", "0"}, {"k", "stranger", "7"}})}},
       {.unexpected = 2}},
      {"seq at or beyond COUNT is unexpected",
       {{"p", 2}},
       {{"a", audit({{"k", "p", "0"}, {"k", "p", "1"}, {"k", "p", "2"}, {"k", "p", "900"}})}},
       {.unexpected = 2}},
      {"foreign messages are counted and otherwise ignored",
       {{"p", 1}},
       {{"a", audit({{"-", "-", "-"}, {"k", "p", "0"}, {"k", "-", "-"}})}},
       {.foreign = 2}},
      {"a truncated last line is tolerated",
       {{"p", 2}},
       {{"a", audit({{"k", "p", "0"}, {"k", "p", "1"}}) + "0\t2\tk"}},
       {.truncated = 1}},
      {"a last line without its newline is not counted, even when it parses",
       {{"p", 42}},
       {{"a", audit({{"k", "p", "0"}}) + "0\t1\tk\tp\t4"}},
       {.ok = false, .lost = 41, .firstLost = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, .truncated = 1}},
      {"a malformed last line ending in a newline is tolerated too",
       {{"p", 1}},
       {{"a", audit({{"k", "p", "0"}}) + "0\t1\n"}},
       {.truncated = 1}},
      {"truncation is per file",
       {{"p", 2}},
       {{"a", audit({{"k", "p", "0"}}) + "0\t1\tk\tp"}, {"b", audit({{"k", "p", "1"}}) + "0"}},
       {.truncated = 2}},
      {"a producer expected to send nothing",
       {{"p", 0}},
       {{"a", audit({{"k", "p", "0"}})}},
       {.unexpected = 1}},
  };
  for (const VerifyCase& c : cases) {
    SCOPED_TRACE(c.name);
    const VerifyReport report = verifyFiles(c.expectations, c.files);
    const Outcome& expected = c.expected;
    EXPECT_EQ(report.ok(), expected.ok);
    EXPECT_EQ(report.lost(), expected.lost);
    ASSERT_FALSE(report.producers.empty());
    EXPECT_EQ(report.producers.front().firstLost, expected.firstLost);
    EXPECT_EQ(report.duplicates(), expected.duplicates);
    EXPECT_EQ(report.unexpected(), expected.unexpected);
    EXPECT_EQ(report.orderViolations(), expected.violations);
    EXPECT_EQ(report.foreign(), expected.foreign);
    EXPECT_EQ(report.truncatedLines(), expected.truncated);
    EXPECT_EQ(report.files.size(), c.files.size());
  }
}

TEST(AuditVerifierTest, ReportsPerProducerAndNamesTheViolation) {
  const auto report = verifyFiles(
      {{"p", 4}, {"q", 2}},
      {{"c1.audit", audit({{"k", "p", "0"}, {"k", "p", "0"}, {"k", "p", "3"}})},
       {"c2.audit",
        audit({{"-", "q", "0"}, {"k7", "p", "2"}, {"k7", "p", "1"}, {"x", "r", "0"}})}});
  ASSERT_EQ(report.producers.size(), 2u);
  const auto& p = report.producers[0];
  EXPECT_EQ(p.producer, "p");
  EXPECT_EQ(p.expected, 4u);
  EXPECT_EQ(p.received, 4u);
  EXPECT_EQ(p.duplicates, 1u);
  EXPECT_EQ(p.orderViolations, 1u);
  const auto& q = report.producers[1];
  EXPECT_EQ(q.producer, "q");
  EXPECT_EQ(q.received, 1u);
  EXPECT_EQ(q.lost, 1u);
  EXPECT_EQ(q.firstLost, std::vector<uint64_t>{1});
  EXPECT_EQ(report.unexpectedProducers, (std::map<std::string, uint64_t>{{"r", 1}}));
  ASSERT_EQ(report.firstViolations.size(), 1u);
  const auto& violation = report.firstViolations[0];
  EXPECT_EQ(violation.file, "c2.audit");
  EXPECT_EQ(violation.line, 3u);
  EXPECT_EQ(violation.offset, 2);
  EXPECT_EQ(violation.key, "k7");
  EXPECT_EQ(violation.seq, 1u);
  EXPECT_EQ(violation.after, 2u);
  EXPECT_EQ(report.lines(), 7u);

  const auto json = toJson(report);
  EXPECT_FALSE(json["ok"].get<bool>());
  EXPECT_EQ(json["lost"].get<uint64_t>(), 1u);
  EXPECT_EQ(json["producers"][1]["first_lost"], nlohmann::json::array({1}));
  EXPECT_EQ(json["first_order_violations"][0]["file"], "c2.audit");
  EXPECT_EQ(json["unexpected_producers"]["r"].get<uint64_t>(), 1u);

  const std::string text = toText(report);
  EXPECT_EQ(text.rfind("FAILED: 2 file(s), 7 line(s)", 0), 0u) << text;
  EXPECT_NE(text.find("producer q: expected 2, received 1, lost 1 (seq 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("c2.audit:3"), std::string::npos) << text;
  EXPECT_NE(text.find("unexpected producer r: 1 message(s)"), std::string::npos) << text;
}

TEST(AuditVerifierTest, ListsOnlyTheFirstLostSeqs) {
  const auto report = verifyFiles({{"p", 1000}}, {{"a", audit({{"k", "p", "5"}})}});
  EXPECT_EQ(report.lost(), 999u);
  EXPECT_EQ(report.producers[0].firstLost, (std::vector<uint64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 10}));
  EXPECT_NE(toText(report).find("lost 999 (seq 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, ...)"),
            std::string::npos)
      << toText(report);
}

TEST(AuditVerifierTest, MalformedLineBeforeTheLastIsAnErrorNamingFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {audit({{"k", "p", "0"}}) + "garbage\n" + audit({{"k", "p", "1"}}), "a.audit:2:"},
      {"0\t0\tk\tp\n" + audit({{"k", "p", "1"}}), "a.audit:1:"},
      {audit({{"k", "p", "0"}, {"k", "p", "1"}}) + "\n" + audit({{"k", "p", "2"}}), "a.audit:3:"},
  };
  for (const auto& [content, location] : cases) {
    AuditVerifier verifier({{"p", 3}});
    std::istringstream in(content);
    try {
      verifier.addStream("a.audit", in);
      ADD_FAILURE() << "no error for " << content;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(location), std::string::npos) << error.what();
    }
  }
}

TEST(AuditVerifierTest, ParsesAuditLines) {
  const auto keyed = parseAuditLine("3\t812\tuser-7\thost-1\t42");
  ASSERT_TRUE(keyed.has_value());
  EXPECT_EQ(keyed->partition, 3);
  EXPECT_EQ(keyed->offset, 812);
  EXPECT_EQ(keyed->key, "user-7");
  EXPECT_EQ(keyed->producer, "host-1");
  EXPECT_EQ(keyed->seq, 42u);
  EXPECT_TRUE(keyed->keyed());
  EXPECT_FALSE(keyed->foreign());
  EXPECT_EQ(keyed->timeMicros, -1);  // written before audit lines had a time

  const auto timed = parseAuditLine("3\t812\tuser-7\thost-1\t42\t1796169600123456");
  ASSERT_TRUE(timed.has_value());
  EXPECT_EQ(timed->seq, 42u);
  EXPECT_EQ(timed->timeMicros, 1796169600123456);

  const auto foreign = parseAuditLine("0\t1\t-\t-\t-\t5");
  ASSERT_TRUE(foreign.has_value());
  EXPECT_TRUE(foreign->foreign());
  EXPECT_FALSE(foreign->keyed());
  EXPECT_EQ(foreign->timeMicros, 5);

  const std::vector<std::string> malformed = {
      "",
      "0\t1\tk\tp",
      "0\t1\tk\tp\t2\textra",
      "0\t1\tk\tp\t2\t-5",
      "0\t1\tk\tp\t2\t",
      "0\t1\tk\tp\t2\t7\t8\t9",
      "0\t1\tk\tp\t2\t7\t0",
      "0\t1\tk\tp\t2\t7\tx",
      "-1\t1\tk\tp\t2",
      "0\t-1\tk\tp\t2",
      "x\t1\tk\tp\t2",
      "0\t1.5\tk\tp\t2",
      "0\t1\tk\t\t2",
      "0\t1\tk\tp\t-",
      "0\t1\tk\t-\t2",
      "0\t1\tk\tp\t2x",
      "0\t1\tk\tp\t-2",
      "0\t1\tk\tp\t99999999999999999999999",
      "0 1 k p 2",
  };
  for (const auto& line : malformed) {
    EXPECT_FALSE(parseAuditLine(line).has_value()) << line;
  }
}

TEST(AuditVerifierTest, ShareGroupLinesCarryTheDeliveryCount) {
  const auto shared = parseAuditLine("3\t812\tuser-7\thost-1\t42\t1796169600123456\t2");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->timeMicros, 1796169600123456);
  EXPECT_EQ(shared->deliveryCount, 2);
  EXPECT_EQ(parseAuditLine("3\t812\tuser-7\thost-1\t42\t5")->deliveryCount, 0);
}

// A share group keeps no order per key: its audits report order but do not fail on it; loss
// still fails them.
TEST(AuditVerifierTest, OrderIsInformationalForShareGroups) {
  const std::string shareAudit =
      "0\t0\tk\tp\t1\t10\t1\n"
      "0\t1\tk\tp\t0\t11\t1\n";
  const auto report = verifyFiles({{"p", 2}}, {{"share", shareAudit}});
  EXPECT_EQ(report.orderViolations(), 1u);
  EXPECT_EQ(report.shareRecords(), 2u);
  EXPECT_TRUE(report.orderInformational());
  EXPECT_TRUE(report.ok());
  EXPECT_NE(toText(report).find("order informational"), std::string::npos);

  const auto lossy = verifyFiles({{"p", 3}}, {{"share", shareAudit}});
  EXPECT_EQ(lossy.lost(), 1u);
  EXPECT_FALSE(lossy.ok());

  const auto consumerGroup = verifyFiles({{"p", 2}}, {{"group",
                                                       "0\t0\tk\tp\t1\t10\n"
                                                       "0\t1\tk\tp\t0\t11\n"}});
  EXPECT_FALSE(consumerGroup.orderInformational());
  EXPECT_FALSE(consumerGroup.ok());
}

TEST(AuditVerifierTest, ParsesExpectations) {
  const std::vector<std::pair<std::string, Expectation>> valid = {
      {"p=10", {"p", 10}},
      {"host-1=0", {"host-1", 0}},
      {"a=b=3", {"a=b", 3}},
  };
  for (const auto& [text, expected] : valid) {
    const auto parsed = parseExpectation(text);
    EXPECT_EQ(parsed.producer, expected.producer) << text;
    EXPECT_EQ(parsed.count, expected.count) << text;
  }
  const std::vector<std::string> invalid = {
      "p", "=5", "p=", "p=-1", "p=1.5", "p=x", "-=3", "p=99999999999999999999", "p=4294967297",
  };
  for (const auto& text : invalid) {
    try {
      parseExpectation(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("'" + text + "'"), std::string::npos)
          << error.what();
    }
  }
  EXPECT_THROW(AuditVerifier({{"p", 1}, {"p", 2}}), std::invalid_argument);
}

TEST(AuditVerifierTest, ReadsFilesAndNamesAMissingOne) {
  const std::string path = testing::TempDir() + "ebb_audit_verifier_test.audit";
  std::ofstream(path) << audit({{"k", "p", "0"}, {"k", "p", "1"}}) << "0\t2\tk\tp\t";
  AuditVerifier verifier({{"p", 2}});
  verifier.addFile(path);
  const auto report = verifier.report();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.lines(), 2u);
  EXPECT_EQ(report.truncatedLines(), 1u);
  EXPECT_EQ(report.files.at(0).name, path);

  const std::string missing = testing::TempDir() + "ebb_no_such.audit";
  try {
    verifier.addFile(missing);
    ADD_FAILURE() << "no error for a missing file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
}

// A million lines, a thousand keys, two consumers: what a long soak test leaves behind.
TEST(AuditVerifierTest, StreamsAMillionLines) {
  constexpr uint64_t kCount = 1'000'000;
  constexpr uint64_t kKeys = 1000;
  AuditVerifier verifier({{"soak", kCount}});
  std::string line;
  for (int consumer = 0; consumer < 2; ++consumer) {
    verifier.beginFile("consumer-" + std::to_string(consumer));
    for (uint64_t seq = 0; seq < kCount; ++seq) {
      const uint64_t key = seq % kKeys;
      if (key % 2 != static_cast<uint64_t>(consumer) || seq == 123'456) continue;
      line = "0\t" + std::to_string(seq) + "\tkey-" + std::to_string(key) + "\tsoak\t" +
             std::to_string(seq);
      verifier.addLine(line);
    }
    verifier.endFile();
  }
  const auto report = verifier.report();
  EXPECT_EQ(report.lines(), kCount - 1);
  EXPECT_EQ(report.lost(), 1u);
  EXPECT_EQ(report.producers[0].firstLost, std::vector<uint64_t>{123'456});
  EXPECT_EQ(report.orderViolations(), 0u);
  EXPECT_EQ(report.duplicates(), 0u);
}

}  // namespace
}  // namespace ebb::verify
