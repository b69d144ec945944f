// Everything the report writes to disk: CSV, JSON, gnuplot's data and script, and the HTML page
// that carries gnuplot's SVG charts inline. The figures themselves come from summary.cpp and
// timeline.cpp; this file only lays them out.
#include "ebb/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "ebb/orchestrate/process.h"

namespace ebb::report {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A string for a gnuplot single-quoted literal (a quote is doubled).
std::string quoteGnuplot(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// gnuplot reads NaN as undefined and breaks the line there; log scales need positive values.
std::string value(double v, bool positive = false) {
  if (!std::isfinite(v) || (positive && v <= 0)) return "NaN";
  return fmt::format("{:.3f}", v);
}

std::string dataFile(const std::vector<Sample>& samples) {
  std::string text =
      "# t target produced consumed lag desired running members p50_ms p99_ms max_ms count\n";
  for (const auto& s : samples) {
    const bool measured = s.latency.count > 0;
    text += fmt::format("{} {} {} {} {} {} {} {} {} {} {} {}\n", value(s.t), value(s.targetRate),
                        value(s.produceRate), value(s.consumeRate), s.lag, s.desired, s.running,
                        s.members, measured ? value(s.latency.p50Ms, true) : "NaN",
                        measured ? value(s.latency.p99Ms, true) : "NaN",
                        measured ? value(s.latency.maxMs, true) : "NaN", s.latency.count);
  }
  return text;
}

std::string policyColor(std::string_view policy, size_t index) {
  if (policy == "slo") return "#1b7837";
  if (policy == "keda") return "#2166ac";
  if (policy == "static") return "#762a83";
  static const char* const kOthers[] = {"#d95f02", "#e7298a", "#66a61e"};
  return kOthers[index % 3];
}

// Axis ranges shared by every chart, so runs compare at a glance.
struct Ranges {
  double xMax = 1;
  double rateMax = 1;
  double lagMax = 1;
  int replicasMax = 1;
  double latencyMin = 1;
  double latencyMax = 1000;
};

Ranges rangesOf(const ReportInput& input) {
  Ranges r;
  double latencyMin = INFINITY;
  double latencyMax = 0;
  for (const auto& run : input.runs) {
    for (const auto& s : run.samples) {
      r.xMax = std::max(r.xMax, s.t);
      r.rateMax = std::max({r.rateMax, s.targetRate, s.produceRate, s.consumeRate});
      r.lagMax = std::max(r.lagMax, static_cast<double>(s.lag));
      r.replicasMax = std::max({r.replicasMax, s.desired, s.running, s.members});
      if (s.latency.count > 0) {
        if (s.latency.p50Ms > 0) latencyMin = std::min(latencyMin, s.latency.p50Ms);
        latencyMax = std::max(latencyMax, s.latency.p99Ms);
      }
    }
    latencyMax = std::max(latencyMax, run.summary.facts.objectiveMs);
  }
  if (std::isfinite(latencyMin)) {
    r.latencyMin = std::pow(10, std::floor(std::log10(latencyMin)));
  }
  r.latencyMax = std::pow(10, std::ceil(std::log10(std::max(latencyMax, r.latencyMin * 10))));
  r.rateMax *= 1.15;
  r.lagMax *= 1.1;
  return r;
}

// The settings every panel shares: terminal size, axes, the spike shaded.
std::string chartPreamble(const fs::path& svg, int panels, const Ranges& ranges,
                          const std::optional<LoadWindow>& spike, const std::string& title) {
  std::string gp = fmt::format(
      "set terminal svg size 1100,{} dynamic enhanced font 'sans-serif,13' background '#ffffff'\n"
      "set output {}\n"
      "set encoding utf8\n"
      "set border 3 lc rgb '#555555'\n"
      "set tics nomirror out scale 0.5 textcolor rgb '#333333'\n"
      "set grid ytics lc rgb '#e6e6e6' lw 1 dt 1\n"
      "set key outside top left horizontal samplen 2.5 textcolor rgb '#333333' noautotitle\n"
      "set xrange [0:{}]\n"
      "set lmargin 12\nset rmargin 4\nset bmargin 1.5\n",
      panels * 270 + 60, quoteGnuplot(svg.string()), value(ranges.xMax));
  if (spike) {
    gp += fmt::format(
        "set object 1 rect from {}, graph 0 to {}, graph 1 behind fc rgb '#fbe9c6' fs solid 0.6 "
        "noborder\n",
        value(spike->start), value(std::min(spike->end, ranges.xMax)));
  }
  gp += fmt::format("set multiplot layout {},1 title {} font 'sans-serif,15'\n", panels,
                    quoteGnuplot(title));
  return gp;
}

std::string latencyPanel(const Ranges& ranges, double objectiveMs, const std::string& plots) {
  return fmt::format(
      "set logscale y\nset yrange [{}:{}]\nset format y '%g'\nset ylabel 'latency, ms (log)'\n"
      "set xlabel 'seconds since the load started'\nset bmargin 3.5\n"
      "plot {}, {} with lines dt 2 lw 2 lc rgb '#000000' title {}\n"
      "unset logscale y\nunset xlabel\nset bmargin 1.5\n",
      value(ranges.latencyMin), value(ranges.latencyMax), plots, value(objectiveMs),
      quoteGnuplot(fmt::format("objective {:g} ms", objectiveMs)));
}

std::string replicasPanel(const Ranges& ranges, const std::string& plots) {
  const int top = ranges.replicasMax + 1;
  return fmt::format(
      "set yrange [0:{}]\nset ytics {}\nset format y '%g'\nset ylabel 'replicas'\n"
      "plot {}\nset ytics autofreq\n",
      top, top <= 14 ? 1 : (top <= 30 ? 2 : 5), plots);
}

std::string runChart(const fs::path& data, const fs::path& svg, const RunReport& run,
                     const Ranges& ranges) {
  const auto& f = run.summary.facts;
  const std::string d = quoteGnuplot(data.string());
  std::string gp = chartPreamble(svg, 4, ranges, f.spike, "policy " + f.policy);
  gp += fmt::format(
      "set yrange [0:{}]\nset format y '%.0s%c'\nset ylabel 'messages/s'\n"
      "plot {} using 1:2 with steps dt 2 lw 1.5 lc rgb '#888888' title 'target (profile)', "
      "'' using 1:3 with lines lw 2 lc rgb '#2166ac' title 'produced', "
      "'' using 1:4 with lines lw 2 lc rgb '#1b9e77' title 'consumed'\n",
      value(ranges.rateMax), d);
  gp += fmt::format(
      "set yrange [0:{}]\nset format y '%.0s%c'\nset ylabel 'lag, messages'\n"
      "plot {} using 1:5 with filledcurves y1=0 fs solid 0.3 lc rgb '#d95f02' notitle, "
      "'' using 1:5 with lines lw 1.5 lc rgb '#d95f02' title 'total lag'\n",
      value(ranges.lagMax), d);
  gp += replicasPanel(
      ranges, fmt::format("{} using 1:7 with fillsteps fs solid 0.25 lc rgb '#7570b3' notitle, "
                          "'' using 1:7 with steps lw 2 lc rgb '#7570b3' title 'running', "
                          "'' using 1:6 with steps dt 2 lw 2 lc rgb '#222222' title 'desired', "
                          "'' using 1:8 with steps lw 1 lc rgb '#e7298a' title 'in the group'",
                          d));
  gp += latencyPanel(ranges, f.objectiveMs,
                     fmt::format("{} using 1:9 with lines lw 1.5 lc rgb '#66a61e' title 'p50', "
                                 "'' using 1:10 with lines lw 2 lc rgb '#e31a1c' title 'p99'",
                                 d));
  gp += "unset multiplot\nunset object 1\n";
  return gp;
}

std::string compareChart(const std::vector<fs::path>& data, const fs::path& svg,
                         const ReportInput& input, const Ranges& ranges) {
  const auto& first = input.runs.front().summary.facts;
  std::string gp = chartPreamble(svg, 3, ranges, first.spike, "the policies side by side");
  // One curve per run: `style` is what follows the data file's name, `what` ends the title.
  const auto each = [&](const std::string& style, const std::string& what) {
    std::string plots;
    for (size_t i = 0; i < input.runs.size(); ++i) {
      const auto& policy = input.runs[i].summary.facts.policy;
      if (!plots.empty()) plots += ", ";
      plots += fmt::format("{} {} lc rgb '{}' title {}", quoteGnuplot(data[i].string()), style,
                           policyColor(policy, i), quoteGnuplot(policy + " " + what));
    }
    return plots;
  };
  gp += replicasPanel(ranges, each("using 1:7 with steps lw 2.5", "running"));
  gp +=
      fmt::format("set yrange [0:{}]\nset format y '%.0s%c'\nset ylabel 'lag, messages'\nplot {}\n",
                  value(ranges.lagMax), each("using 1:5 with lines lw 2", "lag"));
  gp += latencyPanel(ranges, first.objectiveMs, each("using 1:10 with lines lw 2", "p99"));
  gp += "unset multiplot\nunset object 1\n";
  return gp;
}

// gnuplot's SVG made fit to sit in a page beside others: no XML prolog, and ids (which every
// gnuplot SVG repeats: gnuplot_canvas, gpPt0, ...) made unique with a prefix.
std::string inlineSvg(std::string svg, const std::string& prefix, const std::string& title) {
  const auto start = svg.find("<svg");
  if (start == std::string::npos) throw std::runtime_error("gnuplot wrote no SVG for " + title);
  svg.erase(0, start);
  for (const std::string from : {"id='", "id=\"", "href='#", "href=\"#", "url(#"}) {
    const std::string to = from + prefix;
    for (size_t at = svg.find(from); at != std::string::npos; at = svg.find(from, at + to.size())) {
      svg.replace(at, from.size(), to);
    }
  }
  const auto titleAt = svg.find("<title>Gnuplot</title>");
  if (titleAt != std::string::npos) {
    svg.replace(titleAt, 22, "<title>" + escapeHtml(title) + "</title>");
  }
  svg.insert(4, " role=\"img\" class=\"chart\"");
  return svg;
}

constexpr const char* kStyle = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1180px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 21px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin-bottom: 6px; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.note { color: #666; font-size: 13px; }
td.bad { background: #fde0dd; font-weight: bold; }
td.good { background: #e5f5e0; }
.setup td:first-child { color: #555; }
svg.chart { width: 100%; height: auto; display: block; margin: 8px 0 16px; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
.events td:nth-child(4) { font-size: 13px; color: #333; }
.notes li { margin-bottom: 4px; }
footer { margin-top: 40px; color: #666; font-size: 13px; }
)";

std::string summaryTableHtml(const ReportInput& input) {
  std::vector<Summary> summaries;
  for (const auto& run : input.runs) summaries.push_back(run.summary);
  std::string html = "<table class=\"summary\"><tr><th></th>";
  for (const auto& s : summaries) html += "<th>" + escapeHtml(s.facts.policy) + "</th>";
  html += "<th>what it is</th></tr>\n";
  for (const auto& row : summaryTable(summaries)) {
    html += "<tr><td>" + escapeHtml(row.label) + "</td>";
    for (size_t i = 0; i < row.values.size(); ++i) {
      std::string cls = "num";
      if (row.label == "lost" && summaries[i].facts.verified) {
        cls += summaries[i].facts.lost == 0 ? " good" : " bad";
      }
      html += "<td class=\"" + cls + "\">" + escapeHtml(row.values[i]) + "</td>";
    }
    html += "<td class=\"note\">" + escapeHtml(row.note) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

std::string runSection(const RunReport& run, const std::string& svg) {
  const auto& f = run.summary.facts;
  std::string html = "<h2 id=\"run-" + escapeHtml(f.policy) + "\">policy " + escapeHtml(f.policy) +
                     "</h2>\n<p>Settings: ";
  bool first = true;
  for (const auto& [key, setting] : f.settings) {
    html +=
        (first ? "" : " ") + std::string("<code>") + escapeHtml(key + "=" + setting) + "</code>";
    first = false;
  }
  if (f.settings.empty()) html += "the policy's defaults";
  html += "</p>\n";
  if (!run.notes.empty()) {
    html += "<ul class=\"notes\">";
    for (const auto& note : run.notes) html += "<li>" + escapeHtml(note) + "</li>";
    html += "</ul>\n";
  }
  html += "<p>" + escapeHtml(run.summary.recovery) + ".</p>\n";
  html += svg;
  html += "<h3>Scale events</h3>\n";
  if (run.events.empty()) {
    html += "<p>None: the replica count did not change after the load started.</p>\n";
    return html;
  }
  html +=
      "<p>What each event cost: <b>excess p99</b>, the group's worst per-second p99 in the 15 s "
      "after the decision above its median p99 of the 10 s before; <b>longest gap</b>, the "
      "longest time a partition that changed owner went unprocessed (its old owner's last "
      "message to its new owner's first); <b>to capacity</b>, from the decision until every new "
      "replica had processed its first message.</p>\n"
      "<table class=\"events\"><tr><th>at</th><th>from</th><th>to</th><th>the policy's "
      "reason</th><th>excess p99</th><th>longest gap</th><th>to capacity</th></tr>\n";
  const auto ms = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.0f} ms", *v) : std::string("–");
  };
  for (const auto& event : run.events) {
    html += fmt::format(
        "<tr><td class=\"num\">{:.0f} s</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td></tr>\n",
        event.t, event.from, event.to, escapeHtml(event.reason), ms(event.excessP99Ms),
        ms(event.longestGapMs), ms(event.decisionToCapacityMs));
  }
  return html + "</table>\n";
}

}  // namespace

ReportFiles writeReport(const fs::path& dir, const ReportInput& input) {
  if (input.runs.empty()) throw std::invalid_argument("a report needs at least one run");
  ReportFiles files{dir / "report.html", dir / "timeseries.csv", dir / "summary.json"};
  fs::create_directories(dir / "charts");

  std::string csv = csvHeader();
  nlohmann::json summary = {{"title", input.title}, {"runs", nlohmann::json::array()}};
  for (const auto& [label, setting] : input.setup) summary["setup"][label] = setting;
  for (const auto& run : input.runs) {
    csv += toCsv(run.summary.facts.policy, run.samples);
    auto json = toJson(run.summary);
    auto events = nlohmann::json::array();
    for (const auto& e : run.events) {
      const auto optional = [](const std::optional<double>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
      };
      events.push_back({{"t_s", e.t},
                        {"from", e.from},
                        {"to", e.to},
                        {"reason", e.reason},
                        {"excess_p99_ms", optional(e.excessP99Ms)},
                        {"longest_gap_ms", optional(e.longestGapMs)},
                        {"decision_to_capacity_ms", optional(e.decisionToCapacityMs)}});
    }
    json["events"] = events;
    summary["runs"].push_back(json);
  }
  writeFile(files.csv, csv);
  writeFile(files.json, summary.dump(2) + "\n");

  // The charts: one data file per run, one script for all of them, one gnuplot run.
  const auto ranges = rangesOf(input);
  std::string script = "# Drawn by ebb demo; rerun with: gnuplot charts.gp\n";
  std::vector<fs::path> data;
  std::vector<fs::path> svgs;
  for (const auto& run : input.runs) {
    const auto& policy = run.summary.facts.policy;
    data.push_back(dir / "charts" / (policy + ".dat"));
    svgs.push_back(dir / "charts" / (policy + ".svg"));
    writeFile(data.back(), dataFile(run.samples));
    script += runChart(data.back(), svgs.back(), run, ranges);
  }
  const bool comparing = input.runs.size() > 1;
  const fs::path compareSvg = dir / "charts" / "compare.svg";
  if (comparing) script += compareChart(data, compareSvg, input, ranges);
  const fs::path scriptPath = dir / "charts" / "charts.gp";
  writeFile(scriptPath, script);
  const fs::path log = dir / "charts" / "gnuplot.log";
  fs::remove(log);
  const auto drawn =
      orchestrate::runCommand({input.gnuplot, scriptPath.string()}, std::chrono::seconds(60),
                              {.stderrPath = log.string(), .dieWithParent = true});
  if (drawn.status != 0) {
    throw std::runtime_error(fmt::format("gnuplot could not draw the charts (exit {}); see {}",
                                         drawn.status, log.string()));
  }

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                     escapeHtml(input.title) + "</title>\n<style>" + kStyle +
                     "</style></head>\n<body>\n<h1>" + escapeHtml(input.title) + "</h1>\n";
  html +=
      "<p class=\"sub\">Producer, broker and consumer replicas were real processes; every "
      "figure below comes from what they recorded.</p>\n";
  html += "<table class=\"setup\">";
  for (const auto& [label, setting] : input.setup) {
    html += "<tr><td>" + escapeHtml(label) + "</td><td>" + escapeHtml(setting) + "</td></tr>";
  }
  html += "</table>\n<h2>Summary</h2>\n" + summaryTableHtml(input);
  html += R"(<p><b>What to look at.</b> The shaded band is the spike. In each run's chart, top to
bottom: the load asked for, produced and consumed; the lag it left; the replicas the policy asked for
and those running (and in the group); and end-to-end latency (producer send to consumer receive)
against the objective. A policy that keeps up scales out within seconds of the band's start, keeps
p99 under the dashed line, and scales back in once the band ends; one that waits lets lag pile up
and p99 climb until it catches up.</p>
)";
  if (comparing) {
    html += "<h2>Side by side</h2>\n" +
            inlineSvg(readFile(compareSvg), "cmp-", "the policies side by side");
  }
  for (size_t i = 0; i < input.runs.size(); ++i) {
    const auto& policy = input.runs[i].summary.facts.policy;
    html += runSection(input.runs[i],
                       inlineSvg(readFile(svgs[i]), "r" + std::to_string(i) + "-",
                                 "policy " + policy + ": load, lag, replicas and latency"));
  }
  html += R"(<h2>How the figures are made</h2>
<ul class="notes">
<li><b>Latency</b> is end to end, from the producer's send (the <code>ebb-ts</code> header) to the
consumer's receipt. Every replica writes, once a second, how many messages it processed and their
p50, p99 and max (<code>ebb consume --stats</code>). Per second, the chart combines the replicas
into <i>upper bounds</i>: its p99 is the smallest value that at most 1&nbsp;% of that second's
messages can exceed, given each replica's count, p99 and max. It is never above the largest
replica's p99, and a replica that handled a few slow messages among thousands of fast ones elsewhere
does not set it. The p50 is bounded the same way. "p99 during the spike" applies the same bound to
every second of the spike window.</li>
<li><b>Rates.</b> Produced: growth of the topic's log-end offsets between readings (once a second).
Consumed: the replicas' processed counts, each spread over the time its stats line covers.</li>
<li><b>Lag</b> is the group's committed offsets behind the log end, as <code>ebb lag</code> and KEDA
read it; replicas commit every second, so about half a second of traffic shows as lag even when
nothing waits.</li>
<li><b>Lost and duplicates</b> come from <code>ebb verify</code>'s check of every replica's audit
file against the producer's acknowledged count.</li>
</ul>
)";
  if (!input.files.empty()) {
    html += "<h2>Files</h2>\n<ul>";
    for (const auto& [path, what] : input.files) {
      html += "<li><a href=\"" + escapeHtml(path) + "\"><code>" + escapeHtml(path) +
              "</code></a>: " + escapeHtml(what) + "</li>";
    }
    html += "</ul>\n";
  }
  html +=
      "<footer>Charts drawn by gnuplot from <code>charts/*.dat</code> with "
      "<code>charts/charts.gp</code>.</footer>\n</body></html>\n";
  writeFile(files.html, html);
  return files;
}

}  // namespace ebb::report
