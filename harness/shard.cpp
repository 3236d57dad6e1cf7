// Parsing --shard I/N and the balanced block of trials each shard owns.
#include "harness/shard.h"

#include "harness/errors.h"

#include <algorithm>
#include <cctype>

namespace harness {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

Shard parse_shard(const std::string& text, const std::string& option) {
  const auto slash = text.find('/');
  const std::string index = slash == std::string::npos ? "" : text.substr(0, slash);
  const std::string count = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (!all_digits(index) || !all_digits(count)) {
    throw ConfigError(option + " '" + text + "': expected I/N, shard I of N counted from 0 (e.g. 0/4 .. 3/4)");
  }
  Shard shard{std::stoll(index), std::stoll(count)};
  if (shard.count < 1) throw ConfigError(option + " '" + text + "': the shard count N must be at least 1");
  if (shard.index >= shard.count) {
    throw ConfigError(option + " '" + text + "': the shard index must be below the count; shards are 0.." +
                      std::to_string(shard.count - 1) + " (as SLURM_ARRAY_TASK_ID with --array=0-" +
                      std::to_string(shard.count - 1) + ")");
  }
  return shard;
}

// Block boundaries floor(total * i / count): sizes are floor or ceil of total / count.
ShardRange shard_range(std::size_t total, const Shard& shard) {
  const auto boundary = [&](int64_t i) {
    return static_cast<std::size_t>(static_cast<unsigned long long>(total) * static_cast<unsigned long long>(i) /
                                    static_cast<unsigned long long>(shard.count));
  };
  return {boundary(shard.index), boundary(shard.index + 1)};
}

}  // namespace harness
