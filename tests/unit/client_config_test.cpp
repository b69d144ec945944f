#include "ebb/kafka/client_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "ebb/kafka/consumer.h"

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

TEST(GroupProtocolTest, ParsesBothProtocolsAndRejectsOthers) {
  EXPECT_EQ(parseGroupProtocol("consumer"), GroupProtocol::kConsumer);
  EXPECT_EQ(parseGroupProtocol("classic"), GroupProtocol::kClassic);
  EXPECT_EQ(toString(GroupProtocol::kClassic), "classic");
  EXPECT_THROW(parseGroupProtocol("eager"), std::invalid_argument);
}

}  // namespace
}  // namespace ebb::kafka
