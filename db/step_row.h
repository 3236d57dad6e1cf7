// One row of table `steps` and the list of its columns, declared side by side: the recorder's
// INSERT and its binds are built from kStepColumns, merge copies columns by name, and a test
// checks that db/schema.sql (the documentation of each column) declares the same columns.
#pragma once

#include "db/statement.h"

#include <cstdint>
#include <optional>
#include <string>

namespace harness::db {

// One row of table `steps` (db/schema.sql documents every column). Values NULL
// when the step was not evaluated are empty optionals.
struct StepRow {
  int64_t step = 0;
  std::string phase;  // 'head', 'full' or 'backbone'
  double lr = 0;
  double train_loss = 0;
  double train_acc = 0;
  std::optional<double> test_acc;
  std::optional<double> test_loss;
  double zeta = 0;
  double label_energy = 0;
  double cross_energy = 0;
  double phi = 0;
  double noise_fraction = 0;
  double feature_grad_energy = 0;
  double feature_variance = 0;
  double backbone_drift = 0;
  double step_seconds = 0;
  std::optional<double> eval_seconds;
  std::optional<double> val_acc;   // schema version 2: empty without a validation split
  std::optional<double> val_loss;  // schema version 2
};

// A column of `steps` after trial_id, as PRAGMA table_info reports it, and how a StepRow fills it.
struct StepColumn {
  const char* name;
  const char* type;  // declared type: INTEGER, TEXT or REAL
  bool not_null;
  void (*bind)(Statement& statement, int index, const StepRow& row);
};

namespace detail {
template <auto Member>
void bind_member(Statement& statement, int index, const StepRow& row) {
  statement.bind(index, row.*Member);
}
}  // namespace detail

// Adding a column: a member of StepRow, an entry here (in schema order), its line in
// db/schema.sql, and a step in db/migrations.cpp that adds it to older databases.
inline constexpr StepColumn kStepColumns[] = {
    {"step", "INTEGER", true, &detail::bind_member<&StepRow::step>},
    {"phase", "TEXT", true, &detail::bind_member<&StepRow::phase>},
    {"lr", "REAL", true, &detail::bind_member<&StepRow::lr>},
    {"train_loss", "REAL", true, &detail::bind_member<&StepRow::train_loss>},
    {"train_acc", "REAL", true, &detail::bind_member<&StepRow::train_acc>},
    {"test_acc", "REAL", false, &detail::bind_member<&StepRow::test_acc>},
    {"test_loss", "REAL", false, &detail::bind_member<&StepRow::test_loss>},
    {"zeta", "REAL", true, &detail::bind_member<&StepRow::zeta>},
    {"label_energy", "REAL", true, &detail::bind_member<&StepRow::label_energy>},
    {"cross_energy", "REAL", true, &detail::bind_member<&StepRow::cross_energy>},
    {"phi", "REAL", true, &detail::bind_member<&StepRow::phi>},
    {"noise_fraction", "REAL", true, &detail::bind_member<&StepRow::noise_fraction>},
    {"feature_grad_energy", "REAL", true, &detail::bind_member<&StepRow::feature_grad_energy>},
    {"feature_variance", "REAL", true, &detail::bind_member<&StepRow::feature_variance>},
    {"backbone_drift", "REAL", true, &detail::bind_member<&StepRow::backbone_drift>},
    {"step_seconds", "REAL", true, &detail::bind_member<&StepRow::step_seconds>},
    {"eval_seconds", "REAL", false, &detail::bind_member<&StepRow::eval_seconds>},
    {"val_acc", "REAL", false, &detail::bind_member<&StepRow::val_acc>},
    {"val_loss", "REAL", false, &detail::bind_member<&StepRow::val_loss>},
};

}  // namespace harness::db
