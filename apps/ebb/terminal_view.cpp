#include "terminal_view.h"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "live_view.h"

namespace ebb::app {
namespace {

using namespace std::chrono_literals;

// Plain output: a line this often, and on every phase change.
constexpr auto kPlainEvery = 5s;

int terminalWidth() {
  winsize size{};
  return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0
             ? static_cast<int>(size.ws_col)
             : 100;
}

}  // namespace

TerminalView::~TerminalView() { finish(); }

void TerminalView::show(const demo::ViewState& state) {
  if (live_) {
    if (!cursorHidden_) {
      std::cout << "\x1b[?25l";  // no cursor blinking through the view
      cursorHidden_ = true;
    }
    const std::string screen = renderView(state, std::min(terminalWidth(), 140), true);
    std::string frame;
    if (drawn_ > 0) frame += fmt::format("\x1b[{}A\r", drawn_);
    size_t lines = 0;
    for (size_t start = 0; start < screen.size();) {
      const size_t end = screen.find('\n', start);
      frame += screen.substr(start, end - start) + "\x1b[K\n";
      ++lines;
      start = end + 1;
    }
    frame += "\x1b[J";
    drawn_ = lines;
    std::cout << frame << std::flush;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - lastLine_ >= kPlainEvery || state.phase != lastPhase_) {
    std::cout << "[ebb demo] " << renderLine(state) << std::endl;
    lastLine_ = now;
    lastPhase_ = state.phase;
  }
}

void TerminalView::note(const std::string& text) {
  if (!live_) std::cout << "[ebb demo] " << text << std::endl;
}

void TerminalView::print(const std::string& text) {
  drawn_ = 0;
  std::cout << text << std::flush;
}

void TerminalView::finish() {
  if (live_ && cursorHidden_) std::cout << "\x1b[?25h" << std::flush;
  cursorHidden_ = false;
  // The next run draws below this one's last screen.
  drawn_ = 0;
}

DemoLog::DemoLog(const std::filesystem::path& file, bool live)
    : previous_(spdlog::default_logger()) {
  std::vector<spdlog::sink_ptr> sinks{
      std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string())};
  sinks.front()->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l %v");
  if (!live) {
    auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err->set_level(spdlog::level::warn);
    err->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    sinks.push_back(err);
  }
  auto logger = std::make_shared<spdlog::logger>("ebb-demo", sinks.begin(), sinks.end());
  logger->set_level(std::min(previous_->level(), spdlog::level::info));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

DemoLog::~DemoLog() { spdlog::set_default_logger(previous_); }

std::string summaryText(const std::vector<report::Summary>& runs) {
  const auto rows = report::summaryTable(runs);
  size_t labelWidth = 0;
  for (const auto& row : rows) labelWidth = std::max(labelWidth, columns(row.label));
  std::string table = "\n";
  table += fmt::format("{:<{}}", "", labelWidth + 2);
  for (const auto& s : runs) table += fmt::format("  {:>24}", s.facts.policy);
  table += "\n";
  for (const auto& row : rows) {
    table += row.label + std::string(labelWidth + 2 - columns(row.label), ' ');
    for (const auto& value : row.values) {
      table += std::string(2 + (columns(value) < 24 ? 24 - columns(value) : 0), ' ') + value;
    }
    table += "\n";
  }
  return table;
}

}  // namespace ebb::app
