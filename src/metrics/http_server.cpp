#include "ebb/metrics/http_server.h"

#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
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
  std::atomic<bool> listenerExited{false};
  int port = 0;
};

HttpServer::HttpServer(const Endpoint& endpoint, std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>()) {
  auto& server = impl_->server;
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second process bind the same port and
  // take half the scrapes: a taken port must be an error.
  server.set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
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
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->server.listen_after_bind();
    impl->listenerExited.store(true);
  });
  // cpp-httplib's stop() does nothing until the listener runs: return only once it does, so that
  // a destructor right after (start-up failing later) stops it instead of waiting forever.
  while (!server.is_running() && !impl_->listenerExited.load()) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  spdlog::info("serving /metrics, /healthz and /readyz on http://{}:{}", endpoint.host,
               impl_->port);
}

HttpServer::~HttpServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace ebb::metrics
