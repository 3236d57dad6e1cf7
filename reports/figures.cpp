// gnuplot figures: each figure is one gnuplot process fed a script with inline data blocks.
#include "reports/figures.h"

#include <gnuplot-iostream.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace harness::reports {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSize = "size 1000,620";
constexpr const char* kFont = "font 'Sans,13'";

// Runs `cmd` through the shell and returns its standard output (and error), or nullopt.
std::optional<std::string> capture(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (status != 0) return std::nullopt;
  return out;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

const std::string& series_colour(std::size_t i) {
  static const std::vector<std::string> kColours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                   "#E69F00", "#56B4E9", "#000000", "#F0E442"};
  return kColours[i % kColours.size()];
}
int series_dash(std::size_t i) { return static_cast<int>(i / 8 % 5) + 1; }
int series_point(std::size_t i) {
  static const int kPoints[] = {7, 5, 9, 11, 13};  // filled circle, square, triangles, diamond
  return kPoints[i / 8 % 5];
}

FigureWriter::FigureWriter(std::string gnuplot_command) : command_(std::move(gnuplot_command)) {
  auto v = capture(command_ + " --version");
  if (!v) return;
  available_ = true;
  version_ = v->substr(0, v->find('\n'));
  // Cairo renders antialiased lines and transparent bands; libgd's png is the fallback.
  auto terms = capture(command_ + " -e 'set terminal'");
  if (terms && terms->find("pngcairo") != std::string::npos) png_terminal_ = "pngcairo";
}

std::string FigureWriter::run(const std::string& dir, const std::string& stem, const std::string& data,
                              const std::string& settings, const std::string& plot) const {
  const std::string png = (fs::path(dir) / (stem + ".png")).string();
  const std::string svg = (fs::path(dir) / (stem + ".svg")).string();
  const std::string err = (fs::path(dir) / ("." + stem + ".gnuplot.err")).string();
  fs::remove(png);
  fs::remove(svg);
  {
    Gnuplot gp(command_ + " 2> " + quoted(err));
    gp << data << "set encoding utf8\n" << settings;
    gp << "set terminal " << png_terminal_ << ' ' << kSize << " noenhanced " << kFont
       << (png_terminal_ == "pngcairo" ? " linewidth 1.4\n" : "\n");
    gp << "set output " << quoted(png) << '\n' << plot << '\n';
    gp << "set terminal svg " << kSize << " dynamic noenhanced " << kFont << " linewidth 1.4 background '#ffffff'\n";
    gp << "set output " << quoted(svg) << '\n' << plot << "\nunset output\n";
  }  // the destructor closes the pipe and waits for gnuplot
  std::ifstream e(err);
  std::string messages(std::istreambuf_iterator<char>(e), {});
  e.close();
  fs::remove(err);
  if (!fs::exists(png) || fs::file_size(png) == 0 || !fs::exists(svg) || fs::file_size(svg) == 0) {
    return "gnuplot did not write " + stem + ".png/.svg: " + (messages.empty() ? "no message" : messages);
  }
  return {};
}

std::string FigureWriter::curves(const std::string& dir, const std::string& stem, const Axes& axes,
                                 const std::vector<Curve>& curves) const {
  std::ostringstream data;
  std::ostringstream plot;
  plot << "plot ";
  bool first = true;
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const Curve& c = curves[i];
    data << "$c" << i << " << EOD\n";
    std::size_t rows = 0;
    for (std::size_t k = 0; k < c.x.size(); ++k) {
      if (axes.xmax && c.x[k] > *axes.xmax) continue;
      double lo = c.lower[k];
      double hi = c.upper[k];
      if (axes.log_y && lo <= 0) lo = c.mean[k];  // a band below zero has no place on a log axis
      data << number(c.x[k]) << ' ' << number(c.mean[k]) << ' ' << number(lo) << ' ' << number(hi) << '\n';
      ++rows;
    }
    data << "EOD\n";
    if (rows == 0) continue;
    const std::string colour = series_colour(i);
    plot << (first ? "" : ", ") << "$c" << i << " using 1:3:4 with filledcurves lc rgb '" << colour
         << "' notitle, $c" << i << " using 1:2 with "
         << (axes.xmax ? "linespoints pt " + std::to_string(series_point(i)) + " ps 0.8" : std::string("lines"))
         << " lw 2 dt " << series_dash(i) << " lc rgb '" << colour << "' title " << quoted(c.label);
    first = false;
  }
  if (first) return "no data to plot for " + stem;
  std::ostringstream settings;
  settings << "set title " << quoted(axes.title) << "\nset xlabel " << quoted(axes.xlabel) << "\nset ylabel "
           << quoted(axes.ylabel) << "\nset grid lc rgb '#dddddd'\nset key outside right top box opaque Left reverse"
           << "\nset style fill transparent solid 0.18 noborder\n";
  if (axes.xmax) settings << "set xrange [0.5:" << number(*axes.xmax + 0.5) << "]\nset xtics 1\n";
  if (axes.log_y) settings << "set logscale y\nset format y '%.0e'\n";
  if (axes.zero_line) settings << "set arrow from graph 0, first 0 to graph 1, first 0 nohead dt 2 lw 1.5 lc rgb '#555555'\n";
  return run(dir, stem, data.str(), settings.str(), plot.str());
}

std::string FigureWriter::points(const std::string& dir, const std::string& stem, const Axes& axes,
                                 const std::vector<PointEstimate>& points) const {
  if (points.empty()) return "no data to plot for " + stem;
  std::ostringstream data;
  bool non_negative = true;
  for (const auto& p : points) non_negative = non_negative && (p.ci ? p.ci->lower : p.mean) >= 0;
  data << "$p << EOD\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const PointEstimate& p = points[i];
    double lo = p.ci ? p.ci->lower : p.mean;
    double hi = p.ci ? p.ci->upper : p.mean;
    unsigned rgb = static_cast<unsigned>(std::stoul(series_colour(i).substr(1), nullptr, 16));
    data << i + 1 << ' ' << number(p.mean) << ' ' << number(lo) << ' ' << number(hi) << ' ' << rgb << ' '
         << '"' << p.label << "\"\n";
  }
  data << "EOD\n";
  std::ostringstream settings;
  settings << "set title " << quoted(axes.title) << "\nset xlabel " << quoted(axes.xlabel) << "\nset ylabel "
           << quoted(axes.ylabel) << "\nset grid ytics lc rgb '#dddddd'\nunset key\n"
           << "set xrange [0.5:" << points.size() + 0.5 << "]\n"
           << (non_negative ? "set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n"
                            : "set offsets 0, 0, graph 0.08, graph 0.08\n")
           << "set bars 2.5\n";
  std::string plot =
      "plot $p using 1:2:3:4:5:xtic(6) with yerrorbars lw 2 pt 7 ps 1.6 lc rgb variable";
  return run(dir, stem, data.str(), settings.str(), plot);
}

std::string FigureWriter::forest(const std::string& dir, const std::string& stem, const Axes& axes,
                                 const std::vector<ForestRow>& rows, const std::string& filled_label,
                                 const std::string& open_label) const {
  if (rows.empty()) return "no data to plot for " + stem;
  // Row i at y = n - i, so the first row is on top; columns: y mean lower upper filled label.
  std::ostringstream data;
  double lo_all = 0.0, hi_all = 0.0;
  std::ostringstream tics;  // labels set once here: ytic() on two filtered series mislabels rows
  data << "$f << EOD\n";
  const std::size_t n = rows.size();
  for (std::size_t i = 0; i < n; ++i) {
    const ForestRow& r = rows[i];
    double lo = r.ci ? r.ci->lower : r.mean;
    double hi = r.ci ? r.ci->upper : r.mean;
    lo_all = std::min(lo_all, lo);
    hi_all = std::max(hi_all, hi);
    data << n - i << ' ' << number(r.mean) << ' ' << number(lo) << ' ' << number(hi) << ' ' << (r.significant ? 1 : 0)
         << '\n';
    tics << (i ? ", " : "") << quoted(r.label) << ' ' << n - i;
  }
  data << "EOD\n";
  if (axes.margin) {
    lo_all = std::min(lo_all, -*axes.margin);
    hi_all = std::max(hi_all, *axes.margin);
  }
  const double pad = 0.08 * std::max(hi_all - lo_all, 1e-9);
  std::ostringstream settings;
  settings << "set title " << quoted(axes.title) << "\nset xlabel " << quoted(axes.xlabel) << "\nset ylabel "
           << quoted(axes.ylabel) << "\nset grid xtics lc rgb '#dddddd'\n"
           << "set key at screen 0.5, screen 0.02 center bottom horizontal\nset bmargin 6\n"
           << "set yrange [0.4:" << n + 0.6 << "]\nset ytics scale 0 (" << tics.str() << ")\n"
           << "set xrange [" << number(lo_all - pad) << ":" << number(hi_all + pad) << "]\n"
           << "set arrow from first 0, graph 0 to first 0, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555'\n"
           << "set bars 2.0\n";
  if (axes.margin) {
    settings << "set object 1 rect from first " << number(-*axes.margin) << ", graph 0 to first "
             << number(*axes.margin) << ", graph 1 behind fc rgb '#e8f0e8' fs solid 1.0 noborder\n";
  }
  const std::string colour = series_colour(0);
  std::ostringstream plot;
  plot << "plot $f using 2:($5 == 1 ? $1 : NaN):3:4 with xerrorbars lw 2 pt 7 ps 1.6 lc rgb '" << colour
       << "' title " << quoted(filled_label) << ", $f using 2:($5 == 1 ? NaN : $1):3:4 with xerrorbars lw 2 "
       << "pt 6 ps 1.6 lc rgb '" << colour << "' title " << quoted(open_label);
  return run(dir, stem, data.str(), settings.str(), plot.str());
}

}  // namespace harness::reports
