// Progress and step means of an experiment for the study report (see study_data.h).
#include "reports/study_data.h"

#include "db/values.h"
#include "harness/errors.h"
#include "reports/table.h"

#include <cctype>

namespace harness::reports {

ExperimentStatus read_status(const db::Database& db, int64_t experiment_id) {
  const db::Table t = db.query(sql::kStatus, {experiment_id});
  ExperimentStatus s;
  if (t.rows.empty()) return s;
  const auto& r = t.rows[0];
  s.trials = db::as_int(r[0]);
  s.done = db::as_int(r[1]);
  s.failed = db::as_int(r[2]);
  s.seeds = db::as_int(r[3]);
  s.complete_seeds = db::as_int(r[4]);
  s.min_steps = db::as_int(r[5]);
  s.max_steps = db::as_int(r[6]);
  s.done_wall_seconds = db::as_double(r[7]);
  return s;
}

std::string step_means_sql(const Measurement& m) {
  std::vector<std::string> steps;
  for (int64_t s : m.steps) steps.push_back(std::to_string(s));
  const std::string& c = m.column;
  return "SELECT t.strategy, s.step, COUNT(s." + c + ") AS n, AVG(s." + c + ") AS mean\n"
         "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
         "WHERE t.experiment_id = ?1 AND t.status = 'done' AND s.step IN (" + join(steps, ", ") + ")\n"
         "  AND t.seed NOT IN (SELECT u.seed FROM trials u WHERE u.experiment_id = ?1 AND u.status <> 'done')\n"
         "GROUP BY t.strategy, s.step";
}

StepMeans read_step_means(const db::Database& db, int64_t experiment_id, const Measurement& m) {
  StepMeans means;
  for (const auto& r : db.query(step_means_sql(m), {experiment_id}).rows) {
    StepMean v;
    v.n = db::as_int(r[2]);
    if (!db::is_null(r[3])) v.mean = db::as_double(r[3]);
    means[db::as_text(r[0])][db::as_int(r[1])] = v;
  }
  return means;
}

std::vector<std::string> measurement_columns(const db::Database& db) {
  std::vector<std::string> columns;
  for (const auto& r : db.query("SELECT name, type FROM pragma_table_info('steps')").rows) {
    if (db::as_text(r[1]) == "REAL") columns.push_back(db::as_text(r[0]));
  }
  return columns;
}

std::vector<int64_t> parse_steps(const std::string& text, const std::string& option) {
  std::vector<int64_t> steps;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    std::string item = text.substr(begin, comma - begin);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(item.begin());
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    const bool digits = !item.empty() && item.size() <= 9 &&
                        item.find_first_not_of("0123456789") == std::string::npos;
    const int64_t step = digits ? std::stoll(item) : 0;
    if (step < 1) {
      throw ConfigError(option + " '" + text + "': '" + item + "' is not a step (a whole number >= 1)");
    }
    if (!steps.empty() && step <= steps.back()) {
      throw ConfigError(option + " '" + text + "': steps must be ascending and distinct");
    }
    steps.push_back(step);
    begin = comma + 1;
  }
  return steps;
}

Measurement parse_measurement(const std::string& text, const std::string& option) {
  const std::size_t at = text.find('@');
  if (at == std::string::npos || at == 0) {
    throw ConfigError(option + " '" + text + "': expected COLUMN@STEPS, e.g. zeta@30,60,150");
  }
  Measurement m{text.substr(0, at), parse_steps(text.substr(at + 1), option)};
  if (m.column.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    throw ConfigError(option + " '" + text + "': '" + m.column + "' is not a column name");
  }
  return m;
}

}  // namespace harness::reports
