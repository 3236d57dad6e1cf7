// Tests of StrategyRegistry discovery, duplicates, lookup errors and the CLI printing helpers.
#include "harness/loader/strategy_registry.h"

#include "harness/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace harness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const std::string kDir = HARNESS_TEST_PLUGIN_DIR;

TEST(StrategyRegistry, DiscoversFoldersAndRecordsEachRefusal) {
  const auto registry = StrategyRegistry::discover({kDir + "/good", kDir + "/bad", kDir + "/dup", kDir + "/missing"});
  EXPECT_EQ(registry.names(), std::vector<std::string>{"good_plugin"});
  // 7 files in bad/, the duplicate in dup/, the missing folder.
  ASSERT_THAT(registry.problems(), SizeIs(9));
  const std::string all = [&] {
    std::string s;
    for (const auto& p : registry.problems()) s += p + "\n";
    return s;
  }();
  for (const char* file : {"wrong_abi.so", "no_factory.so", "no_abi.so", "throwing_factory.so", "name_mismatch.so",
                           "bad_param_default.so", "not_a_library.so", "dup/good_plugin.so", "missing"}) {
    EXPECT_THAT(all, HasSubstr(file));
  }
  EXPECT_THAT(all, HasSubstr("already loaded from " + kDir + "/good/good_plugin.so"));
  // Every refused plugin file is also a broken plugin: the 7 of bad/ and the duplicate.
  EXPECT_THAT(registry.broken(), SizeIs(8));
}

TEST(StrategyRegistry, ABrokenPluginIsRecordedAndOnlyUsingItIsAnError) {
  const auto registry = StrategyRegistry::discover({kDir + "/good", kDir + "/throwing"});
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"good_plugin", "non_std_calls"}));
  std::vector<std::string> broken;
  for (const BrokenPlugin& b : registry.broken()) {
    broken.push_back(b.name);
    EXPECT_EQ(b.file, kDir + "/throwing/" + b.name + ".so");
    EXPECT_THAT(b.reason, HasSubstr(b.file));
  }
  EXPECT_EQ(broken, (std::vector<std::string>{"int_factory", "int_version", "throwing_parameters"}));
  EXPECT_EQ(registry.get("good_plugin").name(), "good_plugin");
  try {
    registry.get("throwing_parameters");
    FAIL() << "expected a PluginError";
  } catch (const PluginError& e) {
    EXPECT_THAT(std::string(e.what()), AllOf(HasSubstr("'throwing_parameters' cannot be used"),
                                             HasSubstr("throwing_parameters.so"),
                                             HasSubstr("parameters failed on purpose")));
  }
  std::ostringstream out;
  print_strategy_list(registry, out);
  EXPECT_THAT(out.str(), AllOf(HasSubstr("good_plugin"), HasSubstr("non_std_calls"),
                               HasSubstr("throwing_parameters  BROKEN"), HasSubstr("int_factory")));
}

TEST(StrategyRegistry, AddFileRefusesADuplicateNameAndStaysUnchanged) {
  StrategyRegistry registry;
  const LoadedStrategy& first = registry.add_file(kDir + "/good/good_plugin.so");
  try {
    registry.add_file(kDir + "/dup/good_plugin.so");
    FAIL() << "expected a PluginError";
  } catch (const PluginError& e) {
    EXPECT_THAT(std::string(e.what()), AllOf(HasSubstr("dup/good_plugin.so"), HasSubstr("'good_plugin'"),
                                             HasSubstr("unique")));
  }
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(&registry.get("good_plugin"), &first);
}

TEST(StrategyRegistry, SameFileTwiceIsLoadedOnce) {
  StrategyRegistry registry;
  const LoadedStrategy& a = registry.add_file(kDir + "/good/good_plugin.so");
  const LoadedStrategy& b = registry.add_file(kDir + "/good/../good/good_plugin.so");
  EXPECT_EQ(&a, &b);
  const auto discovered = StrategyRegistry::discover({kDir + "/good", kDir + "/good/good_plugin.so"});
  EXPECT_EQ(discovered.size(), 1u);
  EXPECT_TRUE(discovered.problems().empty());
}

TEST(StrategyRegistry, ExplicitFileRefusalThrowsPluginError) {
  StrategyRegistry registry;
  EXPECT_THROW(registry.add_file(kDir + "/bad/wrong_abi.so"), PluginError);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(StrategyRegistry, GetListsTheKnownNames) {
  const auto registry = StrategyRegistry::discover({kDir + "/good", kDir + "/bad/throwing_factory.so"});
  try {
    registry.get("mei");
    FAIL() << "expected a PluginError";
  } catch (const PluginError& e) {
    EXPECT_THAT(std::string(e.what()), AllOf(HasSubstr("unknown strategy 'mei'"), HasSubstr("known: good_plugin"),
                                             HasSubstr("throwing_factory.so")));
  }
  EXPECT_EQ(registry.find("mei"), nullptr);
}

TEST(StrategyRegistry, RegistryIsMovable) {
  auto registry = StrategyRegistry::discover({kDir + "/good"});
  const LoadedStrategy* before = &registry.get("good_plugin");
  StrategyRegistry moved = std::move(registry);
  EXPECT_EQ(&moved.get("good_plugin"), before);
}

TEST(PrintStrategy, ListShowsNameVersionDescriptionFile) {
  const auto registry = StrategyRegistry::discover({kDir + "/good"});
  std::ostringstream out;
  print_strategy_list(registry, out);
  EXPECT_THAT(out.str(), AllOf(HasSubstr("good_plugin"), HasSubstr("1.2.3"),
                               HasSubstr("test plugin with one parameter of each type"),
                               HasSubstr(kDir + "/good/good_plugin.so")));
  std::ostringstream empty;
  print_strategy_list(StrategyRegistry(), empty);
  EXPECT_THAT(empty.str(), HasSubstr("no strategy plugins found"));
}

TEST(PrintStrategy, ShowListsParametersWithTypeDefaultBoundsHelp) {
  const auto registry = StrategyRegistry::discover({kDir + "/good"});
  std::ostringstream out;
  print_strategy_show(registry.get("good_plugin"), out);
  const std::string text = out.str();
  EXPECT_THAT(text, AllOf(HasSubstr("steps (int)"), HasSubstr("default: 3"), HasSubstr("[0, 10]"),
                          HasSubstr("an int in [0, 10]")));
  EXPECT_THAT(text, AllOf(HasSubstr("rate (real)"), HasSubstr("flag (bool)"), HasSubstr("mode (string)"),
                          HasSubstr("a|b"), HasSubstr("optional (real)"), HasSubstr("(unset)")));
  EXPECT_THAT(text, HasSubstr(registry.get("good_plugin").file_hash()));
}

}  // namespace
}  // namespace harness
