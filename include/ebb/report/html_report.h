// The demo's report on disk: timeseries.csv, summary.json, and report.html with timeline charts
// that gnuplot draws as SVG and the page carries inline (one file that opens offline).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ebb/report/summary.h"
#include "ebb/report/timeline.h"

namespace ebb::report {

struct RunReport {
  Summary summary;
  std::vector<Sample> samples;
  std::vector<ScaleEvent> events;
  std::vector<std::string> notes;  // shown under the run's settings (why they are what they are)
};

struct ReportInput {
  std::string title;
  std::vector<std::pair<std::string, std::string>> setup;  // label, value: the run's parameters
  std::vector<RunReport> runs;                             // one per policy, in the order run
  std::vector<std::pair<std::string, std::string>> files;  // path relative to the report, what
  std::string gnuplot = "gnuplot";                         // the program that draws the charts
};

struct ReportFiles {
  std::filesystem::path html;
  std::filesystem::path csv;
  std::filesystem::path json;
};

// Writes DIR/timeseries.csv and DIR/summary.json, then the charts (DIR/charts/NAME.dat, .gp and,
// drawn by gnuplot, .svg) and DIR/report.html. Throws std::runtime_error saying what failed; when
// gnuplot fails, its messages are in DIR/charts/gnuplot.log and the CSV and JSON are written.
ReportFiles writeReport(const std::filesystem::path& dir, const ReportInput& input);

}  // namespace ebb::report
