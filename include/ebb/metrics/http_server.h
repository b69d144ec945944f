// The HTTP endpoints every ebb service serves with --http ADDR:PORT: /metrics (Prometheus text
// format from a prometheus-cpp registry), /healthz (the process is alive) and /readyz (it is
// connected; for a consumer, a member of its group).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace ebb::metrics {

struct Endpoint {
  std::string host;
  int port = 0;  // 0: any free port
};

// Parses "HOST:PORT" or ":PORT" (all interfaces); throws std::invalid_argument naming `flag` when
// malformed.
Endpoint parseEndpoint(std::string_view text, std::string_view flag = "--http");

class HttpServer {
 public:
  // Binds at once (throws std::runtime_error naming the address if it cannot) and serves on a
  // background thread until destroyed.
  HttpServer(const Endpoint& endpoint, std::shared_ptr<prometheus::Registry> registry);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  int port() const;  // the bound port (useful with port 0)
  void setReady(bool ready) { ready_.store(ready); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> ready_{false};
};

}  // namespace ebb::metrics
