// The committed study databases (experiments/repro/*.db) keep resuming: each experiment file
// still resolves to exactly the configuration text its database recorded, so its hash matches
// and `harness run` (scripts/reproduce.sh) refuses nothing. A key added to the configuration
// must leave the text of an experiment that does not set it unchanged.
#include "db/store.h"
#include "harness/config.h"
#include "harness/loader/loaded_strategy.h"

#include <boost/program_options.hpp>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>

namespace harness {
namespace {

std::string recorded_config_text(const std::filesystem::path& db, const std::string& experiment) {
  // immutable=1 reads a committed database without writing -wal/-shm files beside it; a database
  // a run is writing right now (its -wal file exists) is read through the WAL instead.
  const bool live = std::filesystem::exists(db.string() + "-wal");
  const std::string uri = "file:" + db.string() + (live ? "?mode=ro" : "?immutable=1");
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return "";
  }
  std::string text;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(raw, "SELECT config_text FROM experiments WHERE name = ?", -1, &statement, nullptr) ==
      SQLITE_OK) {
    sqlite3_bind_text(statement, 1, experiment.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(statement) == SQLITE_ROW) text = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_close(raw);
  return text;
}

TEST(CommittedStudies, EveryExperimentFileResolvesToTheTextItsDatabaseRecorded) {
  const std::filesystem::path repro = std::filesystem::path(HARNESS_SOURCE_DIR) / "experiments" / "repro";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(repro)) {
    if (entry.path().extension() != ".ini") continue;
    std::filesystem::path db = entry.path();
    db.replace_extension(".db");
    if (!std::filesystem::exists(db)) continue;
    const boost::program_options::variables_map no_cli;
    const ExperimentConfig config = load_experiment(no_cli, entry.path().string());
    const std::string recorded = recorded_config_text(db, config.name);
    ASSERT_FALSE(recorded.empty()) << db << " has no experiment '" << config.name << "'";
    // The recorded text is the resolved text plus the backbone file's fingerprint line.
    EXPECT_EQ(recorded.substr(0, recorded.rfind("\n# backbone file SHA-1:")), config.resolved_text())
        << entry.path();
    ++checked;
  }
  EXPECT_GE(checked, 14) << "committed study databases found under " << repro;
}

// scripts/reproduce.sh after the schema change: a copy of every committed database is migrated by
// its first read-write open (as `harness run` opens it), keeps every trial, and still accepts the
// configuration its experiment file resolves to, so the run resumes instead of refusing.
TEST(CommittedStudies, ACopyMigratesForwardAndStillAcceptsItsExperiment) {
  const std::filesystem::path repro = std::filesystem::path(HARNESS_SOURCE_DIR) / "experiments" / "repro";
  std::string pattern = (std::filesystem::temp_directory_path() / "harness_committed_XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(repro)) {
    if (entry.path().extension() != ".ini") continue;
    std::filesystem::path db = entry.path();
    db.replace_extension(".db");
    if (!std::filesystem::exists(db)) continue;
    // Not while a run writes it: a WAL with content. An empty one is what a reader leaves behind.
    const std::filesystem::path wal = db.string() + "-wal";
    if (std::filesystem::exists(wal) && std::filesystem::file_size(wal) > 0) continue;
    const boost::program_options::variables_map no_cli;
    const ExperimentConfig config = load_experiment(no_cli, entry.path().string());
    const std::string recorded = recorded_config_text(db, config.name);
    const std::filesystem::path copy = dir / db.filename();
    std::filesystem::copy_file(db, copy);

    db::Store store = db::Store::open(copy.string());
    EXPECT_EQ(store.database().version(), db::Database::schema_version()) << copy;
    EXPECT_TRUE(store.database().has_column("steps", "val_acc")) << copy;
    db::ExperimentRecord record;
    record.name = config.name;
    // What `harness run` records: the resolved text and the backbone file's fingerprint line (the
    // backbone itself is not in the tree; its line is taken as recorded).
    record.config_text = config.resolved_text() + recorded.substr(recorded.rfind("\n# backbone file SHA-1:"));
    record.config_hash = sha1_hex(record.config_text);
    int64_t id = 0;
    ASSERT_NO_THROW(id = store.ensure_experiment(record)) << copy;
    const db::StatusCounts counts = store.status_counts(id);
    EXPECT_GT(counts.done, 0) << copy;
    EXPECT_EQ(store.database().query("SELECT count(*) FROM steps WHERE val_acc IS NOT NULL").rows.at(0).at(0),
              db::Value{int64_t{0}})
        << copy;
    ++checked;
  }
  std::filesystem::remove_all(dir);
  EXPECT_GE(checked, 14);
}

}  // namespace
}  // namespace harness
