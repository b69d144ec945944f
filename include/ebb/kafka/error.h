// Errors from Kafka clients: a value for failures the caller handles at run time, an exception for
// failures at start-up (bad config, unreachable cluster) that should stop the program with a hint.
#pragma once

#include <stdexcept>
#include <string>

namespace ebb::kafka {

class Error {
 public:
  Error() = default;
  Error(int code, std::string message, bool fatal = false, bool retriable = false)
      : code_(code), message_(std::move(message)), fatal_(fatal), retriable_(retriable) {}

  // librdkafka's rd_kafka_resp_err_t value; 0 means no error.
  int code() const { return code_; }
  const std::string& message() const { return message_; }
  bool isFatal() const { return fatal_; }
  bool isRetriable() const { return retriable_; }
  explicit operator bool() const { return code_ != 0; }

 private:
  int code_ = 0;
  std::string message_;
  bool fatal_ = false;
  bool retriable_ = false;
};

// Thrown where continuing makes no sense; what() says what failed and what to do about it.
class KafkaError : public std::runtime_error {
 public:
  KafkaError(const std::string& what, Error error = {})
      : std::runtime_error(what), error_(std::move(error)) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

}  // namespace ebb::kafka
