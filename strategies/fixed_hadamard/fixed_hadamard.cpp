// fixed_hadamard: "Fix your classifier" with a truncated Hadamard projection applied by a
// fast Walsh-Hadamard transform (additions and subtractions only), learned scale alpha and bias.
#include <harness/strategy.h>

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>

namespace harness::strategies {
namespace {

constexpr double kDefaultAlpha = 10.0;

int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

// y = H_P x for each row of x [N, P] (P a power of two), H_P the Sylvester Hadamard matrix
// in natural order, H[i][j] = (-1)^popcount(i & j): log2(P) butterfly stages of additions
// and subtractions, O(N P log P), instead of an O(N P C) matmul.

// Any device: composed of differentiable tensor ops (3 temporaries per stage).
torch::Tensor fwht_tensor_ops(torch::Tensor x) {
  const int64_t n = x.size(0), p = x.size(1);
  for (int64_t h = 1; h < p; h *= 2) {
    const auto pairs = x.reshape({n, p / (2 * h), 2, h});
    const auto a = pairs.select(2, 0), b = pairs.select(2, 1);
    x = torch::stack({a + b, a - b}, 2).reshape({n, p});
  }
  return x;
}

template <typename T>
void fwht_rows_in_place(T* data, int64_t rows, int64_t p) {
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      T* row = data + r * p;  // one row stays in L1 through all stages
      for (int64_t h = 1; h < p; h *= 2) {
        for (int64_t i = 0; i < p; i += 2 * h) {
          for (int64_t j = i; j < i + h; ++j) {
            const T a = row[j], b = row[j + h];
            row[j] = a + b;
            row[j + h] = a - b;
          }
        }
      }
    }
  });
}

torch::Tensor fwht_cpu(const torch::Tensor& x) {
  auto y = x.contiguous().clone();
  if (y.scalar_type() == torch::kFloat64) {
    fwht_rows_in_place(y.data_ptr<double>(), y.size(0), y.size(1));
  } else {
    fwht_rows_in_place(y.data_ptr<float>(), y.size(0), y.size(1));
  }
  return y;
}

// CPU float/double: in-place butterflies in one buffer. H_P is symmetric, so the
// backward pass is the same transform of the incoming gradient.
struct FwhtFunction : public torch::autograd::Function<FwhtFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) { return fwht_cpu(x); }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grad) {
    return {fwht_cpu(grad[0])};
  }
};

torch::Tensor fwht(const torch::Tensor& x, bool force_tensor_ops) {
  const bool cpu_kernel = !force_tensor_ops && x.device().is_cpu() &&
                          (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64);
  return cpu_kernel ? FwhtFunction::apply(x) : fwht_tensor_ops(x);
}

// logits = alpha / sqrt(P) * (H_P [x_hat, 0])[:C] + b, x_hat = x / ||x||_2: the projection
// is the first C rows of H_P (entries +-1, rows orthogonal, norm sqrt(P)) acting on the
// features zero-padded from K to P = next power of two >= max(K, C). Restricted to the K
// real coordinates its rows stay orthogonal exactly when K = P. The 1/sqrt(P) makes the
// rows unit-norm so alpha means the same as in fixed_orthonormal. Nothing is stored: the
// projection is fixed by construction.
class FixedHadamardHead final : public sdk::Head {
 public:
  FixedHadamardHead(int64_t features, int64_t classes, double alpha_init, bool force_tensor_ops)
      : features_(features),
        classes_(classes),
        padded_(next_power_of_two(std::max(features, classes))),
        alpha_(register_parameter("alpha", torch::full({}, alpha_init))),
        bias_(register_parameter("bias", torch::zeros({classes}))),
        force_tensor_ops_(force_tensor_ops) {
    if (features <= 0 || classes <= 0) throw std::invalid_argument("head needs positive features and classes");
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    const auto x_hat = x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(kMinNorm);
    const auto padded = torch::constant_pad_nd(x_hat, {0, padded_ - features_});
    const auto projected = fwht(padded, force_tensor_ops_).narrow(1, 0, classes_);
    return projected * (alpha_ / std::sqrt(static_cast<double>(padded_))) + bias_;
  }

  std::map<std::string, double> metrics() override { return {{"alpha", alpha_.item<double>()}}; }

 private:
  static constexpr double kMinNorm = 1e-12;

  int64_t features_;
  int64_t classes_;
  int64_t padded_;
  torch::Tensor alpha_;
  torch::Tensor bias_;
  bool force_tensor_ops_;
};

class FixedHadamard final : public sdk::Strategy {
 public:
  std::string name() const override { return "fixed_hadamard"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "fixed truncated Hadamard projection (fast Walsh-Hadamard transform) of L2-normalized features, "
           "learned scale alpha and bias";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec alpha;
    alpha.name = "alpha_init";
    alpha.type = sdk::ParamType::Real;
    alpha.default_value = "10";  // kDefaultAlpha
    alpha.min = 0;
    alpha.help = "initial value of the learned logit scale alpha (rows are scaled to unit norm; "
                 "Hoffer et al. found a fixed alpha of 1 to 10 enough)";
    sdk::ParamSpec impl;
    impl.name = "fwht_impl";
    impl.type = sdk::ParamType::String;
    impl.default_value = "auto";
    impl.choices = {"auto", "tensor_ops"};
    impl.help = "auto: in-place butterfly kernel on CPU (float/double), tensor ops elsewhere; "
                "tensor_ops: always the portable differentiable composition (for checks and benchmarks)";
    return {alpha, impl};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return std::make_shared<FixedHadamardHead>(spec.features, spec.classes,
                                               params.has("alpha_init") ? params.real("alpha_init") : kDefaultAlpha,
                                               params.has("fwht_impl") && params.text("fwht_impl") == "tensor_ops");
  }
};

}  // namespace
}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::FixedHadamard)
