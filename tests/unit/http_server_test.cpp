// HttpServer's lifetime: destroyed at once after construction (as when start-up fails right after
// --http is bound), it stops instead of serving forever.
#include "ebb/metrics/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include <chrono>
#include <future>
#include <thread>

namespace ebb::metrics {
namespace {

using namespace std::chrono_literals;

TEST(HttpServerTest, DestroyedRightAfterConstructionStops) {
  auto registry = std::make_shared<prometheus::Registry>();
  std::promise<void> done;
  auto finished = done.get_future();
  // Detached, so a hang fails the test instead of blocking it forever.
  std::thread([registry, done = std::move(done)]() mutable {
    for (int i = 0; i < 200; ++i) {
      const HttpServer server({"127.0.0.1", 0}, registry);
    }
    done.set_value();
  }).detach();
  ASSERT_EQ(finished.wait_for(30s), std::future_status::ready)
      << "an HttpServer destroyed right after construction never stopped";
}

TEST(HttpServerTest, ServesOnceConstructed) {
  const HttpServer server({"127.0.0.1", 0}, std::make_shared<prometheus::Registry>());
  httplib::Client client("127.0.0.1", server.port());
  const auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  const auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
}

TEST(HttpServerTest, TakenPortIsAClearError) {
  const HttpServer first({"127.0.0.1", 0}, std::make_shared<prometheus::Registry>());
  try {
    const HttpServer second({"127.0.0.1", first.port()}, std::make_shared<prometheus::Registry>());
    FAIL() << "a second server bound the same port";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot listen on 127.0.0.1:"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace ebb::metrics
