// Study progress from the trials and steps tables (see status.h).
#include "db/status.h"

#include "db/values.h"

#include "harness/errors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace harness::db {
namespace {

constexpr const char* kSqlCounts =
    "SELECT strategy, status, COUNT(*) FROM trials WHERE experiment_id = ?1 GROUP BY strategy, status";
constexpr const char* kSqlRunning =
    "SELECT t.strategy, t.seed, COALESCE(t.worker, ''), COALESCE(t.started_at, ''),\n"
    "       COALESCE((julianday(?2) - julianday(t.started_at)) * 86400.0, 0),\n"
    "       COALESCE((SELECT MAX(s.step) FROM steps s WHERE s.trial_id = t.id), 0), t.planned_steps\n"
    "FROM trials t WHERE t.experiment_id = ?1 AND t.status = 'running' ORDER BY t.started_at, t.id";
constexpr const char* kSqlFailed =
    "SELECT strategy, seed, COALESCE(error, '') FROM trials WHERE experiment_id = ?1 AND status = 'failed'\n"
    "ORDER BY strategy, seed";
constexpr const char* kSqlWall =
    "SELECT wall_seconds, (julianday(?2) - julianday(finished_at)) * 24.0 FROM trials\n"
    "WHERE experiment_id = ?1 AND status = 'done' AND wall_seconds IS NOT NULL";

}  // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[48];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                               static_cast<long long>(s % 3600 / 60));
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                                  static_cast<long long>(s % 60));
  else std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return buf;
}

std::vector<ExperimentProgress> read_progress(const Database& db, const std::string& experiment,
                                              const std::string& now_given) {
  const std::string now = now_given.empty() ? as_text(db.query("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')").rows[0][0])
                                            : now_given;
  Table experiments = db.query("SELECT id, name FROM experiments ORDER BY name");
  std::vector<ExperimentProgress> out;
  std::vector<std::string> present;
  for (const auto& e : experiments.rows) {
    present.push_back(as_text(e[1]));
    if (!experiment.empty() && as_text(e[1]) != experiment) continue;
    const int64_t id = as_int(e[0]);
    ExperimentProgress p;
    p.name = as_text(e[1]);
    p.total.strategy = "all";
    std::map<std::string, StrategyProgress> by;
    for (const auto& r : db.query(kSqlCounts, {id}).rows) {
      StrategyProgress& s = by[as_text(r[0])];
      s.strategy = as_text(r[0]);
      const std::string status = as_text(r[1]);
      const int64_t n = as_int(r[2]);
      int64_t* slot = status == "pending" ? &s.pending : status == "running" ? &s.running
                    : status == "done"    ? &s.done    : &s.failed;
      int64_t* total = status == "pending" ? &p.total.pending : status == "running" ? &p.total.running
                     : status == "done"    ? &p.total.done    : &p.total.failed;
      *slot += n;
      *total += n;
    }
    for (auto& [name, s] : by) p.strategies.push_back(s);
    for (const auto& r : db.query(kSqlRunning, {id, now}).rows) {
      p.running.push_back({as_text(r[0]), as_int(r[1]), as_text(r[2]), as_text(r[3]), as_double(r[4]), as_int(r[5]),
                           as_int(r[6])});
    }
    for (const auto& r : db.query(kSqlFailed, {id}).rows) {
      p.failed.push_back({as_text(r[0]), as_int(r[1]), as_text(r[2])});
    }
    std::vector<double> walls;
    for (const auto& r : db.query(kSqlWall, {id, now}).rows) {
      walls.push_back(as_double(r[0]));
      const double hours_ago = as_double(r[1]);
      if (hours_ago >= 0 && hours_ago <= 1.0) ++p.done_last_hour;
    }
    if (!walls.empty()) {
      std::sort(walls.begin(), walls.end());
      const std::size_t m = walls.size() / 2;
      p.median_trial_seconds = walls.size() % 2 ? walls[m] : (walls[m - 1] + walls[m]) / 2.0;
    }
    if (p.median_trial_seconds && (p.total.pending > 0 || p.total.running > 0)) {
      double work = static_cast<double>(p.total.pending) * *p.median_trial_seconds;
      for (const auto& r : p.running) {
        const double done = r.planned_steps > 0 ? static_cast<double>(r.latest_step) / static_cast<double>(r.planned_steps)
                                                : 0.0;
        work += std::max(0.0, 1.0 - done) * *p.median_trial_seconds;
      }
      p.seconds_left = work / static_cast<double>(std::max<std::size_t>(1, p.running.size()));
    } else if (p.total.pending == 0 && p.total.running == 0) {
      p.seconds_left = 0.0;
    }
    out.push_back(std::move(p));
  }
  if (!experiment.empty() && out.empty()) {
    std::string list;
    for (const auto& n : present) list += (list.empty() ? "" : ", ") + n;
    throw ConfigError("no experiment named '" + experiment + "'; experiments present: " +
                      (list.empty() ? std::string("none (empty database)") : list));
  }
  return out;
}

std::string format_progress(const ExperimentProgress& p) {
  std::ostringstream s;
  const int64_t all = p.total.pending + p.total.running + p.total.done + p.total.failed;
  s << "experiment '" << p.name << "': " << p.total.done << "/" << all << " trials done";
  if (p.total.failed) s << ", " << p.total.failed << " failed";
  s << "\n";
  std::size_t width = 8;
  for (const auto& r : p.strategies) width = std::max(width, r.strategy.size());
  char line[256];
  std::snprintf(line, sizeof line, "  %-*s %8s %8s %8s %8s\n", static_cast<int>(width), "strategy", "pending",
                "running", "done", "failed");
  s << line;
  std::vector<StrategyProgress> rows = p.strategies;
  rows.push_back(p.total);
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "  %-*s %8lld %8lld %8lld %8lld\n", static_cast<int>(width), r.strategy.c_str(),
                  static_cast<long long>(r.pending), static_cast<long long>(r.running),
                  static_cast<long long>(r.done), static_cast<long long>(r.failed));
    s << line;
  }
  for (const auto& r : p.running) {
    s << "  running: " << r.strategy << " seed " << r.seed << " at step " << r.latest_step << "/" << r.planned_steps
      << " (" << (r.worker.empty() ? std::string("worker unknown") : r.worker) << ", started " << r.started_at << ", "
      << format_duration(r.seconds) << " ago)\n";
  }
  for (const auto& f : p.failed) {
    s << "  failed: " << f.strategy << " seed " << f.seed << ": " << (f.error.empty() ? "no error recorded" : f.error)
      << "\n";
  }
  s << "  rate: " << p.done_last_hour << " trials finished in the last hour";
  if (p.median_trial_seconds) s << "; median trial " << format_duration(*p.median_trial_seconds);
  s << "\n";
  if (p.total.pending == 0 && p.total.running == 0) {
    s << "  finished: nothing pending or running\n";
  } else if (p.seconds_left) {
    s << "  time left: about " << format_duration(*p.seconds_left) << " (" << p.total.pending << " pending at the median, "
      << p.running.size() << " running, shared by " << std::max<std::size_t>(1, p.running.size()) << " worker"
      << (p.running.size() > 1 ? "s" : "") << ")\n";
  } else {
    s << "  time left: unknown until a trial finishes\n";
  }
  return s.str();
}

}  // namespace harness::db
