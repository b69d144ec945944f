#include "ebb/orchestrate/properties_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "ebb/kafka/client_config.h"

namespace ebb::orchestrate {
namespace {

namespace fs = std::filesystem;

TEST(PropertiesFileTest, OnlyItsOwnerCanReadItAndItIsGoneAfterwards) {
  fs::path path;
  {
    const PropertiesFile file({{"sasl.password", "s3cret"}, {"security.protocol", "SASL_SSL"}});
    path = file.path();
    ASSERT_TRUE(fs::exists(path));
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    // What it holds reads back through the parser the replicas use (-F).
    kafka::ClientConfig config;
    config.setFromFile(path);
    EXPECT_EQ(config.properties.at("sasl.password"), "s3cret");
    EXPECT_EQ(config.properties.at("security.protocol"), "SASL_SSL");
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(PropertiesFileTest, AValueWithALineBreakIsRefused) {
  const std::map<std::string, std::string> properties{{"sasl.password", "a\nb"}};
  EXPECT_THROW(PropertiesFile{properties}, std::invalid_argument);
}

}  // namespace
}  // namespace ebb::orchestrate
