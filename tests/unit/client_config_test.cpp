#include "ebb/kafka/client_config.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "ebb/kafka/consumer.h"
#include "ebb/kafka/producer.h"

namespace ebb::kafka {
namespace {

TEST(ClientConfigTest, RawPropertiesOverrideTypedOptions) {
  ClientConfig config;
  config.bootstrapServers = "127.0.0.1:9092";
  config.set("client.id=override");
  config.set("linger.ms=5");
  const auto effective = config.effective();
  EXPECT_EQ(effective.at("client.id"), "override");
  EXPECT_EQ(effective.at("linger.ms"), "5");
  EXPECT_EQ(effective.at("bootstrap.servers"), "127.0.0.1:9092");
}

TEST(ClientConfigTest, ValueMayContainEqualsSigns) {
  ClientConfig config;
  config.set("sasl.oauthbearer.config=principal=admin");
  EXPECT_EQ(config.properties.at("sasl.oauthbearer.config"), "principal=admin");
}

TEST(ClientConfigTest, MalformedPairsAreRejectedWithAHint) {
  ClientConfig config;
  for (const auto* bad : {"linger.ms", "=5", ""}) {
    try {
      config.set(bad);
      FAIL() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("key=value"), std::string::npos);
    }
  }
  EXPECT_TRUE(config.properties.empty());
}

TEST(ClientConfigTest, SecretsAreMaskedWhenPrinted) {
  ClientConfig config;
  config.set("sasl.password=hunter2");
  config.set("ssl.key.password=s3cret");
  config.set("sasl.oauthbearer.client.secret=abc");
  config.set("sasl.username=alice");
  const auto lines = config.printable();
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
    EXPECT_EQ(line.find("=abc"), std::string::npos) << line;
  }
  EXPECT_NE(std::find(lines.begin(), lines.end(), "sasl.password=********"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "sasl.username=alice"), lines.end());
}

TEST(ClientConfigTest, SecretPropertyNames) {
  EXPECT_TRUE(isSecretProperty("sasl.password"));
  EXPECT_TRUE(isSecretProperty("ssl.keystore.password"));
  EXPECT_TRUE(isSecretProperty("ssl.key.pem"));
  EXPECT_TRUE(isSecretProperty("sasl.oauthbearer.client.secret"));
  EXPECT_FALSE(isSecretProperty("ssl.certificate.pem"));
  EXPECT_FALSE(isSecretProperty("bootstrap.servers"));
}

// A properties file in the test's own temporary directory, removed afterwards.
class ClientPropertiesFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("ebb-client-config-" + std::to_string(::getpid()) + ".properties");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void write(const std::string& text) const { std::ofstream(path_) << text; }
  std::filesystem::path path_;
};

TEST_F(ClientPropertiesFileTest, ReadsPairsAndSkipsCommentsAndBlankLines) {
  write(
      "# credentials\n"
      "! also a comment\n"
      "\n"
      "security.protocol=SASL_SSL\n"
      "  sasl.username = ebb  \r\n"
      "sasl.password=p=ss word\n");
  ClientConfig config;
  config.setFromFile(path_);
  EXPECT_EQ(config.properties.size(), 3u);
  EXPECT_EQ(config.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(config.properties.at("sasl.username"), "ebb");
  EXPECT_EQ(config.properties.at("sasl.password"), "p=ss word");
}

TEST_F(ClientPropertiesFileTest, AMalformedLineIsNamedButNeverShown) {
  write("sasl.username=ebb\nhunter2-secret\n");
  ClientConfig config;
  try {
    config.setFromFile(path_);
    FAIL() << "a line without '=' was accepted";
  } catch (const std::invalid_argument& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find(path_.string() + ":2: expected a librdkafka property as key=value"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST_F(ClientPropertiesFileTest, AMissingFileIsAClearError) {
  ClientConfig config;
  EXPECT_THROW(
      {
        try {
          config.setFromFile(path_);
        } catch (const std::invalid_argument& error) {
          EXPECT_NE(
              std::string(error.what())
                  .find("cannot read the properties file " + path_.string() + ": No such file"),
              std::string::npos)
              << error.what();
          throw;
        }
      },
      std::invalid_argument);
}

TEST(GroupProtocolTest, ParsesBothProtocolsAndRejectsOthers) {
  EXPECT_EQ(parseGroupProtocol("consumer"), GroupProtocol::kConsumer);
  EXPECT_EQ(parseGroupProtocol("classic"), GroupProtocol::kClassic);
  EXPECT_EQ(toString(GroupProtocol::kClassic), "classic");
  EXPECT_THROW(parseGroupProtocol("eager"), std::invalid_argument);
}

}  // namespace
}  // namespace ebb::kafka

namespace ebb::kafka {
namespace {

TEST(SelfClockingDefaultsTest, NoLingerOneRequestInFlightIdempotent) {
  const auto defaults = selfClockingDefaults(ClientConfig{});
  EXPECT_EQ(defaults.at("linger.ms"), "0");
  EXPECT_EQ(defaults.at("max.in.flight.requests.per.connection"), "1");
  EXPECT_EQ(defaults.at("socket.nagle.disable"), "true");
  EXPECT_EQ(defaults.at("enable.idempotence"), "true");
}

// Idempotence needs acks=all and at most 5 in flight: a user's choice that excludes it turns the
// default off (stated precedence) instead of failing on a setting the user never made.
TEST(SelfClockingDefaultsTest, UserChoicesThatExcludeIdempotenceTurnItsDefaultOff) {
  for (const auto* choice : {"acks=1", "acks=0", "max.in.flight.requests.per.connection=10"}) {
    ClientConfig config;
    config.set(choice);
    EXPECT_FALSE(selfClockingDefaults(config).contains("enable.idempotence")) << choice;
  }
  for (const auto* choice : {"acks=all", "acks=-1", "max.in.flight.requests.per.connection=5"}) {
    ClientConfig config;
    config.set(choice);
    EXPECT_EQ(selfClockingDefaults(config).at("enable.idempotence"), "true") << choice;
  }
}

}  // namespace
}  // namespace ebb::kafka
