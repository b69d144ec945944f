#include "ebb/kafka/share_admin.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ebb/kafka/share_consumer.h"
#include "ebb/orchestrate/process.h"

extern char** environ;

namespace ebb::kafka {
namespace {

constexpr const char* kHelperName = "ebb-share-admin";
// Beyond the clients' own timeout: the helper retries a request twice before it answers.
constexpr std::chrono::milliseconds kHelperSlack{5000};

// What the broker answers when share groups are off (share.version 0) or unknown to it.
bool shareGroupsUnsupported(const std::string& code) {
  return code == "UNSUPPORTED_VERSION" || code == "INVALID_REQUEST";
}

TopicPartition partitionOf(const nlohmann::json& row) {
  return {row.at("topic").get<std::string>(), row.at("partition").get<int32_t>()};
}

ShareGroupDescription parseDescription(const std::string& group, const nlohmann::json& answer) {
  ShareGroupDescription result;
  result.groupId = group;
  result.state = answer.value("state", "");
  for (const auto& m : answer.at("members")) {
    GroupMember member{.memberId = m.value("member_id", ""),
                       .clientId = m.value("client_id", ""),
                       .host = m.value("host", "")};
    for (const auto& tp : m.at("assignment")) member.assignment.push_back(partitionOf(tp));
    result.members.push_back(std::move(member));
  }
  for (const auto& row : answer.at("offsets")) {
    if (const auto error = row.value("error", ""); !error.empty()) {
      throw KafkaError(fmt::format("share group '{}', {}-{}: {}", group,
                                   row.at("topic").get<std::string>(),
                                   row.at("partition").get<int32_t>(), error));
    }
    result.offsets[partitionOf(row)] = {.startOffset = row.at("start_offset").get<int64_t>(),
                                        .lag = row.at("lag").get<int64_t>()};
  }
  return result;
}

}  // namespace

std::optional<std::string> findShareAdminHelper() {
  if (const char* path = std::getenv("EBB_SHARE_ADMIN"); path != nullptr && *path != '\0') {
    return orchestrate::findExecutable(path);
  }
  const auto beside =
      std::filesystem::path(orchestrate::selfExecutable()).parent_path() / kHelperName;
  if (::access(beside.c_str(), X_OK) == 0) return beside.string();
#ifdef EBB_SHARE_ADMIN_BUILT
  if (::access(EBB_SHARE_ADMIN_BUILT, X_OK) == 0) return std::string(EBB_SHARE_ADMIN_BUILT);
#endif
  return orchestrate::findExecutable(kHelperName);
}

ShareGroupAdmin::ShareGroupAdmin(const ClientConfig& config)
    : config_(config), timeout_(config.socketTimeout + kHelperSlack) {
  start();
}

void ShareGroupAdmin::start() {
  const auto helper = findShareAdminHelper();
  if (!helper) {
    throw KafkaError(fmt::format(
        "share groups need the {} helper (built with ebb; set EBB_SHARE_ADMIN to its path)",
        kHelperName));
  }
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    throw KafkaError(fmt::format("cannot start {}: {}", kHelperName, std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ends[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, ends[1], STDOUT_FILENO);
  std::string path = *helper;
  char* argv[] = {path.data(), nullptr};
  const int failed = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(ends[1]);
  socket_ = ends[0];
  if (failed != 0) {
    pid_ = -1;
    helperFailed(fmt::format("cannot start {}: {}", path, std::strerror(failed)));
  }
  nlohmann::json properties = config_.effective();
  properties["socket.timeout.ms"] = std::to_string(config_.socketTimeout.count());
  const auto answer =
      nlohmann::json::parse(exchange(nlohmann::json{{"properties", properties}}.dump()));
  if (!answer.value("ok", false)) {
    helperFailed(fmt::format("share groups: {}", answer.value("error", "configuration refused")));
  }
}

ShareGroupAdmin::~ShareGroupAdmin() {
  if (socket_ >= 0) ::close(socket_);  // the helper exits at the end of its input
  if (pid_ > 0) {
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      ::usleep(20'000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ShareGroupAdmin::helperFailed(const std::string& what) {
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  throw KafkaError(what);
}

std::string ShareGroupAdmin::exchange(const std::string& line) {
  const std::string request = line + "\n";
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(socket_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) helperFailed(fmt::format("{} stopped answering", kHelperName));
    sent += static_cast<size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    if (const auto end = buffered_.find('\n'); end != std::string::npos) {
      std::string answer = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      return answer;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{.fd = socket_, .events = POLLIN, .revents = 0};
    const int polled = left.count() > 0 ? ::poll(&ready, 1, static_cast<int>(left.count())) : 0;
    if (polled < 0 && errno == EINTR) continue;
    if (polled == 0) {
      helperFailed(fmt::format("{} did not answer within {} ms", kHelperName, timeout_.count()));
    }
    char chunk[65536];
    const ssize_t n = ::recv(socket_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) helperFailed(fmt::format("{} exited without answering", kHelperName));
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

ShareGroupDescription ShareGroupAdmin::describe(const std::string& group) {
  return ask("describe", group);
}

ShareGroupDescription ShareGroupAdmin::members(const std::string& group) {
  return ask("members", group);
}

ShareGroupDescription ShareGroupAdmin::ask(const std::string& op, const std::string& group) {
  if (socket_ < 0) start();
  const auto answer =
      nlohmann::json::parse(exchange(nlohmann::json{{"op", op}, {"group", group}}.dump()));
  if (answer.value("ok", false)) return parseDescription(group, answer);
  const std::string code = answer.value("code", "");
  const std::string error = answer.value("error", "no answer");
  if (code == "GROUP_ID_NOT_FOUND") return {.groupId = group, .state = "Dead"};
  if (shareGroupsUnsupported(code)) {
    throw KafkaError(fmt::format("the cluster does not serve share groups ({}): {}", error,
                                 shareGroupsUnavailableHint()));
  }
  throw KafkaError(fmt::format("share group '{}': {}", group, error));
}

}  // namespace ebb::kafka
