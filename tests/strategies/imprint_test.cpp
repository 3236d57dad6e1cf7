// imprint (Qi, Brown, Lowe 2018): W_c = normalize(mean of normalize(x) over class c), logits s cos(W_c, x).
#include "builtin_strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace harness::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kK = 8;
constexpr int64_t kC = 4;
// The plugin sums in float64 and stores float32 unit vectors: each component is off by at most
// one float32 rounding, 2^-24 ~ 6e-8; 1e-6 leaves room for the float32 forward's dot products.
constexpr double kTol = 1e-6;

// Fixed features handed over as the host would, remembering what it was asked for.
class FixedFeatures final : public sdk::FeatureSource {
 public:
  FixedFeatures(torch::Tensor features, torch::Tensor labels) : data_{std::move(features), std::move(labels)} {}
  sdk::TrainingFeatures get(int64_t max_examples) override {
    requested.push_back(max_examples);
    return data_;
  }
  std::vector<int64_t> requested;

 private:
  sdk::TrainingFeatures data_;
};

// M examples of K features, class c centred on 3 e_c, with varying norms (so that normalizing
// each x before averaging matters: the plain class mean points elsewhere).
FixedFeatures class_clusters(int64_t m) {
  torch::manual_seed(21);
  const auto labels = torch::arange(m, torch::kLong).remainder(kC);
  const auto centres = 3 * torch::eye(kC, kK);
  const auto scale = torch::rand({m, 1}) * 5 + 0.1;
  return FixedFeatures((centres.index_select(0, labels) + torch::randn({m, kK})) * scale, labels);
}

std::shared_ptr<sdk::Head> imprinted(FixedFeatures& source, const std::map<std::string, std::string>& given = {}) {
  sdk::HeadSpec spec = head_spec(kK, kC);
  spec.training_features = &source;
  return make_head("imprint", spec, given);
}

torch::Tensor unit_rows(const torch::Tensor& x) { return x / x.norm(2, {1}, true); }

TEST(Imprint, WeightsAreTheNormalizedClassMeansOfNormalizedFeatures) {
  FixedFeatures source = class_clusters(203);
  auto head = imprinted(source);
  const auto& data = source.get(0);
  const auto x = unit_rows(data.features.to(torch::kFloat64));
  const auto w = param(*head, "weight").to(torch::kFloat64);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{kC, kK}));
  for (int64_t c = 0; c < kC; ++c) {
    const auto mean = x.index_select(0, data.labels.eq(c).nonzero().view({-1})).mean(0);
    const auto expected = mean / mean.norm();
    EXPECT_TRUE(torch::allclose(w[c], expected, 0, kTol)) << "class " << c;
    // Not the plain mean's direction: the test can tell the two rules apart.
    const auto plain =
        data.features.to(torch::kFloat64).index_select(0, data.labels.eq(c).nonzero().view({-1})).mean(0);
    EXPECT_GT((w[c] - plain / plain.norm()).abs().max().item<double>(), 100 * kTol) << "class " << c;
  }
}

TEST(Imprint, ForwardIsScaleTimesCosineWithoutBias) {
  FixedFeatures source = class_clusters(40);
  auto head = imprinted(source, {{"scale", "4"}});
  std::vector<std::string> names;
  for (const auto& item : head->named_parameters()) names.push_back(item.key());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("weight", "scale"));
  EXPECT_DOUBLE_EQ(param(*head, "scale").item<double>(), 4.0);
  EXPECT_DOUBLE_EQ(head->metrics().at("scale"), 4.0);
  {  // forward normalizes W itself, so a fine-tuned (no longer unit) W is still used by direction
    torch::NoGradGuard no_grad;
    param(*head, "weight").mul_(torch::rand({kC, 1}) * 3 + 0.5).add_(0.1 * torch::randn({kC, kK}));
  }
  const auto x = torch::randn({7, kK}) * 10;
  const auto w = param(*head, "weight").detach().to(torch::kFloat64);
  const auto expected = 4.0 * unit_rows(x.to(torch::kFloat64)).matmul(unit_rows(w).t());
  EXPECT_TRUE(torch::allclose(head->forward(x).detach().to(torch::kFloat64), expected, 0, 4 * kTol));
}

TEST(Imprint, ScaleIsLearned) {
  FixedFeatures source = class_clusters(40);
  auto head = imprinted(source);
  torch::nn::functional::cross_entropy(head->forward(torch::randn({5, kK})), torch::randint(kC, {5})).backward();
  EXPECT_TRUE(param(*head, "scale").grad().defined());
  EXPECT_NE(param(*head, "scale").grad().item<double>(), 0.0);
}

TEST(Imprint, MaxExamplesIsPassedToTheHost) {
  FixedFeatures source = class_clusters(40);
  imprinted(source);
  imprinted(source, {{"max_examples", "17"}});
  EXPECT_EQ(source.requested, (std::vector<int64_t>{0, 17}));
}

TEST(Imprint, AClassWithoutExamplesIsRefusedByName) {
  const auto labels = torch::tensor({0, 1, 3, 0, 1, 3}, torch::kLong);  // no class 2
  FixedFeatures source(torch::randn({6, kK}), labels);
  try {
    imprinted(source);
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no training example of class 2"));
  }
}

TEST(Imprint, FeaturesOfTheWrongWidthOrLabelsOutOfRangeAreRefused) {
  FixedFeatures narrow(torch::randn({8, kK - 1}), torch::arange(8, torch::kLong).remainder(kC));
  EXPECT_THROW(imprinted(narrow), PluginError);
  FixedFeatures bad_label(torch::randn({8, kK}), torch::arange(8, torch::kLong));
  EXPECT_THROW(imprinted(bad_label), PluginError);
}

TEST(Imprint, ShowPrintsTheParameters) {
  std::ostringstream out;
  print_strategy_show(builtins().get("imprint"), out);
  EXPECT_THAT(out.str(), HasSubstr("scale (real)  default: 10"));
  EXPECT_THAT(out.str(), HasSubstr("max_examples (int)  default: 0"));
}

}  // namespace
}  // namespace harness::testing
