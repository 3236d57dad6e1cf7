// Tests of harness/shard.cpp: --shard I/N parsing and the balanced, exhaustive blocks of trials.
#include "harness/shard.h"

#include "harness/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

namespace harness {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    parse_shard(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "'" << text << "' was accepted";
  return "";
}

TEST(Shard, ParsesIndexOfCount) {
  const Shard s = parse_shard("3/8");
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.str(), "3/8");
  EXPECT_FALSE(s.whole());
  EXPECT_TRUE(parse_shard("0/1").whole());
}

TEST(Shard, RefusesWhatIsNotIOfN) {
  for (const std::string bad : {"", "3", "3/", "/3", "a/3", "1/b", "-1/3", "1/-3", "1.0/3", " 1/3", "1/3/4"}) {
    EXPECT_THAT(error_of(bad), HasSubstr("--shard '" + bad + "': expected I/N")) << bad;
  }
  EXPECT_THAT(error_of("3/3"), HasSubstr("shards are 0..2 (as SLURM_ARRAY_TASK_ID with --array=0-2)"));
  EXPECT_THAT(error_of("0/0"), HasSubstr("at least 1"));
}

TEST(Shard, EveryTrialIsInExactlyOneShardAndSizesDifferByAtMostOne) {
  for (std::size_t total : {0u, 1u, 5u, 9u, 27u, 216u}) {
    for (int64_t count : {1, 2, 3, 4, 7, 8, 10, 300}) {
      std::vector<int> owner(total, -1);
      std::size_t smallest = total, largest = 0;
      for (int64_t index = 0; index < count; ++index) {
        const ShardRange r = shard_range(total, {index, count});
        ASSERT_LE(r.first, r.last);
        ASSERT_LE(r.last, total);
        for (std::size_t i = r.first; i < r.last; ++i) {
          EXPECT_EQ(owner[i], -1) << "trial " << i << " of " << total << " in two of " << count << " shards";
          owner[i] = static_cast<int>(index);
        }
        smallest = std::min(smallest, r.size());
        largest = std::max(largest, r.size());
      }
      for (std::size_t i = 0; i < total; ++i) EXPECT_NE(owner[i], -1) << "trial " << i << " in no shard";
      EXPECT_LE(largest - smallest, 1u) << total << " trials in " << count << " shards";
    }
  }
}

TEST(Shard, TheSubsetIsAFixedBlockOfTheCanonicalOrder) {
  std::vector<int> trials(10);
  std::iota(trials.begin(), trials.end(), 0);
  EXPECT_EQ(shard_subset(trials, {0, 3}), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(shard_subset(trials, {1, 3}), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(shard_subset(trials, {2, 3}), (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(shard_subset(trials, {0, 1}), trials);
  // 24 seeds x 9 strategies on 8 machines: whole seeds, three each.
  EXPECT_EQ(shard_range(24 * 9, {5, 8}).first, 5u * 27u);
  EXPECT_EQ(shard_range(24 * 9, {5, 8}).size(), 27u);
}

}  // namespace
}  // namespace harness
