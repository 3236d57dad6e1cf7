// fixed_orthonormal / fixed_hadamard: the projection is fixed and (orthonormal | +-1 orthogonal), only
// alpha and the bias train, and the fast Walsh-Hadamard transform equals the dense Hadamard matmul.
#include "builtin_strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace harness::testing {
namespace {

using ::testing::UnorderedElementsAre;

std::vector<std::string> parameter_names(sdk::Head& head) {
  std::vector<std::string> names;
  for (const auto& item : head.named_parameters()) names.push_back(item.key());
  return names;
}

// A few Adam steps with a large learning rate on random data and labels.
void train_a_little(sdk::Head& head, int64_t features, int64_t classes) {
  torch::manual_seed(77);
  torch::optim::Adam optimizer(head.parameters(), torch::optim::AdamOptions(0.1));
  head.train(true);
  for (int step = 0; step < 5; ++step) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(head.forward(torch::randn({32, features})), torch::randint(classes, {32}))
        .backward();
    optimizer.step();
  }
}

// Sylvester's Hadamard matrix H_p (p a power of two), built independently of the plugin.
torch::Tensor sylvester(int64_t p) {
  auto h = torch::ones({1, 1}, torch::kFloat64);
  while (h.size(0) < p) h = torch::cat({torch::cat({h, h}, 1), torch::cat({h, -h}, 1)}, 0);
  return h;
}

torch::Tensor l2_normalized(const torch::Tensor& x) { return x / x.norm(2, {1}, true); }

// The plugin's Hadamard head computed densely: alpha / sqrt(P) * [x_hat, 0] H_P[:C]^T + b.
torch::Tensor dense_hadamard(sdk::Head& head, const torch::Tensor& x, int64_t classes, int64_t p) {
  const auto h = sylvester(p).narrow(0, 0, classes).narrow(1, 0, x.size(1)).to(torch::kFloat32);
  return param(head, "alpha") / std::sqrt(static_cast<double>(p)) * l2_normalized(x).matmul(h.t()) +
         param(head, "bias");
}

TEST(FixedOrthonormal, ProjectionRowsAreOrthonormal) {
  auto head = make_head("fixed_orthonormal", head_spec(64, 10));
  const auto p = head->named_buffers()["projection"];
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{10, 64}));
  EXPECT_TRUE(torch::allclose(p.matmul(p.t()), torch::eye(10), 1e-5, 1e-5));
  // Random, not a slice of the identity.
  EXPECT_GT(p.abs().narrow(1, 10, 54).sum().item<double>(), 1.0);
}

TEST(FixedOrthonormal, MoreClassesThanFeaturesGivesOrthonormalColumns) {
  auto head = make_head("fixed_orthonormal", head_spec(8, 20));
  const auto p = head->named_buffers()["projection"];
  EXPECT_TRUE(torch::allclose(p.t().matmul(p), torch::eye(8), 1e-5, 1e-5));
}

TEST(FixedOrthonormal, OnlyAlphaAndBiasTrainAndTheProjectionNeverChanges) {
  auto head = make_head("fixed_orthonormal", head_spec(64, 10));
  EXPECT_THAT(parameter_names(*head), UnorderedElementsAre("alpha", "bias"));
  EXPECT_DOUBLE_EQ(param(*head, "alpha").item<double>(), 10.0);  // default alpha_init
  const auto before = head->named_buffers()["projection"].clone();
  train_a_little(*head, 64, 10);
  EXPECT_TRUE(torch::equal(head->named_buffers()["projection"], before));
  EXPECT_NE(param(*head, "alpha").item<double>(), 10.0) << "alpha should have been trained";
  EXPECT_GT(param(*head, "bias").abs().sum().item<double>(), 0.0);
  const auto metrics = head->metrics();
  EXPECT_DOUBLE_EQ(metrics.at("alpha"), param(*head, "alpha").item<double>());
}

TEST(FixedOrthonormal, ForwardIsAlphaTimesProjectionOfNormalizedFeatures) {
  auto head = make_head("fixed_orthonormal", head_spec(64, 10), {{"alpha_init", "3"}});
  const auto x = torch::randn({5, 64});
  const auto p = head->named_buffers()["projection"];
  EXPECT_TRUE(torch::allclose(head->forward(x), 3 * l2_normalized(x).matmul(p.t()), 1e-5, 1e-5));
}

TEST(FixedHadamard, OnlyAlphaAndBiasAreTrainable) {
  auto head = make_head("fixed_hadamard", head_spec(100, 10));
  EXPECT_THAT(parameter_names(*head), UnorderedElementsAre("alpha", "bias"));
}

class FixedHadamardImpl : public ::testing::TestWithParam<std::string> {};

TEST_P(FixedHadamardImpl, FwhtEqualsDenseHadamardMatmul) {
  // K = 100 pads to P = 128; K = 64 = P; C > K pads to the next power of two of C.
  for (auto [k, c, p] : {std::tuple<int64_t, int64_t, int64_t>{100, 10, 128}, {64, 10, 64}, {20, 40, 64}}) {
    auto head = make_head("fixed_hadamard", head_spec(k, c), {{"alpha_init", "2.5"}, {"fwht_impl", GetParam()}});
    {
      torch::NoGradGuard no_grad;
      param(*head, "bias").copy_(torch::randn({c}));
    }
    const auto x = torch::randn({7, k});
    EXPECT_TRUE(torch::allclose(head->forward(x), dense_hadamard(*head, x, c, p), 1e-5, 1e-5))
        << "K=" << k << " C=" << c;
  }
}

TEST(FixedHadamard, ProjectionHasEntriesPlusMinusOneAndOrthogonalRows) {
  // Recover the projection column by column from unit inputs: e_k is its own L2 normalization.
  constexpr int64_t kK = 64, kC = 12;
  auto head = make_head("fixed_hadamard", head_spec(kK, kC));
  const double alpha = param(*head, "alpha").item<double>();
  torch::NoGradGuard no_grad;
  const auto m = ((head->forward(torch::eye(kK)) - param(*head, "bias")) * std::sqrt(64.0) / alpha).t();  // [C, K]
  EXPECT_TRUE(torch::allclose(m.abs(), torch::ones({kC, kK}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(m.matmul(m.t()), kK * torch::eye(kC), 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(m.to(torch::kFloat64), sylvester(64).narrow(0, 0, kC), 1e-5, 1e-5));
}

TEST_P(FixedHadamardImpl, GradientsFlowToFeaturesAndAlphaAsInTheDenseForm) {
  constexpr int64_t kK = 100, kC = 10;
  auto head = make_head("fixed_hadamard", head_spec(kK, kC), {{"fwht_impl", GetParam()}});
  const auto x0 = torch::randn({6, kK});
  const auto labels = torch::randint(kC, {6});

  auto x = x0.clone().requires_grad_(true);
  torch::nn::functional::cross_entropy(head->forward(x), labels).backward();
  const auto fast_x = x.grad().clone(), fast_alpha = param(*head, "alpha").grad().clone();
  head->zero_grad();
  auto y = x0.clone().requires_grad_(true);
  torch::nn::functional::cross_entropy(dense_hadamard(*head, y, kC, 128), labels).backward();
  EXPECT_GT(fast_x.abs().sum().item<double>(), 0.0);
  EXPECT_NE(fast_alpha.item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(fast_x, y.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(fast_alpha, param(*head, "alpha").grad(), 1e-5, 1e-6));
}

TEST_P(FixedHadamardImpl, ProjectionNeverChangesWithTraining) {
  constexpr int64_t kK = 100, kC = 10;
  auto head = make_head("fixed_hadamard", head_spec(kK, kC), {{"fwht_impl", GetParam()}});
  train_a_little(*head, kK, kC);
  EXPECT_NE(param(*head, "alpha").item<double>(), 10.0);
  // After training, the head is still alpha * H x_hat + b with the same H.
  const auto x = torch::randn({9, kK});
  EXPECT_TRUE(torch::allclose(head->forward(x), dense_hadamard(*head, x, kC, 128), 1e-5, 1e-5));
}

// Both implementations: the CPU butterfly kernel (custom autograd function) and the tensor-op one.
INSTANTIATE_TEST_SUITE_P(Impl, FixedHadamardImpl, ::testing::Values("auto", "tensor_ops"));

}  // namespace
}  // namespace harness::testing
