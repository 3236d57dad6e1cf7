// The report's figures, drawn by gnuplot (a subprocess, through gnuplot-iostream) as PNG and SVG.
#pragma once

#include "reports/stats.h"

#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

// One strategy's curve: a value at each x with a band [lower, upper] around it (the caller says
// what the band is: +-1 sd over seeds, a 95% t interval; lower = upper = mean draws no band).
struct Curve {
  std::string label;
  std::vector<double> x, mean, lower, upper;
};

// One row of a forest plot: a paired difference with its interval; `significant` draws it filled.
struct ForestRow {
  std::string label;
  double mean = 0.0;
  std::optional<Interval> ci;
  bool significant = false;
};

// One strategy's point estimate with its interval (no bar when the interval is empty).
struct PointEstimate {
  std::string label;
  double mean = 0.0;
  std::optional<Interval> ci;
};

struct Axes {
  Axes(std::string title_, std::string xlabel_, std::string ylabel_, std::optional<double> xmax_ = std::nullopt,
       bool log_y_ = false)
      : title(std::move(title_)), xlabel(std::move(xlabel_)), ylabel(std::move(ylabel_)), xmax(xmax_), log_y(log_y_) {}

  std::string title, xlabel, ylabel;
  std::optional<double> xmax;  // clip the x range (the zoom on the first steps)
  bool log_y = false;
  bool zero_line = false;        // a dashed line at y = 0 (a forest plot always has one at x = 0)
  std::optional<double> margin;  // forest plot: shade (-margin, +margin), an equivalence margin
};

// Draws figures with one gnuplot process per figure. Not usable (available() false)
// when the gnuplot command cannot be run; the report then skips its figures.
class FigureWriter {
 public:
  explicit FigureWriter(std::string gnuplot_command);

  bool available() const { return available_; }
  const std::string& version() const { return version_; }   // "gnuplot 5.4 patchlevel 4"
  const std::string& terminal() const { return png_terminal_; }  // "pngcairo" or "png"

  // Write `<dir>/<stem>.png` and `<dir>/<stem>.svg`. Return an empty string on
  // success, otherwise what went wrong (gnuplot's stderr, a missing file).
  std::string curves(const std::string& dir, const std::string& stem, const Axes& axes,
                     const std::vector<Curve>& curves) const;
  std::string points(const std::string& dir, const std::string& stem, const Axes& axes,
                     const std::vector<PointEstimate>& points) const;
  // Horizontal intervals, one row per entry from the top down, a line at zero; filled points are
  // the significant ones, open points the others, named in the legend by the two labels.
  std::string forest(const std::string& dir, const std::string& stem, const Axes& axes,
                     const std::vector<ForestRow>& rows, const std::string& filled_label,
                     const std::string& open_label) const;

 private:
  std::string run(const std::string& dir, const std::string& stem, const std::string& data,
                  const std::string& settings, const std::string& plot) const;

  std::string command_;
  bool available_ = false;
  std::string version_;
  std::string png_terminal_ = "png";
};

// Distinct colours that stay distinct for colour-blind readers (Okabe and Ito); past the eighth
// series the colours repeat with another dash type and point type (series_dash, series_point), so
// ten strategies stay apart.
const std::string& series_colour(std::size_t i);
int series_dash(std::size_t i);
int series_point(std::size_t i);

}  // namespace harness::reports
