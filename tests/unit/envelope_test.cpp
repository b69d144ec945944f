#include "ebb/latency/envelope.h"

#include <gtest/gtest.h>

namespace ebb::latency {
namespace {

TEST(EnvelopeTest, RoundTripsThroughDecimalHeaders) {
  const DecimalField seq(42);
  const DecimalField sent(1'795'000'000'123'456'789);
  const auto envelope = parseEnvelope(seq.view(), sent.view(), std::string_view("p-1"));
  ASSERT_TRUE(envelope.has_value());
  EXPECT_EQ(envelope->seq, 42u);
  EXPECT_EQ(envelope->sendTimeNanos, 1'795'000'000'123'456'789);
  EXPECT_EQ(envelope->producerId, "p-1");
}

TEST(EnvelopeTest, MalformedOrMissingHeadersGiveNothing) {
  const std::string_view producer("p");
  EXPECT_FALSE(parseEnvelope(std::nullopt, "1", producer));
  EXPECT_FALSE(parseEnvelope("1", std::nullopt, producer));
  EXPECT_FALSE(parseEnvelope("1", "1", std::nullopt));
  EXPECT_FALSE(parseEnvelope("x1", "100", producer));
  EXPECT_FALSE(parseEnvelope("1", "100ms", producer));
  EXPECT_FALSE(parseEnvelope("1", "-5", producer));
  EXPECT_FALSE(parseEnvelope("", "100", producer));
  EXPECT_FALSE(parseEnvelope("1", "100", std::string_view()));
  EXPECT_FALSE(parseEnvelope("99999999999999999999999", "100", producer));
}

}  // namespace
}  // namespace ebb::latency
