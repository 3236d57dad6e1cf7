// Batched writes of one trial's step and metric rows; finish/fail close the trial atomically.
#include "db/step_recorder.h"

#include "db/busy_retry.h"
#include "db/transaction.h"

#include <sqlite3.h>

namespace harness::db {
namespace {

constexpr const char* kInsertStep =
    "INSERT INTO steps (trial_id, step, phase, lr, train_loss, train_acc, test_acc, test_loss, zeta, "
    "label_energy, cross_energy, phi, noise_fraction, feature_grad_energy, feature_variance, backbone_drift, "
    "step_seconds, eval_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17, ?18)";
constexpr const char* kInsertMetric = "INSERT INTO metrics (trial_id, step, name, value) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

}  // namespace

StepRecorder::StepRecorder(const Database& db, int64_t trial_id, const RecorderOptions& options)
    : db_(db.handle()),
      path_(db.path()),
      trial_id_(trial_id),
      options_(options),
      insert_step_(db, kInsertStep),
      insert_metric_(db, kInsertMetric),
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
  for (const StepRow& r : steps_) {
    insert_step_.bind(1, trial_id_);
    insert_step_.bind(2, r.step);
    insert_step_.bind(3, r.phase);
    insert_step_.bind(4, r.lr);
    insert_step_.bind(5, r.train_loss);
    insert_step_.bind(6, r.train_acc);
    insert_step_.bind(7, r.test_acc);
    insert_step_.bind(8, r.test_loss);
    insert_step_.bind(9, r.zeta);
    insert_step_.bind(10, r.label_energy);
    insert_step_.bind(11, r.cross_energy);
    insert_step_.bind(12, r.phi);
    insert_step_.bind(13, r.noise_fraction);
    insert_step_.bind(14, r.feature_grad_energy);
    insert_step_.bind(15, r.feature_variance);
    insert_step_.bind(16, r.backbone_drift);
    insert_step_.bind(17, r.step_seconds);
    insert_step_.bind(18, r.eval_seconds);
    insert_step_.exec();
  }
  for (const MetricRow& m : metrics_) {
    insert_metric_.bind(1, trial_id_);
    insert_metric_.bind(2, m.step);
    insert_metric_.bind(3, m.name);
    insert_metric_.bind(4, m.value);
    insert_metric_.exec();
  }
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
