// Progress of long work: a live line on a terminal, plain log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace harness {

// Reports `done` of `total` units with a rate and ETA. On a terminal (stderr is
// a TTY) it redraws one line at most every 100 ms; otherwise it prints a plain
// line at most every `log_every_seconds`, so logs of overnight runs stay short.
class Progress {
 public:
  Progress(std::string what, int64_t total, std::string unit, double log_every_seconds = 10.0);
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
