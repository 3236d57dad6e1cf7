// fixed_orthonormal: "Fix your classifier" (Hoffer et al. 2018): a fixed random orthonormal
// projection of L2-normalized features, one learned scale alpha and a learned bias.
#include <harness/strategy.h>

#include <algorithm>

namespace harness::strategies {

// logits = alpha * P x / ||x||_2 + b with P [C, K] a fixed buffer. For C <= K its rows
// are orthonormal (P = Q^T of the QR of a K x C Gaussian); for C > K orthonormal rows
// cannot exist and its columns are orthonormal instead.
class FixedOrthonormalHead final : public sdk::Head {
 public:
  FixedOrthonormalHead(int64_t features, int64_t classes, double alpha_init)
      : projection_(register_buffer("projection", random_orthonormal(classes, features))),
        alpha_(register_parameter("alpha", torch::full({}, alpha_init))),
        bias_(register_parameter("bias", torch::zeros({classes}))) {}

  torch::Tensor forward(const torch::Tensor& x) override {
    const auto x_hat = x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(kMinNorm);
    return alpha_ * x_hat.matmul(projection_.t()) + bias_;
  }

  std::map<std::string, double> metrics() override { return {{"alpha", alpha_.item<double>()}}; }

 private:
  static constexpr double kMinNorm = 1e-12;  // an all-zero feature row maps to the bias alone

  static torch::Tensor random_orthonormal(int64_t classes, int64_t features) {
    if (classes <= 0 || features <= 0) throw std::invalid_argument("head needs positive features and classes");
    torch::NoGradGuard no_grad;
    const int64_t rows = std::max(classes, features), cols = std::min(classes, features);
    const auto gaussian = torch::randn({rows, cols}, torch::kFloat64);
    auto [q, r] = torch::linalg_qr(gaussian, "reduced");
    // Sign of diag(R) fixed so Q is Haar-distributed, not biased by the QR convention.
    q = q * r.diagonal().sign().unsqueeze(0);
    const auto p = classes <= features ? q.t() : q;  // [C, K]
    return p.to(torch::kFloat32).contiguous();
  }

  torch::Tensor projection_;
  torch::Tensor alpha_;
  torch::Tensor bias_;
};

constexpr double kDefaultAlpha = 10.0;

class FixedOrthonormal final : public sdk::Strategy {
 public:
  std::string name() const override { return "fixed_orthonormal"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "fixed random orthonormal C x K projection of L2-normalized features, learned scale alpha and bias";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec alpha;
    alpha.name = "alpha_init";
    alpha.type = sdk::ParamType::Real;
    alpha.default_value = "10";  // kDefaultAlpha
    alpha.min = 0;
    alpha.help = "initial value of the learned logit scale alpha (logits lie in [-alpha, alpha] + b; "
                 "Hoffer et al. found a fixed alpha of 1 to 10 enough)";
    return {alpha};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return std::make_shared<FixedOrthonormalHead>(spec.features, spec.classes, params.has("alpha_init") ? params.real("alpha_init") : kDefaultAlpha);
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::FixedOrthonormal)
