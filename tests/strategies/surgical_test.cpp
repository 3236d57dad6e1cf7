// surgical (Lee et al. 2023): only the listed blocks and the head train; unknown names are refused.
#include "builtin_strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace harness::testing {
namespace {

using ::testing::HasSubstr;

sdk::StepPlan surgical_plan(const std::map<std::string, std::string>& given, int64_t step = 1) {
  const sdk::Strategy& s = builtins().get("surgical").strategy();
  return s.plan(at_step(step), resolve_params(s, given));
}

// The groups' trains flags: block1, block2, block3, head.
std::vector<bool> trains(const std::map<std::string, std::string>& given, int64_t step = 1) {
  const sdk::StepPlan plan = surgical_plan(given, step);
  EXPECT_TRUE(plan.train_backbone);
  EXPECT_TRUE(plan.train_head);
  std::vector<bool> out;
  for (const auto& g : plan.groups) {
    EXPECT_EQ(g.lr_scale, 1.0);
    EXPECT_EQ(g.weight_decay_scale, 1.0);
    out.push_back(g.trains);
  }
  return out;
}

TEST(Surgical, DefaultTrainsTheFirstBlockAndTheHead) {
  for (int64_t step : {1, 2, 100}) EXPECT_EQ(trains({}, step), (std::vector<bool>{true, false, false, true})) << step;
}

TEST(Surgical, TrainsTheListedBlocks) {
  EXPECT_EQ(trains({{"blocks", "block3"}}), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(trains({{"blocks", " block3 , block1"}}), (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ(trains({{"blocks", "block2,block2"}}), (std::vector<bool>{false, true, false, true}));
}

TEST(Surgical, ListingEveryBlockTrainsEverything) {
  EXPECT_EQ(trains({{"blocks", "block1,block2,block3"}}), (std::vector<bool>{true, true, true, true}));
}

TEST(Surgical, AnUnknownBlockIsRefusedWithTheModelsBlockNames) {
  try {
    surgical_plan({{"blocks", "block1,stage9"}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("'stage9'"));
    EXPECT_THAT(e.what(), HasSubstr("block1, block2, block3"));
  }
  EXPECT_THROW(surgical_plan({{"blocks", "head"}}), std::invalid_argument);  // the head is not a block to list
  EXPECT_THROW(surgical_plan({{"blocks", "Block1"}}), std::invalid_argument);  // names are exact
}

TEST(Surgical, AListWithoutNamesIsRefused) {
  for (const char* list : {"", " ", ",", " , "}) {
    EXPECT_THROW(surgical_plan({{"blocks", list}}), std::invalid_argument) << "'" << list << "'";
  }
}

TEST(Surgical, ShowPrintsTheParameters) {
  std::ostringstream out;
  print_strategy_show(builtins().get("surgical"), out);
  EXPECT_THAT(out.str(), HasSubstr("blocks (string)  default: (unset)"));
  EXPECT_THAT(out.str(), HasSubstr("unset: the first block"));
}

}  // namespace
}  // namespace harness::testing
