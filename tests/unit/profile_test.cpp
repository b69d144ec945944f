#include "ebb/load/profile.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ebb::load {
namespace {

// Writes `content` to a file of its own under the test temp dir and returns its path.
std::string writeCsv(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + "ebb_profile_test_" + name + ".csv";
  std::ofstream(path) << content;
  return path;
}

struct RateCase {
  std::string spec;
  double baseRate;
  double seconds;
  double expected;
};

TEST(ProfileTest, RateAtChosenTimes) {
  const std::vector<RateCase> cases = {
      {"constant", 1000, 0, 1000},
      {"constant", 1000, 3600, 1000},
      {"step:60:5000", 1000, 0, 1000},
      {"step:60:5000", 1000, 59.999, 1000},
      {"step:60:5000", 1000, 60, 5000},
      {"step:60:5000", 1000, 1e6, 5000},
      {"step:10:0", 1000, 10, 0},
      {"spike:60:90:8", 1000, 59.9, 1000},
      {"spike:60:90:8", 1000, 60, 8000},
      {"spike:60:90:8", 1000, 149.9, 8000},
      {"spike:60:90:8", 1000, 150, 1000},
      {"spike:60:90:0.5", 1000, 100, 500},
      {"ramp:100:10000:300", 1000, 0, 100},
      {"ramp:100:10000:300", 1000, 150, 5050},
      {"ramp:100:10000:300", 1000, 300, 10000},
      {"ramp:100:10000:300", 1000, 1000, 10000},
      {"ramp:1000:0:10", 5, 5, 500},
      {"sine:600:0.5", 1000, 0, 1000},
      {"sine:600:0.5", 1000, 150, 1500},
      {"sine:600:0.5", 1000, 300, 1000},
      {"sine:600:0.5", 1000, 450, 500},
      {"sine:600:0.5", 1000, 600, 1000},
      {"sine:60:1", 1000, 45, 0},
      {"sine:60:0", 1000, 45, 1000},
  };
  for (const RateCase& c : cases) {
    const auto profile = parseProfile(c.spec, c.baseRate);
    EXPECT_NEAR(profile->rateAt(c.seconds), c.expected, 1e-9)
        << c.spec << " at " << c.seconds << " s";
    EXPECT_EQ(profile->duration(), std::nullopt) << c.spec;
  }
}

TEST(ProfileTest, DescribeIsOneLineWithTheNumbers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"constant", "constant 1000 msg/s"},
      {"step:60:5000", "5000 msg/s from 60 s"},
      {"spike:60:90:8", "8000 msg/s"},
      {"ramp:100:10000:300", "ramp 100 -> 10000 msg/s over 300 s"},
      {"sine:600:0.5", "amplitude 0.5, period 600 s"},
  };
  for (const auto& [spec, fragment] : cases) {
    const std::string description = parseProfile(spec, 1000)->describe();
    EXPECT_NE(description.find(fragment), std::string::npos) << spec << ": " << description;
    EXPECT_EQ(description.find('\n'), std::string::npos) << spec;
  }
}

TEST(ProfileTest, CsvInterpolatesBetweenPointsAndHoldsTheLastRate) {
  const std::string path = writeCsv("shape",
                                    "# a load shape\n"
                                    "seconds,rate\n"
                                    "0,100\n"
                                    "10, 1100\r\n"
                                    "\n"
                                    "20,1100\n"
                                    "30,0\n");
  const auto profile = parseProfile("csv:" + path, 1);
  EXPECT_DOUBLE_EQ(profile->rateAt(0), 100);
  EXPECT_DOUBLE_EQ(profile->rateAt(5), 600);
  EXPECT_DOUBLE_EQ(profile->rateAt(15), 1100);
  EXPECT_DOUBLE_EQ(profile->rateAt(25), 550);
  EXPECT_DOUBLE_EQ(profile->rateAt(30), 0);
  EXPECT_DOUBLE_EQ(profile->rateAt(100), 0);
  EXPECT_EQ(profile->duration(), 30.0);
  EXPECT_NE(profile->describe().find("4 points over 30 s"), std::string::npos)
      << profile->describe();
}

TEST(ProfileTest, CsvRepeatedTimeIsAJumpAndTheFirstRateHoldsBeforeTheFirstPoint) {
  const std::string path = writeCsv("jump", "5,100\n10,100\n10,500\n20,500\n");
  const auto profile = parseProfile("csv:" + path, 1);
  EXPECT_DOUBLE_EQ(profile->rateAt(0), 100);
  EXPECT_DOUBLE_EQ(profile->rateAt(9.999), 100);
  EXPECT_DOUBLE_EQ(profile->rateAt(10), 500);
  EXPECT_EQ(profile->duration(), 20.0);
}

struct BadSpec {
  std::string spec;
  std::string fragment;  // what the message must say
};

void expectRejected(const BadSpec& c, double baseRate = 1000) {
  try {
    parseProfile(c.spec, baseRate);
    ADD_FAILURE() << "'" << c.spec << "' was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(c.fragment), std::string::npos)
        << c.spec << ": " << error.what();
  }
}

TEST(ProfileTest, MalformedSpecsThrowWithWhatIsWrongAndTheRightForm) {
  const std::vector<BadSpec> cases = {
      {"", "unknown --profile ''"},
      {"burst:1:2", "use one of constant, step:AT:RATE, spike:START:LENGTH:FACTOR"},
      {"Constant", "unknown --profile"},
      {"constant:5", "constant takes 0 field(s), got 1"},
      {"step", "step takes 2 field(s), got 0; use step:AT:RATE, e.g. step:60:5000"},
      {"step:60", "step takes 2 field(s), got 1"},
      {"step:60:5000:7", "got 3"},
      {"step:-1:5000", "AT must not be negative"},
      {"step:60:abc", "RATE 'abc' is not a number"},
      {"step:60:5000x", "RATE '5000x' is not a number"},
      {"step:60:", "RATE '' is not a number"},
      {"step: 60:5000", "AT ' 60' is not a number"},
      {"step:inf:5000", "AT 'inf' is not a number"},
      {"spike:60:90", "use spike:START:LENGTH:FACTOR, e.g. spike:60:90:8"},
      {"spike:60:0:8", "LENGTH must be more than 0"},
      {"spike:60:90:-2", "FACTOR must not be negative"},
      {"ramp:100:10000:0", "SECONDS must be more than 0"},
      {"ramp:100:-5:10", "TO must not be negative"},
      {"ramp:100:10000", "e.g. ramp:100:10000:300"},
      {"sine:600:1.5", "AMPLITUDE must be from 0 to 1, got 1.5"},
      {"sine:600:-0.1", "AMPLITUDE must not be negative"},
      {"sine:0:0.5", "PERIOD must be more than 0"},
      {"sine:600:nan", "AMPLITUDE 'nan' is not a number"},
      {"csv", "the path is missing; use csv:PATH"},
      {"csv:", "the path is missing"},
      {"csv:/nonexistent/ebb/load.csv", "cannot read '/nonexistent/ebb/load.csv'"},
      {"csv:/", "cannot read '/'"},
  };
  for (const BadSpec& c : cases) expectRejected(c);
  expectRejected({"constant", "--rate must be a non-negative number, got -1"}, -1);
}

TEST(ProfileTest, MalformedCsvNamesTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0,100\n10,abc\n", "line 2: expected \"seconds,rate\""},
      {"0,100\n10\n", "line 2"},
      {"0,100,7\n", "line 1"},
      {"0,-5\n", "line 1"},
      {"-1,5\n", "line 1"},
      {"# c\nseconds,rate\n0,1\nx,2\n", "line 4"},
      {"seconds,rate\ntime,rate\n0,1\n", "line 2"},
      {"0,100\n10,200\n5,300\n", "line 3: time 5 is before the previous point's 10"},
      {"# only a comment\nseconds,rate\n", "has no \"seconds,rate\" lines"},
      {"", "has no \"seconds,rate\" lines"},
  };
  int index = 0;
  for (const auto& [content, fragment] : cases) {
    const std::string path = writeCsv("bad" + std::to_string(index++), content);
    expectRejected({"csv:" + path, fragment});
  }
}

}  // namespace
}  // namespace ebb::load
