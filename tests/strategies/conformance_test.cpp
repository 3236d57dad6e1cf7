// Conformance: every plugin in the build's strategies folder honours the SDK contract.
#include "builtin_strategies.h"

#include <boost/filesystem.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace harness::testing {
namespace {

const std::set<std::string> kBuiltins = {"he_base", "warmup", "mei", "mei_fn", "zero_head", "xavier",
                                         "linear_probe", "lp_ft", "fixed_orthonormal", "fixed_hadamard",
                                         "llrd", "surgical", "l2_sp", "imprint", "lp_ft_kumar", "bn_probe"};

// The host always hands make_head the training features (the SDK promises a non-null source):
// here M = 4C deterministic examples, every class present, so data-dependent heads can be built.
class SyntheticFeatures final : public sdk::FeatureSource {
 public:
  SyntheticFeatures(int64_t features, int64_t classes) : features_(features), classes_(classes) {}
  sdk::TrainingFeatures get(int64_t) override {
    const int64_t m = 4 * classes_;
    return {torch::sin(torch::arange(m * features_, torch::kFloat32).view({m, features_}) * 0.37f),
            torch::arange(m, torch::kLong).remainder(classes_)};
  }

 private:
  int64_t features_, classes_;
};

// head_spec(k, c) with training features, for as long as the returned spec lives.
struct SpecWithFeatures {
  SpecWithFeatures(int64_t features, int64_t classes) : source(features, classes), spec(head_spec(features, classes)) {
    spec.training_features = &source;
  }
  SpecWithFeatures(const SpecWithFeatures&) = delete;  // spec points into this object
  SpecWithFeatures& operator=(const SpecWithFeatures&) = delete;
  SyntheticFeatures source;
  sdk::HeadSpec spec;
};

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
    const SpecWithFeatures with_features(k, c);
    auto head = loaded.make_head(with_features.spec, params);
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
  const SpecWithFeatures with_features(16, 5);
  torch::manual_seed(9);
  auto a = loaded.make_head(with_features.spec, params);
  torch::manual_seed(9);
  auto b = loaded.make_head(with_features.spec, params);
  const auto x = torch::randn({4, 16});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));

  // A plan for every step, the head always trains.
  for (int64_t step : {1, 2, 100}) EXPECT_TRUE(s.plan(at_step(step), params).train_head);
  // Bad sizes are refused with an error, not a crash.
  EXPECT_THROW(loaded.make_head(SpecWithFeatures(0, 5).spec, params), PluginError);
}

INSTANTIATE_TEST_SUITE_P(Builtins, EachPlugin, ::testing::ValuesIn(std::vector<std::string>(kBuiltins.begin(), kBuiltins.end())),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace harness::testing
