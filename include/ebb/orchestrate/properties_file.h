// Client properties handed to child processes through a file only their user can read, never
// their argv (which every user of the machine can read in /proc/PID/cmdline).
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace ebb::orchestrate {

class PropertiesFile {
 public:
  // Writes key=value lines to a new file of mode 0600 in the temporary directory; throws
  // std::runtime_error when it cannot, std::invalid_argument for a value with a line break.
  explicit PropertiesFile(const std::map<std::string, std::string>& properties);
  PropertiesFile(const PropertiesFile&) = delete;
  PropertiesFile& operator=(const PropertiesFile&) = delete;
  ~PropertiesFile();  // removes the file

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ebb::orchestrate
