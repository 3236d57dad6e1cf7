// The committed study databases (experiments/repro/*.db) keep resuming: each experiment file
// still resolves to exactly the configuration text its database recorded, so its hash matches
// and `harness run` (scripts/reproduce.sh) refuses nothing. A key added to the configuration
// must leave the text of an experiment that does not set it unchanged.
#include "harness/config.h"

#include <boost/program_options.hpp>
#include <gtest/gtest.h>
#include <sqlite3.h>

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

}  // namespace
}  // namespace harness
