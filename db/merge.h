// Merging results databases: the shard databases of `harness run --shard I/N` into one.
#pragma once

#include "db/database.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace harness::db {

// What one input contributed to one experiment of the output.
struct ExperimentMerge {
  std::string experiment;  // experiment name
  int64_t added = 0;       // trials the output did not have
  int64_t replaced = 0;    // trials the output had in a worse state (see merge_databases), now the input's
  int64_t kept = 0;        // trials the output already had in as good a state: nothing copied
};

struct InputMerge {
  std::string path;
  std::vector<ExperimentMerge> experiments;  // in the input's experiment id order
};

struct MergeResult {
  std::vector<InputMerge> inputs;     // in the order given
  std::vector<std::string> warnings;  // differences that do not stop the merge (device, LibTorch, revision)
};

struct MergeOptions {
  int busy_timeout_ms = Database::kDefaultBusyTimeoutMs;
  std::chrono::milliseconds max_busy_wait = kDefaultMaxBusyWait;
};

// Merges every input database into `out_path` (created with the schema if missing; it may already hold a
// previous merge or results of its own). Experiments are matched by name, plugins by (name, version, hash),
// trials by (experiment, strategy, seed); ids are remapped, steps and metrics copied with their trial.
//
// For a trial present in both, the better state wins: done over failed over pending, and on a tie the
// output's row stays, so merging the same input twice adds nothing the second time. A trial left
// 'running' in an input (its shard was stopped) becomes 'pending' in the output without its partial
// rows: no process is writing it there, and a later `harness run` into the output claims it.
//
// Before anything is written, every input is opened read-only and checked; refused with a DbError
// naming the file: a missing file, one that is not a results database or has another schema version,
// the output given as an input, and an experiment whose name exists elsewhere (another input or the
// output) with a different configuration hash (the message shows the first differing line of the two
// configurations). The merge is then written into a copy of the output beside it (".OUT.tmp-..."),
// renamed onto `out_path` at the end: an interrupted or failed merge leaves the output as it was
// (absent if it was), and running it again does the whole merge. The output must not be open in
// another process (refused, DbError), and its folder needs room for a second copy of it.
MergeResult merge_databases(const std::string& out_path, const std::vector<std::string>& inputs,
                            const MergeOptions& options = {});

}  // namespace harness::db
