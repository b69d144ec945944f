#include "ebb/keda/recommendation.h"

#include <fmt/format.h>

namespace ebb::keda {

Answer answerAt(const std::optional<Recommendation>& latest, Clock::time_point now,
                std::chrono::milliseconds staleAfter) {
  if (!latest) return {std::nullopt, "no lag reading yet: the first one is on its way"};
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - latest->at);
  if (age > staleAfter) {
    return {std::nullopt,
            fmt::format("the last lag reading is {:.1f} s old (limit {:.1f} s): the cluster "
                        "cannot be read, see the scaler's log",
                        static_cast<double>(age.count()) / 1e3,
                        static_cast<double>(staleAfter.count()) / 1e3)};
  }
  return {latest, ""};
}

std::string metadataMismatch(const std::map<std::string, std::string>& metadata,
                             const ScalerTarget& target) {
  const auto differs = [&](const char* key, const std::string& ours) -> std::string {
    const auto it = metadata.find(key);
    if (it == metadata.end() || it->second == ours) return "";
    return fmt::format("the trigger's {} is '{}', but this scaler serves group '{}' on topic '{}'",
                       key, it->second, target.group, target.topic);
  };
  if (auto why = differs("topic", target.topic); !why.empty()) return why;
  return differs("consumerGroup", target.group);
}

bool isOurMetric(std::string_view name) {
  if (name == kMetricName) return true;
  // "s<digits>-" + our name.
  if (name.size() <= kMetricName.size() + 2 || name.front() != 's') return false;
  const auto prefix = name.substr(0, name.size() - kMetricName.size());
  if (name.substr(prefix.size()) != kMetricName || prefix.back() != '-') return false;
  const auto digits = prefix.substr(1, prefix.size() - 2);
  return !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
}

void RecommendationBoard::publish(Recommendation recommendation) {
  {
    std::lock_guard lock(mutex_);
    latest_ = std::move(recommendation);
  }
  changed_.notify_all();
}

std::optional<Recommendation> RecommendationBoard::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::optional<Recommendation> RecommendationBoard::waitForActivityChange(
    std::optional<bool> known, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] {
    return closed_ || (latest_ && (!known || latest_->active() != *known));
  });
  return latest_;
}

void RecommendationBoard::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool RecommendationBoard::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace ebb::keda
