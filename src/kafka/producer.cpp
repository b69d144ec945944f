#include "ebb/kafka/producer.h"

#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "handle.h"

namespace ebb::kafka {
namespace detail {
struct ProducerCallbacks {
  DeliveryHandler* handler;
  ProducerStatistics* statistics;
  std::atomic<int64_t>* unreported;  // the producer's count of messages sent, not yet reported
};
}  // namespace detail

// One librdkafka producer client: its own connection to each broker and its own window.
struct Producer::Client {
  // What librdkafka's callbacks reach (declared before handle: it outlives the callbacks).
  ProducerStatistics statistics;
  detail::ProducerCallbacks callbacks;
  struct Destroy {
    void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
  };
  std::unique_ptr<rd_kafka_t, Destroy> handle;
};

namespace {

constexpr size_t kMaxHeaders = 8;

// Runs on the thread that calls poll()/flush(); hands the report over without throwing.
void deliveryCallback(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message, void* opaque) {
  const auto* callbacks = static_cast<detail::ProducerCallbacks*>(opaque);
  callbacks->unreported->fetch_sub(1, std::memory_order_relaxed);
  auto* handler = callbacks->handler;
  if (handler == nullptr) return;
  handler->onDelivery(Delivery{
      .error = detail::toError(message->err),
      .partition = message->partition,
      .offset = message->offset,
      .token = reinterpret_cast<uintptr_t>(message->_private),
  });
}

// librdkafka's statistics JSON: brokers.<name>.req.Produce counts the ProduceRequests sent to each.
int statisticsCallback(rd_kafka_t* /*handle*/, char* json, size_t length, void* opaque) {
  auto* statistics = static_cast<detail::ProducerCallbacks*>(opaque)->statistics;
  try {
    const auto document = nlohmann::json::parse(std::string_view(json, length));
    uint64_t requests = 0;
    for (const auto& broker : document.value("brokers", nlohmann::json::object())) {
      requests += broker.value("req", nlohmann::json::object()).value("Produce", uint64_t{0});
    }
    statistics->produceRequests = requests;
    statistics->idempotenceState =
        document.value("eos", nlohmann::json::object()).value("idemp_state", std::string());
    ++statistics->readings;
  } catch (const std::exception& error) {
    spdlog::debug("unreadable librdkafka statistics: {}", error.what());
  }
  return 0;  // librdkafka frees the JSON
}

}  // namespace

std::map<std::string, std::string> selfClockingDefaults(const ClientConfig& config) {
  // No linger and one request in flight per broker connection: a message goes out at once when the
  // connection is idle, and what arrives while a request is in flight waits for its response and
  // leaves as the next batch, so batches grow with the load and the broker's queue stays short
  // (Nagle's algorithm at the request level). Nagle's TCP algorithm is off: with one request in
  // flight it would hold a small request back for the delayed ACK of the previous one.
  std::map<std::string, std::string> defaults{
      {"linger.ms", "0"},
      {"max.in.flight.requests.per.connection", "1"},
      {"socket.nagle.disable", "true"},
  };
  // Idempotence (no duplicates, order kept across retries; librdkafka allows up to 5 in flight
  // with it) unless the user chose what it excludes: acks other than all, or a wider window.
  const auto& user = config.properties;
  const auto acks = user.find("acks");
  const auto window = user.find("max.in.flight.requests.per.connection");
  const bool weakAcks = acks != user.end() && acks->second != "all" && acks->second != "-1";
  bool wideWindow = false;
  if (window != user.end()) {
    try {
      wideWindow = std::stoll(window->second) > 5;
    } catch (const std::exception&) {  // librdkafka rejects the value with its own message
    }
  }
  if (!weakAcks && !wideWindow) defaults.emplace("enable.idempotence", "true");
  return defaults;
}

bool isQueueFull(const Error& error) { return error.code() == RD_KAFKA_RESP_ERR__QUEUE_FULL; }

Producer::Producer(const ClientConfig& config, DeliveryHandler* handler, int connections) {
  if (connections < 1 || connections > kMaxProducerConnections) {
    throw std::invalid_argument("producer connections must be 1.." +
                                std::to_string(kMaxProducerConnections) + ", not " +
                                std::to_string(connections));
  }
  const auto defaults = selfClockingDefaults(config);
  if (connections > 1) {
    wakeup_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeup_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  try {
    for (int i = 0; i < connections; ++i) {
      auto client = std::make_unique<Client>();
      // One client's statistics are the producer's: no summing.
      client->callbacks = {.handler = handler,
                           .statistics = connections == 1 ? &statistics_ : &client->statistics,
                           .unreported = &unreported_};
      auto conf = detail::makeConf(config, defaults, RD_KAFKA_PRODUCER);
      rd_kafka_conf_set_dr_msg_cb(conf.get(), deliveryCallback);
      rd_kafka_conf_set_stats_cb(conf.get(), statisticsCallback);
      rd_kafka_conf_set_opaque(conf.get(), &client->callbacks);
      client->handle.reset(detail::createHandle(RD_KAFKA_PRODUCER, std::move(conf)));
      if (wakeup_ >= 0) {
        static constexpr uint64_t kOne = 1;
        rd_kafka_queue_t* queue = rd_kafka_queue_get_main(client->handle.get());
        rd_kafka_queue_io_event_enable(queue, wakeup_, &kOne, sizeof kOne);
        rd_kafka_queue_destroy(queue);
      }
      clients_.push_back(std::move(client));
    }
  } catch (...) {
    clients_.clear();
    if (wakeup_ >= 0) close(wakeup_);
    throw;
  }
}

Producer::~Producer() {
  clients_.clear();  // the clients write to wakeup_ until they are gone
  if (wakeup_ >= 0) close(wakeup_);
}

bool Producer::idempotent() const {
  std::array<char, 16> value{};
  size_t size = value.size();
  return rd_kafka_conf_get(rd_kafka_conf(clients_.front()->handle.get()), "enable.idempotence",
                           value.data(), &size) == RD_KAFKA_CONF_OK &&
         std::string_view(value.data()) == "true";
}

Producer::Client& Producer::clientFor(int32_t partition, std::optional<std::string_view> key) {
  const size_t count = clients_.size();
  if (count == 1) return *clients_.front();
  if (partition >= 0) return *clients_[static_cast<size_t>(partition) % count];
  if (key.has_value()) return *clients_[std::hash<std::string_view>{}(*key) % count];
  return *clients_[nextUnkeyed_++ % count];
}

Error Producer::send(const std::string& topic, int32_t partition,
                     std::optional<std::string_view> key, std::string_view payload,
                     std::span<const Header> headers, uint64_t token) {
  if (headers.size() > kMaxHeaders) {
    return Error(RD_KAFKA_RESP_ERR__INVALID_ARG, "too many headers");
  }
  // produceva takes a stack array of fields: no allocation per message besides librdkafka's copy.
  std::array<rd_kafka_vu_t, 6 + kMaxHeaders> fields{};
  size_t count = 0;
  fields[count].vtype = RD_KAFKA_VTYPE_TOPIC;
  fields[count++].u.cstr = topic.c_str();
  fields[count].vtype = RD_KAFKA_VTYPE_PARTITION;
  fields[count++].u.i32 = partition;
  fields[count].vtype = RD_KAFKA_VTYPE_VALUE;
  fields[count].u.mem.ptr = const_cast<char*>(payload.data());
  fields[count++].u.mem.size = payload.size();
  fields[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  fields[count++].u.i = RD_KAFKA_MSG_F_COPY;
  fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE;
  fields[count++].u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
  if (key.has_value()) {
    fields[count].vtype = RD_KAFKA_VTYPE_KEY;
    fields[count].u.mem.ptr = const_cast<char*>(key->data());
    fields[count++].u.mem.size = key->size();
  }
  for (const auto& header : headers) {
    fields[count].vtype = RD_KAFKA_VTYPE_HEADER;
    fields[count].u.header.name = header.name;
    fields[count].u.header.val = header.value.data();
    fields[count++].u.header.size = static_cast<ssize_t>(header.value.size());
  }
  // Counted before the call: a report can be served on another thread before produceva returns.
  unreported_.fetch_add(1, std::memory_order_relaxed);
  auto error = detail::takeError(
      rd_kafka_produceva(clientFor(partition, key).handle.get(), fields.data(), count));
  if (error) unreported_.fetch_sub(1, std::memory_order_relaxed);
  return error;
}

int Producer::serveAll() {
  int served = 0;
  for (const auto& client : clients_) served += rd_kafka_poll(client->handle.get(), 0);
  return served;
}

void Producer::sumStatistics() {
  if (clients_.size() == 1) return;
  ProducerStatistics sum{.readings = UINT64_MAX};
  for (const auto& client : clients_) {
    sum.produceRequests += client->statistics.produceRequests;
    sum.readings = std::min(sum.readings, client->statistics.readings);  // every client's new
    if (sum.idempotenceState.empty() || client->statistics.idempotenceState != "Assigned") {
      sum.idempotenceState = client->statistics.idempotenceState;  // Assigned once all are
    }
  }
  statistics_ = std::move(sum);
}

int Producer::poll(std::chrono::milliseconds timeout) {
  int served = 0;
  if (wakeup_ < 0) {
    served = rd_kafka_poll(clients_.front()->handle.get(), static_cast<int>(timeout.count()));
  } else {
    served = serveAll();
    if (served == 0 && timeout.count() > 0) {
      pollfd wait{.fd = wakeup_, .events = POLLIN, .revents = 0};
      ::poll(&wait, 1, static_cast<int>(timeout.count()));
      uint64_t drained = 0;
      [[maybe_unused]] const auto bytes = read(wakeup_, &drained, sizeof drained);
      served = serveAll();
    }
  }
  sumStatistics();
  return served;
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool flushed = true;
  for (const auto& client : clients_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    flushed = rd_kafka_flush(client->handle.get(),
                             static_cast<int>(std::max<int64_t>(0, left.count()))) ==
                  RD_KAFKA_RESP_ERR_NO_ERROR &&
              flushed;
  }
  sumStatistics();
  return flushed;
}

// Counted by ebb, not rd_kafka_outq_len(): that one adds every event waiting in a client's queue,
// statistics included, so a flushed producer with statistics on could still count some.
int Producer::outstanding() const {
  return static_cast<int>(unreported_.load(std::memory_order_relaxed));
}

}  // namespace ebb::kafka
