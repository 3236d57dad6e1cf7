// bn_probe: MAE / MoCo v3 linear probing: BatchNorm without affine parameters over X^L, then a small linear head.
#include <harness/strategy.h>

#include <torch/nn/modules/batchnorm.h>

#include <stdexcept>
#include <string>

namespace harness::strategies {

constexpr double kDefaultStd = 0.01;
constexpr double kDefaultMomentum = 0.1;
constexpr double kDefaultEps = 1e-6;

// He et al. 2022 (MAE, Sec. A.2 / main_linprobe.py) and Chen et al. 2021 (MoCo v3): an extra
// BatchNorm1d(K, affine = false) in front of the linear classifier normalizes features whose
// scales differ across backbones; being affine-free and linear it could be folded into the
// linear layer at inference. Training: batch mean and biased batch variance; inference: running
// averages (torch's update, momentum m: r <- (1 - m) r + m stat, unbiased variance in r).
class BnProbeHead final : public sdk::Head {
 public:
  BnProbeHead(int64_t features, int64_t classes, double momentum, double eps)
      : linear_(std::make_shared<sdk::LinearHead>(features, classes)),
        bn_(torch::nn::BatchNorm1dOptions(features).affine(false).momentum(momentum).eps(eps)) {
    register_module("bn", bn_);
    register_module("linear", linear_);
  }

  torch::Tensor forward(const torch::Tensor& x) override { return linear_->forward(bn_->forward(x)); }
  sdk::LinearHead& linear() { return *linear_; }

 private:
  std::shared_ptr<sdk::LinearHead> linear_;  // constructed first: it checks K and C before BatchNorm sees them
  torch::nn::BatchNorm1d bn_;
};

namespace {

sdk::ParamSpec real_param(const char* name, const char* default_value, double min, std::optional<double> max,
                          const char* help) {
  sdk::ParamSpec p;
  p.name = name;
  p.type = sdk::ParamType::Real;
  p.default_value = default_value;
  p.min = min;
  p.max = max;
  p.help = help;
  return p;
}

}  // namespace

class BnProbe final : public sdk::Strategy {
 public:
  std::string name() const override { return "bn_probe"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "affine-free BatchNorm over X^L, then a linear head W ~ N(0, std^2), b = 0 (MAE / MoCo v3 linear probing)";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    return {real_param("std", "0.01", 0, std::nullopt, "standard deviation of the head's weights (MAE: 0.01), bias 0"),
            real_param("momentum", "0.1", 0, 1,
                       "BatchNorm running-average momentum m: r <- (1 - m) r + m batch statistic"),
            real_param("eps", "1e-6", 0, std::nullopt, "epsilon in sqrt(var + eps) (MAE's linear probe: 1e-6)")};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    auto head = std::make_shared<BnProbeHead>(spec.features, spec.classes,
                                              params.has("momentum") ? params.real("momentum") : kDefaultMomentum,
                                              params.has("eps") ? params.real("eps") : kDefaultEps);
    torch::NoGradGuard no_grad;
    // MAE: trunc_normal_(std = 0.01) with the default cut at +-2 in absolute value, 200 sd away:
    // a plain normal.
    head->linear().weight().normal_(0.0, params.has("std") ? params.real("std") : kDefaultStd);
    return head;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::BnProbe)
