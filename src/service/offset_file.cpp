#include "ebb/service/offset_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ebb::service {

OffsetMap loadOffsets(const std::filesystem::path& path) {
  OffsetMap offsets;
  std::ifstream in(path);
  if (!in) return offsets;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    kafka::TopicPartition tp;
    int64_t offset = -1;
    std::string extra;
    if (!(fields >> tp.topic >> tp.partition >> offset) || (fields >> extra) || tp.partition < 0 ||
        offset < 0) {
      throw std::runtime_error(path.string() + ":" + std::to_string(number) +
                               ": expected 'topic partition offset', got '" + line + "'");
    }
    offsets[tp] = offset;
  }
  return offsets;
}

void saveOffsets(const std::filesystem::path& path, const OffsetMap& offsets) {
  std::ostringstream text;
  for (const auto& [tp, offset] : offsets) {
    text << tp.topic << ' ' << tp.partition << ' ' << offset << '\n';
  }
  const std::string content = text.str();
  const auto temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write offsets to " + temporary);
  const bool written =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot write offsets to " + path.string());
  }
}

}  // namespace ebb::service
