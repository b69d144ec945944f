#include "ebb/kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include <spdlog/spdlog.h>
#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "handle.h"

namespace ebb::kafka {
namespace detail {
struct ProducerCallbacks {
  DeliveryHandler* handler;
  ProducerStatistics* statistics;
};
}  // namespace detail
namespace {

constexpr size_t kMaxHeaders = 8;

// Runs on the thread that calls poll()/flush(); hands the report over without throwing.
void deliveryCallback(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message, void* opaque) {
  auto* handler = static_cast<detail::ProducerCallbacks*>(opaque)->handler;
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

Producer::Producer(const ClientConfig& config, DeliveryHandler* handler) {
  auto conf = detail::makeConf(config, selfClockingDefaults(config), RD_KAFKA_PRODUCER);
  callbacks_ = std::make_unique<detail::ProducerCallbacks>(
      detail::ProducerCallbacks{.handler = handler, .statistics = &statistics_});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), deliveryCallback);
  rd_kafka_conf_set_stats_cb(conf.get(), statisticsCallback);
  rd_kafka_conf_set_opaque(conf.get(), callbacks_.get());
  handle_.reset(detail::createHandle(RD_KAFKA_PRODUCER, std::move(conf)));
}

Producer::~Producer() = default;

bool Producer::idempotent() const {
  std::array<char, 16> value{};
  size_t size = value.size();
  return rd_kafka_conf_get(rd_kafka_conf(handle_.get()), "enable.idempotence", value.data(),
                           &size) == RD_KAFKA_CONF_OK &&
         std::string_view(value.data()) == "true";
}

void Producer::Destroy::operator()(rd_kafka_s* handle) const { rd_kafka_destroy(handle); }

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
  return detail::takeError(rd_kafka_produceva(handle_.get(), fields.data(), count));
}

int Producer::poll(std::chrono::milliseconds timeout) {
  return rd_kafka_poll(handle_.get(), static_cast<int>(timeout.count()));
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count())) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

int Producer::outstanding() const { return rd_kafka_outq_len(handle_.get()); }

}  // namespace ebb::kafka
