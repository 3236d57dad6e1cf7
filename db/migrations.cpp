// The migration steps of the results schema and the loop that applies them.
#include "db/migrations.h"

#include "db/database.h"
#include "db/transaction.h"

#include <algorithm>
#include <string>

namespace harness::db {

const std::vector<Migration>& schema_migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "steps.val_acc and steps.val_loss ([data] validation_fraction)",
       "ALTER TABLE steps ADD COLUMN val_acc REAL;\n"
       "ALTER TABLE steps ADD COLUMN val_loss REAL;"},
  };
  return kMigrations;
}

namespace {

int64_t user_version(const Database& db) {
  return std::get<int64_t>(db.query("PRAGMA user_version").rows.at(0).at(0));
}

}  // namespace

void migrate(Database& db, int target, const std::vector<Migration>& migrations) {
  for (;;) {
    Transaction transaction(db, TransactionMode::Immediate);
    const int64_t version = user_version(db);
    if (version == target) {
      transaction.commit();
      return;
    }
    if (version > target || version < 1) {
      throw DbError("results database " + db.path() + " has schema version " + std::to_string(version) +
                    ", which cannot be migrated to version " + std::to_string(target));
    }
    const auto step = std::find_if(migrations.begin(), migrations.end(),
                                   [&](const Migration& m) { return m.from_version == version; });
    if (step == migrations.end()) {
      throw DbError("results database " + db.path() + ": no migration from schema version " +
                    std::to_string(version) + " to " + std::to_string(version + 1));
    }
    const std::string what = "migrating results database " + db.path() + " from schema version " +
                             std::to_string(version) + " to " + std::to_string(version + 1) + " (" +
                             step->summary + ")";
    try {
      db.exec(step->sql);
      db.exec("PRAGMA user_version = " + std::to_string(version + 1));
      transaction.commit();
    } catch (const BusyError&) {
      throw;  // retried whole by the caller, as every write
    } catch (const DbError& e) {
      throw DbError(what + " failed; it stays at version " + std::to_string(version) + ": " + e.what());
    }
  }
}

}  // namespace harness::db
