// lp_ft_kumar: LP-FT as Kumar et al. 2022 run it: a logistic-regression probe fitted to convergence on
// the frozen features (the LP step), then everything fine-tunes from step 1 (the FT step).
#include <harness/strategy.h>

#include <torch/nn/functional/loss.h>
#include <torch/optim/lbfgs.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace harness::strategies {

constexpr double kDefaultL2 = 1e-4;
constexpr double kDefaultTolerance = 1e-7;
constexpr int64_t kDefaultMaxIterations = 1000;
// L-BFGS also stops when the objective changes by less than this between iterations. It is only a
// guard against stagnation at float64 rounding (~5 ulps of a loss near 1), so that the gradient
// tolerance decides: near the optimum f - f* ~ ||g||^2 / (2 l2), and with l2 = 1e-4 a loss change of
// 1e-12 still leaves gradients ~3e-7 (seen in the tests with 1e-12 here).
constexpr double kLossChangeTolerance = 1e-15;

namespace {

namespace F = torch::nn::functional;

struct ProbeFit {
  torch::Tensor weight;  // [C, K] float64
  torch::Tensor bias;    // [C]
  double loss = 0;       // the regularized objective at the end
  double grad_max = 0;   // max |component| of its gradient at the end
  int64_t iterations = 0;
};

// The probe's objective: mean cross-entropy of softmax(x W^T + b) + l2/2 ||W||_F^2. This is
// sklearn's L2 logistic regression (what Kumar et al. fit) divided by C_sklearn * M, so
// l2 = 1 / (C_sklearn M); the bias is not penalized, as sklearn's lbfgs solver leaves it.
torch::Tensor probe_objective(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& w,
                              const torch::Tensor& b, double l2) {
  return F::cross_entropy(torch::addmm(b, x, w.t()), y) + 0.5 * l2 * w.pow(2).sum();
}

// Full-batch L-BFGS with a strong Wolfe line search from W = 0, in float64 on the features' device.
// It runs on centred features, logits = W (x - mu) + c, and returns b = c - W mu: the same
// objective (the bias is not penalized), but ReLU features are all positive, and their common
// mean couples W with b into a badly conditioned problem that L-BFGS crawls through (on the convnet's
// digit features: > 4000 iterations to max |grad| 3e-7 uncentred, 157 to 2e-7 centred). The gradients
// are related by dW = dW' + db mu^T, so stopping at max |dW'|, |db| <= tol / (1 + max |mu|) keeps
// max |grad| <= tol in the original coordinates, where the loss and gradient reported are
// recomputed. Throws std::invalid_argument for features of the wrong shape or labels.
ProbeFit fit_probe(const sdk::TrainingFeatures& data, int64_t features, int64_t classes, double l2,
                   double tolerance, int64_t max_iterations) {
  if (data.features.dim() != 2 || data.features.size(1) != features || data.labels.dim() != 1 ||
      data.labels.size(0) != data.features.size(0) || data.features.size(0) == 0) {
    throw std::invalid_argument("lp_ft_kumar: expected non-empty training features [M, " + std::to_string(features) +
                                "] with M labels");
  }
  const auto x = data.features.to(torch::kFloat64);
  const auto y = data.labels.to(torch::kLong);
  if (y.min().item<int64_t>() < 0 || y.max().item<int64_t>() >= classes) {
    throw std::invalid_argument("lp_ft_kumar: a training label is outside [0, " + std::to_string(classes) + ")");
  }
  const auto mu = x.mean(0);
  const auto centred = x - mu;
  auto w = torch::zeros({classes, features}, x.options()).requires_grad_(true);
  auto c = torch::zeros({classes}, x.options()).requires_grad_(true);
  torch::optim::LBFGS lbfgs({w, c}, torch::optim::LBFGSOptions(1.0)
                                        .max_iter(max_iterations)
                                        .max_eval(2 * max_iterations)
                                        .tolerance_grad(tolerance / (1.0 + mu.abs().max().item<double>()))
                                        .tolerance_change(kLossChangeTolerance)
                                        .line_search_fn("strong_wolfe"));
  lbfgs.step([&] {  // one step() runs up to max_iter iterations
    lbfgs.zero_grad();
    auto f = probe_objective(centred, y, w, c, l2);
    f.backward();
    return f;
  });

  ProbeFit fit;
  for (const auto& entry : lbfgs.state()) {  // LBFGS keeps one state, for the whole parameter group
    fit.iterations = static_cast<const torch::optim::LBFGSParamState&>(*entry.second).n_iter();
  }
  fit.weight = w.detach().clone().requires_grad_(true);
  fit.bias = (c - w.matmul(mu)).detach().requires_grad_(true);
  const auto f = probe_objective(x, y, fit.weight, fit.bias, l2);
  f.backward();
  fit.loss = f.item<double>();
  fit.grad_max = std::max(fit.weight.grad().abs().max().item<double>(), fit.bias.grad().abs().max().item<double>());
  fit.weight = fit.weight.detach();
  fit.bias = fit.bias.detach();
  return fit;
}

// The plain affine head, plus the probe's fit as constant per-step metrics.
class ProbeHead final : public sdk::LinearHead {
 public:
  ProbeHead(int64_t features, int64_t classes) : LinearHead(features, classes) {}
  std::map<std::string, double> metrics() override { return fit_metrics_; }
  void set_fit_metrics(std::map<std::string, double> metrics) { fit_metrics_ = std::move(metrics); }

 private:
  std::map<std::string, double> fit_metrics_;
};

sdk::ParamSpec param(const char* name, sdk::ParamType type, const char* default_value, double min, const char* help) {
  sdk::ParamSpec p;
  p.name = name;
  p.type = type;
  p.default_value = default_value;
  p.min = min;
  p.help = help;
  return p;
}

}  // namespace

class LpFtKumar final : public sdk::Strategy {
 public:
  std::string name() const override { return "lp_ft_kumar"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "head = L2 logistic regression fitted by L-BFGS to convergence on the frozen training features; then all "
           "trains";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    return {
        param("probe_l2", sdk::ParamType::Real, "1e-4", 0,
              "l2 in mean CE + l2/2 ||W||^2 (= 1/(C M) for sklearn's C); 1e-4 is sklearn's default C = 1 at M = 10000; "
              "0 leaves separable features without an optimum: the fit then stops at probe_max_iterations"),
        param("probe_examples", sdk::ParamType::Int, "0", 0,
              "training examples the probe is fitted on, drawn with the trial's seed; 0 = all"),
        param("probe_tolerance", sdk::ParamType::Real, "1e-7", 0,
              "converged when every component of the objective's gradient is at most this (or the loss stops falling)"),
        param("probe_max_iterations", sdk::ParamType::Int, "1000", 1, "cap on the L-BFGS iterations of the fit"),
    };
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    auto head = std::make_shared<ProbeHead>(spec.features, spec.classes);
    if (spec.training_features == nullptr) {
      throw std::invalid_argument("lp_ft_kumar: the host gave no training features");
    }
    const int64_t examples = params.has("probe_examples") ? params.integer("probe_examples") : 0;
    const ProbeFit fit = fit_probe(spec.training_features->get(examples), spec.features, spec.classes,
                                   params.has("probe_l2") ? params.real("probe_l2") : kDefaultL2,
                                   params.has("probe_tolerance") ? params.real("probe_tolerance") : kDefaultTolerance,
                                   params.has("probe_max_iterations") ? params.integer("probe_max_iterations")
                                                                      : kDefaultMaxIterations);
    {
      torch::NoGradGuard no_grad;
      head->weight().copy_(fit.weight);
      head->bias().copy_(fit.bias);
    }
    head->set_fit_metrics({{"probe_loss", fit.loss},
                           {"probe_grad_max", fit.grad_max},
                           {"probe_iterations", static_cast<double>(fit.iterations)}});
    return head;
  }
  // The plan is the default: after the probe, everything trains from step 1.
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::LpFtKumar)
