// The report's figures, drawn by gnuplot (a subprocess, through gnuplot-iostream) as PNG and SVG.
#pragma once

#include "reports/stats.h"

#include <optional>
#include <string>
#include <vector>

namespace harness::reports {

// One strategy's curve: mean over seeds at each x, and the standard deviation
// over seeds (band of +-1 sd; 0 where one seed).
struct Curve {
  std::string label;
  std::vector<double> x, mean, sd;
};

// One strategy's point estimate with its interval (no bar when the interval is empty).
struct PointEstimate {
  std::string label;
  double mean = 0.0;
  std::optional<Interval> ci;
};

struct Axes {
  std::string title, xlabel, ylabel;
  std::optional<double> xmax;  // clip the x range (the zoom on the first steps)
  bool log_y = false;
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

 private:
  std::string run(const std::string& dir, const std::string& stem, const std::string& data,
                  const std::string& settings, const std::string& plot) const;

  std::string command_;
  bool available_ = false;
  std::string version_;
  std::string png_terminal_ = "png";
};

// Distinct colours that stay distinct for colour-blind readers (Okabe and Ito).
const std::string& series_colour(std::size_t i);

}  // namespace harness::reports
