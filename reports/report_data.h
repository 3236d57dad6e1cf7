// What a report reads from a results database, read once into typed structures. The tables and
// figures are computed from these; nothing after read_report_data() touches the database.
#pragma once

#include "db/database.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace harness::reports {

// The exact SQL the report runs; each table of the report is followed by the text of its query.
namespace sql {
inline constexpr const char* kExperiment =
    "SELECT id, name, created_at, harness_version, git_revision, torch_version, host, device, deterministic\n"
    "FROM experiments WHERE name = ?1";
inline constexpr const char* kExperimentNames = "SELECT name FROM experiments ORDER BY name";
inline constexpr const char* kTrials =
    "SELECT id, strategy, seed, status, error, planned_steps\n"
    "FROM trials WHERE experiment_id = ?1 ORDER BY strategy, seed";
inline constexpr const char* kInitial =
    "SELECT s.trial_id, s.noise_fraction, s.feature_grad_energy\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done' AND s.step = 1";
inline constexpr const char* kEarly =
    "SELECT s.trial_id, AVG(s.test_acc) AS early_acc, COUNT(s.test_acc) AS evaluations\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "  AND s.step BETWEEN 1 AND ?2 AND s.test_acc IS NOT NULL\n"
    "GROUP BY s.trial_id";
inline constexpr const char* kFinal =
    "SELECT s.trial_id, s.step, s.test_acc\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "  AND s.step = (SELECT MAX(l.step) FROM steps l\n"
    "                WHERE l.trial_id = s.trial_id AND l.test_acc IS NOT NULL)";
// Read only when the database has the column (schema version 2 and later; db/README.md).
inline constexpr const char* kValidationCurves =
    "SELECT s.trial_id, s.step, s.val_acc\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done' AND s.val_acc IS NOT NULL\n"
    "ORDER BY s.trial_id, s.step";
inline constexpr const char* kFinalValidation =
    "SELECT s.trial_id, s.step, s.val_acc\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "  AND s.step = (SELECT MAX(l.step) FROM steps l\n"
    "                WHERE l.trial_id = s.trial_id AND l.val_acc IS NOT NULL)";
inline constexpr const char* kCurves =
    "SELECT s.trial_id, s.step, s.test_acc, s.feature_variance\n"
    "FROM steps s JOIN trials t ON t.id = s.trial_id\n"
    "WHERE t.experiment_id = ?1 AND t.status = 'done'\n"
    "ORDER BY s.trial_id, s.step";
}  // namespace sql

using BySeed = std::map<int64_t, double>;                   // seed -> value
using ByStrategy = std::map<std::string, BySeed>;           // strategy -> seed -> value
using StepSeries = std::map<int64_t, double>;               // step -> value
using SeriesBySeed = std::map<int64_t, StepSeries>;         // seed -> step -> value
using SeriesByStrategy = std::map<std::string, SeriesBySeed>;

struct ExperimentRow {
  int64_t id = 0;
  std::string name, created_at, harness_version, git_revision, torch_version, host, device;
  bool deterministic = false;
};

struct TrialRow {
  int64_t id = 0;
  std::string strategy;
  int64_t seed = 0;
  std::string status;
  std::string error;
  int64_t planned_steps = 0;
};

struct ReportData {
  ExperimentRow experiment;
  std::vector<TrialRow> trials;
  std::vector<std::string> strategies;  // with finished trials: the baseline first, then by name
  std::set<int64_t> seeds;              // among the finished trials
  std::size_t trials_used = 0, trials_excluded = 0;
  // Per strategy and seed (finished trials only).
  ByStrategy noise, grad_energy;  // step 1
  ByStrategy early;               // mean test accuracy over the evaluated steps 1..early_steps
  ByStrategy final_acc;           // test accuracy at the last evaluated step
  SeriesByStrategy test_acc;          // every evaluated step
  SeriesByStrategy feature_variance;  // every recorded step
  // The validation split ([data] validation_fraction), where the trials recorded one; empty for a
  // database older than schema version 2 or an experiment without a validation split.
  bool has_validation_column = false;  // steps.val_acc exists in this database
  SeriesByStrategy val_acc;             // every evaluated step with a validation value
  ByStrategy final_val_acc;             // validation accuracy at the last step that has one
  // Exclusions and oddities, one line each, in the order found.
  std::vector<std::string> exclusions;
};

// Reads one experiment. `experiment` empty: the database's only one. Throws ConfigError for an
// unknown or ambiguous experiment (listing what exists) and for a baseline without trials.
ReportData read_report_data(const db::Database& db, const std::string& db_path, const std::string& experiment,
                            const std::string& baseline, int early_steps);

// Seeds present for both a strategy and the baseline, in seed order, and those without a pair.
struct Pairs {
  std::vector<double> strategy, baseline;
  std::vector<int64_t> seeds, unpaired;
};
Pairs pair_up(const BySeed& strategy, const BySeed& baseline);

std::vector<double> values_of(const BySeed& m);

}  // namespace harness::reports
