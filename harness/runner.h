// Turns an experiment into trials in the store and runs them: in this process,
// or in N worker processes sharing the database, each claiming trials until none is left.
#pragma once

#include "harness/config.h"

#include <string>
#include <vector>

namespace harness {

class StrategyRegistry;

struct RunOptions {
  int workers = 1;        // processes; each claims trials until none is left
  int threads = 0;        // CPU threads per process (0 = cores / workers)
  bool is_worker = false; // this process was spawned by a coordinator
  std::vector<std::string> worker_argv;  // how to start a worker (this executable and its arguments)
};

// Runs every pending trial of the experiment. Returns the exit status: 0 when
// every trial is done, kExitFailedTrials when some failed (summarized on stderr).
int run_experiment(const ExperimentConfig& config, const StrategyRegistry& registry, const RunOptions& options);

}  // namespace harness
