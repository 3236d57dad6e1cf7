// Progress of long work: a live line on a terminal, plain log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace harness {

// Reports `done` of `total` units with a rate and ETA. On a terminal (stderr is
// a TTY) it redraws one line at most every 100 ms; otherwise it prints a plain
// line at most every `log_every_seconds`, so logs of overnight runs stay short.
// `already_done` units were finished before this process started (a resumed run):
// they count toward done/total but not toward the rate or the ETA. A rate below one
// unit a second is shown as time per unit ("1m19s per trial").
class Progress {
 public:
  // The line for `done` units after `elapsed` seconds; the live line and the log lines show it.
  static std::string line(const std::string& what, int64_t done, int64_t total, const std::string& unit,
                          int64_t already_done, double elapsed, const std::string& detail);

  Progress(std::string what, int64_t total, std::string unit, double log_every_seconds = 10.0,
           int64_t already_done = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `detail` is appended to the line (e.g. "loss 0.31").
  void update(int64_t done, const std::string& detail = "");
  // Prints a permanent line (keeps the live line below it on a terminal).
  void note(const std::string& line);
  void finish(const std::string& detail = "");

  static bool on_terminal();

 private:
  std::string render(int64_t done, const std::string& detail) const;

  std::string what_;
  int64_t total_;
  std::string unit_;
  int64_t already_done_;
  double log_every_seconds_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int64_t last_done_ = 0;
  std::string last_detail_;
};

// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

}  // namespace harness
