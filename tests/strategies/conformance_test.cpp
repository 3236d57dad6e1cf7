// Conformance: every plugin in the build's strategies folder honours the SDK contract.
#include "builtin_strategies.h"

#include <boost/filesystem.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace harness::testing {
namespace {

const std::set<std::string> kBuiltins = {"he_base", "warmup", "mei", "mei_fn", "zero_head", "xavier",
                                         "linear_probe", "lp_ft", "fixed_orthonormal", "fixed_hadamard"};

TEST(Conformance, EveryBuiltinLoadsWithoutProblems) {
  for (const auto& problem : builtins().problems()) ADD_FAILURE() << problem;
  const auto names = builtins().names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), kBuiltins);
}

TEST(Conformance, EveryPluginFileInTheFolderIsABuiltin) {
  std::set<std::string> stems;
  for (boost::filesystem::directory_iterator it(HARNESS_STRATEGY_DIR), end; it != end; ++it) {
    if (it->path().extension() == ".so") stems.insert(it->path().stem().string());
  }
  EXPECT_EQ(stems, kBuiltins);
}

class EachPlugin : public ::testing::TestWithParam<std::string> {};

TEST_P(EachPlugin, HonoursTheContract) {
  const LoadedStrategy& loaded = builtins().get(GetParam());
  const sdk::Strategy& s = loaded.strategy();
  // The ABI tag matched (load succeeded); name, file and metadata agree.
  EXPECT_EQ(s.name(), GetParam());
  EXPECT_EQ(boost::filesystem::path(loaded.file()).filename().string(), GetParam() + ".so");
  EXPECT_FALSE(s.version().empty());
  EXPECT_FALSE(s.description().empty());
  EXPECT_EQ(s.description().find('\n'), std::string::npos) << "description must be one line";
  EXPECT_EQ(loaded.file_hash().size(), 40u);

  // Parameters: each documented; defaults (or documented absence) resolve.
  for (const auto& p : s.parameters()) {
    EXPECT_FALSE(p.help.empty()) << p.name;
    if (p.default_value.empty()) {
      EXPECT_THAT(p.help, ::testing::HasSubstr("unset")) << p.name << ": an optional parameter says what unset means";
    }
  }
  const sdk::Params params = resolve_params(s, {});

  // make_head: [N, K] -> [N, C], trainable, gradient reaches the features.
  for (auto [k, c] : {std::pair<int64_t, int64_t>{16, 5}, {7, 12}}) {
    torch::manual_seed(3);
    auto head = loaded.make_head(head_spec(k, c), params);
    head->train(true);
    auto x = torch::randn({6, k}, torch::requires_grad());
    const auto logits = head->forward(x);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{6, c})) << "K=" << k << " C=" << c;
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
    EXPECT_FALSE(head->parameters().empty());
    torch::nn::functional::cross_entropy(logits, torch::randint(c, {6})).backward();
    ASSERT_TRUE(x.grad().defined());
    head->eval();
    EXPECT_EQ(head->forward(torch::randn({3, k})).sizes(), (std::vector<int64_t>{3, c}));
    torch::NoGradGuard no_grad;
    for (const auto& [name, value] : head->metrics()) EXPECT_TRUE(std::isfinite(value)) << name;
  }
  // The same seed gives the same head.
  torch::manual_seed(9);
  auto a = loaded.make_head(head_spec(16, 5), params);
  torch::manual_seed(9);
  auto b = loaded.make_head(head_spec(16, 5), params);
  const auto x = torch::randn({4, 16});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));

  // A plan for every step, the head always trains.
  for (int64_t step : {1, 2, 100}) EXPECT_TRUE(s.plan(at_step(step), params).train_head);
  // Bad sizes are refused with an error, not a crash.
  EXPECT_THROW(loaded.make_head(head_spec(0, 5), params), PluginError);
}

INSTANTIATE_TEST_SUITE_P(Builtins, EachPlugin, ::testing::ValuesIn(std::vector<std::string>(kBuiltins.begin(), kBuiltins.end())),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace harness::testing
