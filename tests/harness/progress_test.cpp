// The progress line: rate and ETA count only the work of this process, so a resumed
// overnight run does not promise to finish in seconds.
#include "harness/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using harness::Progress;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ProgressLine, ResumedRunRatesOnlyTheTrialsFinishedHere) {
  // 45 trials were done before; this process finished 2 in 160 s: 80 s a trial,
  // 145 left -> 3h13m20s (shown as 3h13m).
  const std::string line = Progress::line("run x", 47, 192, "trials", 45, 160.0, "");
  EXPECT_THAT(line, HasSubstr("47/192 trials"));
  EXPECT_THAT(line, HasSubstr("1m20s per trial"));
  EXPECT_THAT(line, HasSubstr("ETA 3h13m"));
}

TEST(ProgressLine, NoRateOrEtaBeforeTheFirstUnitFinishesHere) {
  // Before this change the 45 earlier trials made "4.50 trials/s, ETA 32.7s".
  const std::string line = Progress::line("run x", 45, 192, "trials", 45, 10.0, "he_base seed 5 step 11/150");
  EXPECT_THAT(line, Not(HasSubstr("/s")));
  EXPECT_THAT(line, Not(HasSubstr("ETA")));
  EXPECT_THAT(line, HasSubstr("elapsed 10.0s, he_base seed 5 step 11/150"));
}

TEST(ProgressLine, FastUnitsAreShownAsARate) {
  const std::string line = Progress::line("pretrain", 50, 470, "steps", 0, 10.0, "loss 0.5");
  EXPECT_THAT(line, HasSubstr("5.00 steps/s"));
  EXPECT_THAT(line, HasSubstr("ETA 1m24s"));
}

TEST(ProgressLine, FinishedWorkHasNoEta) {
  EXPECT_THAT(Progress::line("run x", 8, 8, "trials", 0, 16.0, ""), Not(HasSubstr("ETA")));
}

}  // namespace
