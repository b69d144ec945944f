// ebb's murmur2 against Kafka's own Java Utils.murmur2, run for real through
// tools/kafka/Murmur2Vectors.java over the jars scripts/bootstrap.sh fetches: keyed messages must
// land where the Java producer puts them. Needs a JDK, no broker.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ebb/partition/partitioner.h"

namespace ebb::partition {
namespace {

// The Kafka version tools/kafka/pom.xml pins.
constexpr std::string_view kKafkaVersion = "4.3.1";
// The partition count Murmur2Vectors.java computes partitions for.
constexpr int32_t kPartitions = 12;

// Where the project's scripts put Kafka's jars: $EBB_CACHE/kafka-<version>/libs.
std::filesystem::path kafkaLibs() {
  const char* cache = std::getenv("EBB_CACHE");
  const std::filesystem::path root = cache != nullptr && *cache != '\0'
                                         ? std::filesystem::path(cache)
                                         : std::filesystem::path(EBB_SOURCE_DIR) / ".cache";
  return root / ("kafka-" + std::string(kKafkaVersion)) / "libs";
}

std::string shellQuote(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Empty, every length modulo 4, bytes with the high bit set (Java's signed bytes), long keys, shell
// metacharacters, and the keys ebb's load generator produces.
std::vector<std::string> testKeys() {
  std::vector<std::string> keys = {
      "",
      "a",
      "ab",
      "abc",
      "abcd",
      "abcde",
      "hello, world",
      "\xc3\xa9t\xc3\xa9",                                             // été
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x82\xad\xe3\x83\xbc",  // 日本語キー
      "rocket \xf0\x9f\x9a\x80",                                       // 🚀, 4 bytes
      "\xc3\xbf\xc3\xbf\xc3\xbf",                                      // ÿÿÿ
      "it's $HOME \"quoted\" *",
      "-not-a-flag",
      "user-2147483647",
      "00000000-0000-4000-8000-000000000000",
      std::string(257, 'x'),
      std::string(1000, 'z'),
  };
  std::string mixed;
  for (int i = 0; i < 300; ++i) mixed += static_cast<char>('!' + i % 90);
  keys.push_back(mixed);
  for (int i = 0; i < 10; ++i) keys.push_back("key-" + std::to_string(i));
  keys.emplace_back("key-12345");
  keys.emplace_back("key-9999999");
  return keys;
}

// Runs the command and returns its standard output (standard error passes through) and exit code.
std::pair<std::string, int> run(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  std::string output;
  std::array<char, 4096> buffer{};
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) {
    output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  return {output, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(Murmur2JavaTest, MatchesKafkasUtilsMurmur2KeyByKey) {
  const std::filesystem::path libs = kafkaLibs();
  const std::filesystem::path jar = libs / ("kafka-clients-" + std::string(kKafkaVersion) + ".jar");
  ASSERT_TRUE(std::filesystem::exists(jar))
      << jar << " is missing: run scripts/bootstrap.sh to fetch Kafka's jars";

  const std::vector<std::string> keys = testKeys();
  // A UTF-8 locale: the JVM decodes its arguments with the locale's charset.
  std::string command =
      "LC_ALL=C.UTF-8 java -cp " + shellQuote((libs / "*").string()) + " " +
      shellQuote(std::string(EBB_SOURCE_DIR) + "/tools/kafka/Murmur2Vectors.java");
  for (const std::string& key : keys) command += " " + shellQuote(key);
  const auto [output, exitCode] = run(command);
  ASSERT_EQ(exitCode, 0) << "Murmur2Vectors.java failed (its error is above); it needs a JDK "
                            "(scripts/bootstrap.sh installs one) and Kafka's jars in "
                         << libs;

  std::istringstream lines(output);
  std::string line;
  size_t matched = 0;
  for (const std::string& key : keys) {
    ASSERT_TRUE(std::getline(lines, line)) << "no line for key \"" << key << "\" in:\n" << output;
    const size_t tab1 = line.find('\t');
    const size_t tab2 = line.find('\t', tab1 + 1);
    ASSERT_NE(tab2, std::string::npos) << "malformed line: " << line;
    // The key comes back as Java saw it: a mismatch means the bytes hashed were not these.
    ASSERT_EQ(line.substr(0, tab1), key) << "argument decoded differently by the JVM";
    const auto javaHash = static_cast<int32_t>(std::stol(line.substr(tab1 + 1, tab2 - tab1 - 1)));
    const int javaPartition = std::stoi(line.substr(tab2 + 1));
    const int32_t hash = murmur2(key);
    EXPECT_EQ(hash, javaHash) << "key \"" << key << "\" (" << key.size() << " bytes)";
    EXPECT_EQ(toPositive(hash) % kPartitions, javaPartition) << "key \"" << key << "\"";
    if (hash == javaHash && toPositive(hash) % kPartitions == javaPartition) ++matched;
  }
  EXPECT_FALSE(std::getline(lines, line)) << "unexpected extra output: " << line;
  std::cout << matched << " of " << keys.size() << " keys match Kafka " << kKafkaVersion
            << " Utils.murmur2 and its partition of " << kPartitions << "\n";
  EXPECT_EQ(matched, keys.size());
}

}  // namespace
}  // namespace ebb::partition
