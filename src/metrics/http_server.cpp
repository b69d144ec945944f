#include "ebb/metrics/http_server.h"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <stdexcept>
#include <thread>

namespace ebb::metrics {

Endpoint parseEndpoint(std::string_view text, std::string_view flag) {
  const auto colon = text.rfind(':');
  int port = -1;
  if (colon != std::string_view::npos) {
    const auto digits = text.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size()) port = -1;
  }
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("expected HOST:PORT or :PORT for " + std::string(flag) + ", got '" +
                                std::string(text) + "' (for example 127.0.0.1:9100)");
  }
  std::string host(text.substr(0, colon));
  return {host.empty() ? "0.0.0.0" : host, port};
}

struct HttpServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

HttpServer::HttpServer(const Endpoint& endpoint, std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>()) {
  auto& server = impl_->server;
  server.Get("/metrics", [registry](const httplib::Request&, httplib::Response& response) {
    const prometheus::TextSerializer serializer;
    response.set_content(serializer.Serialize(registry->Collect()),
                         "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    const bool ready = ready_.load();
    response.status = ready ? 200 : 503;
    response.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
  });
  impl_->port = endpoint.port == 0
                    ? server.bind_to_any_port(endpoint.host)
                    : (server.bind_to_port(endpoint.host, endpoint.port) ? endpoint.port : -1);
  if (impl_->port < 0) {
    throw std::runtime_error("cannot listen on " + endpoint.host + ":" +
                             std::to_string(endpoint.port) + " (address in use or not local?)");
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  spdlog::info("serving /metrics, /healthz and /readyz on http://{}:{}", endpoint.host,
               impl_->port);
}

HttpServer::~HttpServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace ebb::metrics
