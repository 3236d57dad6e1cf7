// Progress lines for pretraining and runs.
#include "harness/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace harness {

std::string format_duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(seconds) / 3600, (int(seconds) % 3600) / 60);
  }
  return buf;
}

bool Progress::on_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string what, int64_t total, std::string unit, double log_every_seconds,
                   int64_t already_done)
    : what_(std::move(what)),
      total_(total),
      unit_(std::move(unit)),
      already_done_(already_done),
      log_every_seconds_(log_every_seconds),
      tty_(on_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && tty_ && last_done_ > 0) std::cerr << "\n";
}

std::string Progress::line(const std::string& what, int64_t done, int64_t total, const std::string& unit,
                           int64_t already_done, double elapsed, const std::string& detail) {
  const int64_t here = done - already_done;  // finished by this process
  const double rate = elapsed > 0 && here > 0 ? here / elapsed : 0.0;
  std::ostringstream out;
  out << what << ": " << done << "/" << total << " " << unit;
  if (rate >= 1.0) {
    char rate_buf[32];
    std::snprintf(rate_buf, sizeof rate_buf, "%.2f", rate);
    out << ", " << rate_buf << " " << unit << "/s";
  } else if (rate > 0.0) {
    const std::string one = unit.size() > 1 && unit.back() == 's' ? unit.substr(0, unit.size() - 1) : unit;
    out << ", " << format_duration(1.0 / rate) << " per " << one;
  }
  if (rate > 0.0 && done < total) out << ", ETA " << format_duration((total - done) / rate);
  out << ", elapsed " << format_duration(elapsed);
  if (!detail.empty()) out << ", " << detail;
  return out.str();
}

std::string Progress::render(int64_t done, const std::string& detail) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return line(what_, done, total_, unit_, already_done_, elapsed, detail);
}

void Progress::update(int64_t done, const std::string& detail) {
  last_done_ = done;
  last_detail_ = detail;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    if (since < 0.1 && done < total_) return;
    std::cerr << "\r\033[K" << render(done, detail) << std::flush;
  } else {
    if (since < log_every_seconds_ && done < total_) return;
    std::cerr << render(done, detail) << "\n";
  }
  last_draw_ = now;
}

void Progress::note(const std::string& line) {
  if (tty_) {
    std::cerr << "\r\033[K" << line << "\n";
    if (last_done_ > 0) std::cerr << render(last_done_, last_detail_) << std::flush;
  } else {
    std::cerr << line << "\n";
  }
}

void Progress::finish(const std::string& detail) {
  if (finished_) return;
  finished_ = true;
  if (tty_) {
    std::cerr << "\r\033[K" << render(last_done_, detail) << "\n";
  } else {
    std::cerr << render(last_done_, detail) << "\n";
  }
}

}  // namespace harness
