// The live view's text: ANSI colours and column counting for a terminal.
#include "live_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ebb::app {
namespace {

using demo::clock;

constexpr const char* kReset = "\x1b[0m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kCyan = "\x1b[36m";

// 12345 -> "12,345"; rates rounded.
std::string grouped(double value) {
  const auto rounded = static_cast<int64_t>(std::llround(std::max(0.0, value)));
  std::string digits = std::to_string(rounded);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(static_cast<size_t>(at), ",");
  }
  return digits;
}

std::string ms(const std::optional<double>& value) {
  if (!value) return "–";
  if (*value >= 10'000) return fmt::format("{:.1f} s", *value / 1000);
  if (*value >= 100) return fmt::format("{:.0f} ms", *value);
  return fmt::format("{:.1f} ms", *value);
}

std::string bar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int full = static_cast<int>(std::lround(fraction * width));
  std::string text;
  for (int i = 0; i < width; ++i) text += i < full ? "█" : "░";
  return text;
}

// Cuts `text` to `width` columns without splitting a UTF-8 sequence (escapes count as none).
std::string fit(const std::string& text, size_t width) {
  std::string out;
  size_t used = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b') {
      const auto end = text.find('m', i);
      const size_t stop = end == std::string::npos ? text.size() : end + 1;
      out.append(text, i, stop - i);
      i = stop;
      continue;
    }
    size_t length = 1;
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead >= 0xF0) {
      length = 4;
    } else if (lead >= 0xE0) {
      length = 3;
    } else if (lead >= 0xC0) {
      length = 2;
    }
    if (used + 1 > width) break;
    out.append(text, i, std::min(length, text.size() - i));
    ++used;
    i += length;
  }
  return out;
}

// Words of `text` in lines of at most `width` columns, at most `maxLines` (the last cut with …).
std::vector<std::string> wrap(const std::string& text, size_t width, size_t maxLines) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  bool cut = false;
  // Words longer than a line are split into pieces that fit.
  std::vector<std::string> words;
  while (start < text.size()) {
    const size_t space = text.find(' ', start);
    const size_t end = space == std::string::npos ? text.size() : space;
    std::string word = text.substr(start, end - start);
    start = end + 1;
    while (columns(word) > width) {
      std::string piece = fit(word, width);
      word.erase(0, piece.size());
      words.push_back(std::move(piece));
    }
    words.push_back(std::move(word));
  }
  for (const auto& word : words) {
    if (!line.empty() && columns(line) + 1 + columns(word) > width) {
      lines.push_back(line);
      line.clear();
      if (lines.size() == maxLines) {
        cut = true;
        break;
      }
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!cut && !line.empty()) lines.push_back(line);
  if (cut && !lines.empty()) lines.back() = fit(lines.back(), width - 1) + "…";
  for (auto& l : lines) l = fit(l, width);
  return lines;
}

}  // namespace

size_t columns(const std::string& text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b') {
      const auto end = text.find('m', i);
      if (end == std::string::npos) break;
      i = end;
      continue;
    }
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string renderView(const demo::ViewState& s, int width, bool color) {
  // Narrow terminals get lines cut short rather than wrapped (a wrapped line would break the
  // redraw, which moves the cursor up by the lines it drew).
  const auto w = static_cast<size_t>(std::max(width, 40));
  const auto paint = [&](const char* code, const std::string& text) {
    return color ? std::string(code) + text + kReset : text;
  };
  std::vector<std::string> lines;

  std::string title = paint(kBold, "ebb demo") + " · policy " + paint(kBold, s.policy);
  if (s.runs > 1) title += fmt::format(" (run {} of {})", s.run, s.runs);
  title += " · objective p99 ≤ " + ms(s.objectiveMs) + " · " + s.load;
  lines.push_back(title);

  const double fraction = s.duration > 0 ? s.elapsed / s.duration : 0;
  const int progressWidth = std::clamp(static_cast<int>(w) - 45, 5, 40);
  lines.push_back(fmt::format(
      "[{}] {} / {} · {} left · {}", paint(kCyan, bar(fraction, progressWidth)), clock(s.elapsed),
      clock(s.duration), clock(std::max(0.0, s.duration - s.elapsed)), paint(kBold, s.phase)));
  lines.emplace_back();

  lines.push_back(fmt::format("rates     target {:>7}/s   produced {:>7}/s   consumed {:>7}/s",
                              grouped(s.targetRate), grouped(s.produceRate),
                              grouped(s.consumeRate)));
  lines.push_back(
      fmt::format("lag       {} messages", paint(kBold, grouped(static_cast<double>(s.lag)))));

  // Partition bars, in two columns when there are many and room for them.
  const size_t partitions = s.partitionLag.size();
  if (partitions > 0) {
    const int64_t most = *std::max_element(s.partitionLag.begin(), s.partitionLag.end());
    // A floor on the scale, so a few messages in flight do not fill the bars.
    const double scale = static_cast<double>(std::max<int64_t>(most, 500));
    const size_t shown = std::min<size_t>(partitions, 32);
    const size_t cols = shown > 8 && w >= 90 ? 2 : 1;
    const size_t rows = (shown + cols - 1) / cols;
    const int barWidth = std::clamp(static_cast<int>(w / cols) - 22, 4, 24);
    for (size_t row = 0; row < rows; ++row) {
      std::string line;
      for (size_t col = 0; col < cols; ++col) {
        const size_t p = col * rows + row;
        if (p >= shown) continue;
        const auto lag = s.partitionLag[p];
        line += fmt::format("  p{:<3} {} {:>8}", p,
                            paint(kYellow, bar(static_cast<double>(lag) / scale, barWidth)),
                            grouped(static_cast<double>(lag)));
      }
      lines.push_back(line);
    }
    if (shown < partitions) {
      lines.push_back(fmt::format("  … and {} more partitions", partitions - shown));
    }
  }

  std::string boxes;
  const int32_t most = std::max(s.desired, s.running);
  for (int32_t i = 0; i < std::min(most, 32); ++i) boxes += i < s.running ? "■" : "□";
  lines.push_back(fmt::format("replicas  {} {} running · {} desired · {} in the group",
                              paint(kCyan, boxes), paint(kBold, std::to_string(s.running)),
                              s.desired, s.members));

  std::string verdict;
  if (s.p99Ms) {
    verdict = *s.p99Ms <= s.objectiveMs ? paint(kGreen, "✓ within the objective")
                                        : paint(kRed, "✗ over the objective");
  }
  lines.push_back(fmt::format("latency   p50 {}   p99 {}   {}", ms(s.p50Ms),
                              paint(kBold, ms(s.p99Ms)), verdict));
  lines.emplace_back();

  if (s.lastChange) {
    const auto& e = *s.lastChange;
    lines.push_back(
        fmt::format("last scale decision at {}: {} → {} replicas", clock(e.t), e.from, e.to));
    for (auto& line : wrap(e.reason, w - 3, 3)) lines.push_back("  " + paint(kDim, line));
  } else if (!s.lastReason.empty()) {
    lines.push_back("no scale decision yet; the policy says:");
    for (auto& line : wrap(s.lastReason, w - 3, 3)) lines.push_back("  " + paint(kDim, line));
  }
  lines.emplace_back();
  lines.push_back(paint(kDim, "Ctrl-C stops the run early; the report is still written."));

  std::string screen;
  for (const auto& line : lines) screen += fit(line, w - 1) + "\n";
  return screen;
}

std::string renderLine(const demo::ViewState& s) {
  std::string line = fmt::format(
      "{} / {} {} [{}] target {}/s produced {}/s consumed {}/s lag {} replicas {} running, {} "
      "desired, {} in the group; p50 {} p99 {} (objective {})",
      clock(s.elapsed), clock(s.duration), s.policy, s.phase, grouped(s.targetRate),
      grouped(s.produceRate), grouped(s.consumeRate), grouped(static_cast<double>(s.lag)),
      s.running, s.desired, s.members, ms(s.p50Ms), ms(s.p99Ms), ms(s.objectiveMs));
  return line;
}

}  // namespace ebb::app
