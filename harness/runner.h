// Turns an experiment into trials in the store and runs them: in this process,
// or in N worker processes sharing the database, each claiming trials until none is left.
#pragma once

#include "harness/config.h"
#include "harness/shard.h"

#include <string>
#include <vector>

namespace harness {

class StrategyRegistry;

struct RunOptions {
  int workers = 1;        // processes; each claims trials until none is left
  int threads = 0;        // CPU threads per process (0 = cores / workers)
  bool is_worker = false; // this process was spawned by a coordinator
  double flush_seconds = 2.0;  // longest time recorded steps wait in memory before they are written
  std::vector<std::string> worker_argv;  // how to start a worker (this executable and its arguments)
  Shard shard;  // run only this shard's block of the trials (--shard I/N); its database holds only those
};

// Runs every pending trial of the experiment. Returns the exit status: 0 when every
// trial is done or being run by another live process of this host (separate runs on one
// database: the final line counts them), kExitFailedTrials when some failed (summarized
// on stderr) or some are left that nobody runs (pending, left by a process that has
// ended, or running on another host). With nothing left pending or running, the database
// is left in rollback-journal mode for readers (db::Database::leave_wal).
int run_experiment(const ExperimentConfig& config, const StrategyRegistry& registry, const RunOptions& options);

}  // namespace harness
