// Batched writes of one trial's step and metric rows; finish/fail close the trial atomically.
#include "db/step_recorder.h"

#include "db/busy_retry.h"
#include "db/transaction.h"

#include <sqlite3.h>

#include <iterator>

namespace harness::db {
namespace {

// trial_id, then the columns of a StepRow.
constexpr int kStepRowColumns = 1 + static_cast<int>(std::size(kStepColumns));
constexpr int kMetricColumns = 4;
// Rows per multi-row INSERT: one statement step per 32 rows instead of per row
// roughly halves the CPU time of a batch (bench/store_bench.cpp).
constexpr std::size_t kRowsPerInsert = 32;

std::string insert_sql(const std::string& head, int columns, std::size_t rows) {
  std::string sql = head;
  int p = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r ? ", (" : " VALUES (";
    for (int c = 0; c < columns; ++c) sql += (c ? ", ?" : "?") + std::to_string(p++);
    sql += ")";
  }
  return sql;
}

std::string step_head() {
  std::string head = "INSERT INTO steps (trial_id";
  for (const StepColumn& column : kStepColumns) head.append(", ").append(column.name);
  return head + ")";
}
constexpr const char* kMetricHead = "INSERT INTO metrics (trial_id, step, name, value)";

void bind_step(Statement& st, int base, int64_t trial_id, const StepRow& r) {
  st.bind(base + 1, trial_id);
  int index = base + 2;
  for (const StepColumn& column : kStepColumns) column.bind(st, index++, r);
}

void bind_metric(Statement& st, int base, int64_t trial_id, const MetricRow& m) {
  st.bind(base + 1, trial_id);
  st.bind(base + 2, m.step);
  st.bind(base + 3, m.name);
  st.bind(base + 4, m.value);
}

// Inserts `rows` with the multi-row statement for whole chunks, the one-row one for the rest.
template <class Row, class Bind>
void insert_all(const std::vector<Row>& rows, Statement& many, Statement& one, int columns, int64_t trial_id,
                Bind bind) {
  std::size_t i = 0;
  for (; i + kRowsPerInsert <= rows.size(); i += kRowsPerInsert) {
    for (std::size_t k = 0; k < kRowsPerInsert; ++k) bind(many, static_cast<int>(k) * columns, trial_id, rows[i + k]);
    many.exec();
  }
  for (; i < rows.size(); ++i) {
    bind(one, 0, trial_id, rows[i]);
    one.exec();
  }
}

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

}  // namespace

StepRecorder::StepRecorder(const Database& db, int64_t trial_id, const RecorderOptions& options)
    : db_(db.handle()),
      path_(db.path()),
      trial_id_(trial_id),
      options_(options),
      insert_step_(db, insert_sql(step_head(), kStepRowColumns, 1)),
      insert_steps_(db, insert_sql(step_head(), kStepRowColumns, kRowsPerInsert)),
      insert_metric_(db, insert_sql(kMetricHead, kMetricColumns, 1)),
      insert_metrics_(db, insert_sql(kMetricHead, kMetricColumns, kRowsPerInsert)),
      last_flush_(std::chrono::steady_clock::now()) {
  steps_.reserve(options_.flush_rows);
}

void StepRecorder::check_open(const char* what) const {
  if (closed_) {
    throw DbError(path_ + ": " + what + " on trial " + std::to_string(trial_id_) +
                  ", whose recorder was already closed by finish() or fail()");
  }
}

void StepRecorder::add(const StepRow& row, const std::vector<MetricRow>& metrics) {
  check_open("add()");
  steps_.push_back(row);
  metrics_.insert(metrics_.end(), metrics.begin(), metrics.end());
  const auto age = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_flush_).count();
  if (buffered_rows() >= options_.flush_rows || age >= options_.flush_seconds) flush();
}

void StepRecorder::write_buffer() {
  insert_all(steps_, insert_steps_, insert_step_, kStepRowColumns, trial_id_, bind_step);
  insert_all(metrics_, insert_metrics_, insert_metric_, kMetricColumns, trial_id_, bind_metric);
}

// The buffer is cleared only after COMMIT: a failed or busy write keeps every
// row for the next attempt.
void StepRecorder::flush() {
  check_open("flush()");
  if (buffered_rows() > 0) {
    retry_on_busy(path_, options_.max_busy_wait, [&] {
      Transaction transaction(db_, TransactionMode::Immediate);
      write_buffer();
      transaction.commit();
    });
    written_steps_ += static_cast<int64_t>(steps_.size());
    steps_.clear();
    metrics_.clear();
  }
  last_flush_ = std::chrono::steady_clock::now();
}

void StepRecorder::finish(double wall_seconds) {
  check_open("finish()");
  retry_on_busy(path_, options_.max_busy_wait, [&] {
    Transaction transaction(db_, TransactionMode::Immediate);
    write_buffer();
    Statement check(db_, "SELECT status, planned_steps, (SELECT count(*) FROM steps WHERE trial_id = ?1) "
                         "FROM trials WHERE id = ?1");
    check.bind(1, trial_id_);
    if (!check.step()) throw DbError(path_ + ": finish(): no trial with id " + std::to_string(trial_id_));
    const std::string status = check.column_text(0);
    const int64_t planned = check.column_int64(1), rows = check.column_int64(2);
    check.reset();
    if (status != "running") {
      throw DbError(path_ + ": finish(): trial " + std::to_string(trial_id_) + " is '" + status +
                    "', not 'running'; another process may have reclaimed it");
    }
    if (rows != planned) {
      throw DbError(path_ + ": finish(): trial " + std::to_string(trial_id_) + " has " + std::to_string(rows) +
                    " step rows but planned_steps = " + std::to_string(planned) + "; not marking it done");
    }
    Statement done(db_, std::string("UPDATE trials SET status = 'done', error = NULL, finished_at = ") + kNow +
                            ", wall_seconds = ?2 WHERE id = ?1");
    done.bind(1, trial_id_);
    done.bind(2, wall_seconds);
    done.exec();
    transaction.commit();
  });
  written_steps_ += static_cast<int64_t>(steps_.size());
  steps_.clear();
  metrics_.clear();
  closed_ = true;
}

void StepRecorder::fail(const std::string& error) {
  check_open("fail()");
  // First try to keep the buffered rows; if they cannot be written (say a
  // duplicate step), record the failure without them and say so.
  std::string reason = error;
  for (bool with_rows : {true, false}) {
    try {
      retry_on_busy(path_, options_.max_busy_wait, [&] {
        Transaction transaction(db_, TransactionMode::Immediate);
        if (with_rows) write_buffer();
        Statement failed(db_, std::string("UPDATE trials SET status = 'failed', error = ?2, finished_at = ") + kNow +
                                  " WHERE id = ?1 AND status = 'running'");
        failed.bind(1, trial_id_);
        failed.bind(2, reason);
        if (failed.exec() != 1) {
          throw DbError(path_ + ": fail(): trial " + std::to_string(trial_id_) +
                        " is not 'running'; another process may have reclaimed it");
        }
        transaction.commit();
      });
      break;
    } catch (const DbError& e) {
      if (!with_rows || buffered_rows() == 0) throw;
      reason = error + " (" + std::to_string(buffered_rows()) + " buffered rows could not be written: " + e.what() + ")";
    }
  }
  steps_.clear();
  metrics_.clear();
  closed_ = true;
}

}  // namespace harness::db
