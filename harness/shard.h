// Sharding a run over machines: which trials of an experiment `harness run --shard I/N` runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace harness {

// Shard `index` of `count`, 0 <= index < count. The whole experiment is 0/1.
struct Shard {
  int64_t index = 0;
  int64_t count = 1;

  bool whole() const noexcept { return count == 1; }
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "I/N" with 0 <= I < N, e.g. "3/8" (under Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with
// --array=0-(N-1)). Throws ConfigError naming `option` and the text.
Shard parse_shard(const std::string& text, const std::string& option = "--shard");

// Positions [first, last) of the trials `shard` owns among `total` trials in the canonical order
// (seed, then strategy in the experiment's order): consecutive blocks whose sizes differ by at most
// one. Every trial is in exactly one shard; a shard holds whole seeds where the numbers allow, and
// every strategy's share of the work is spread evenly over the shards.
struct ShardRange {
  std::size_t first = 0;
  std::size_t last = 0;
  std::size_t size() const noexcept { return last - first; }
};
ShardRange shard_range(std::size_t total, const Shard& shard);

// The elements of `all` (in the canonical order) that `shard` owns.
template <class T>
std::vector<T> shard_subset(const std::vector<T>& all, const Shard& shard) {
  const ShardRange r = shard_range(all.size(), shard);
  return std::vector<T>(all.begin() + static_cast<std::ptrdiff_t>(r.first),
                        all.begin() + static_cast<std::ptrdiff_t>(r.last));
}

}  // namespace harness
