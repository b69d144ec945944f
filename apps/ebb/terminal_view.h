// The terminal side of `ebb demo`: the live screen (or plain lines when stdout is not a
// terminal), the log file that keeps spdlog off that screen, and the closing summary table.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ebb/demo/demo_view.h"
#include "ebb/report/summary.h"

namespace spdlog {
class logger;
}

namespace ebb::app {

// The screen or the log lines on stdout, whichever it is. The cursor is hidden while a run is on
// screen and comes back at finish() (and when this is dropped).
class TerminalView final : public demo::DemoView {
 public:
  explicit TerminalView(bool live) : live_(live) {}
  ~TerminalView() override;
  TerminalView(const TerminalView&) = delete;
  TerminalView& operator=(const TerminalView&) = delete;

  void show(const demo::ViewState& state) override;
  // In plain mode a line of its own (the screen shows it already).
  void note(const std::string& text) override;
  void print(const std::string& text) override;
  void finish() override;

 private:
  bool live_;
  bool cursorHidden_ = false;
  size_t drawn_ = 0;  // lines of the last screen, which the next one overwrites
  std::chrono::steady_clock::time_point lastLine_{};
  std::string lastPhase_;
};

// spdlog to `file` while it lives (the screen is ours), and warnings also to stderr when there
// is no screen to spoil; the previous default logger comes back when it is dropped.
class DemoLog {
 public:
  DemoLog(const std::filesystem::path& file, bool live);
  ~DemoLog();
  DemoLog(const DemoLog&) = delete;
  DemoLog& operator=(const DemoLog&) = delete;

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

// The runs side by side, one row per figure (report::summaryTable), in columns for a terminal.
std::string summaryText(const std::vector<report::Summary>& runs);

}  // namespace ebb::app
