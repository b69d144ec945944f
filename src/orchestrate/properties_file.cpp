#include "ebb/orchestrate/properties_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ebb::orchestrate {

PropertiesFile::PropertiesFile(const std::map<std::string, std::string>& properties) {
  std::string text;
  for (const auto& [key, value] : properties) {
    if (key.find_first_of("\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument("client property '" + key +
                                  "' holds a line break: it cannot be passed on to replicas");
    }
    text += key + "=" + value + "\n";
  }
  std::string name = (std::filesystem::temp_directory_path() / "ebb-client-XXXXXX.properties");
  // mkstemps creates the file with mode 0600, so no other user can ever read it.
  const int fd = ::mkstemps(name.data(), static_cast<int>(std::string_view(".properties").size()));
  if (fd < 0) {
    throw std::runtime_error("cannot create a private properties file in " +
                             std::filesystem::temp_directory_path().string() + ": " +
                             std::strerror(errno));
  }
  path_ = name;
  size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
      throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(error));
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
}

PropertiesFile::~PropertiesFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace ebb::orchestrate
