// mei_fn: full ENTAME: MEI head (Eq. 21) behind a parameter-free batch z-normalization of X^L (FN, Eq. 20).
#include "../mei/mei_init.h"

namespace harness::strategies {

constexpr double kDefaultEps = 1e-5;  // the paper gives no value; BatchNorm's default

// Eq. 20: train: (x - mu_N) / sqrt(sigma_N^2 + eps) with the batch's mean and
// biased variance (gradients flow through them, as in batch norm); inference:
// the same with the detached mu and sigma^2 of the most recent training batch,
// not running averages. Before any training batch, inference falls back to the
// batch's own statistics (documented choice: evaluating an untrained head is
// legitimate, e.g. a step-0 accuracy, and throwing would break it).
class FnMeiHead final : public sdk::Head {
 public:
  FnMeiHead(int64_t features, int64_t classes, double eps)
      : linear_(register_module("linear", std::make_shared<sdk::LinearHead>(features, classes))),
        mu_(register_buffer("fn_mean", torch::zeros({features}))),
        var_(register_buffer("fn_var", torch::ones({features}))),
        eps_(eps) {}

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor mu, var;
    if (is_training() || !has_stats_) {
      mu = x.mean(0);
      var = x.var(0, /*unbiased=*/false);
      if (is_training()) {
        torch::NoGradGuard no_grad;
        mu_.copy_(mu.detach());
        var_.copy_(var.detach());
        has_stats_ = true;
      }
    } else {
      mu = mu_;
      var = var_;
    }
    return linear_->forward((x - mu) / torch::sqrt(var + eps_));
  }

  std::map<std::string, double> metrics() override {
    if (!has_stats_) return {};
    // Mean over the K features of the per-feature std FN divides by: how much FN rescales X^L.
    return {{"fn_feature_std", var_.sqrt().mean().item<double>()}};
  }

  sdk::LinearHead& linear() { return *linear_; }

 private:
  std::shared_ptr<sdk::LinearHead> linear_;
  torch::Tensor mu_;
  torch::Tensor var_;
  double eps_;
  bool has_stats_ = false;  // a training batch has been seen
};

class MeiFn final : public sdk::Strategy {
 public:
  std::string name() const override { return "mei_fn"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "ENTAME MEI+FN: batch z-normalized features (Eq. 20) into an MEI head (Eq. 21)";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    auto params = mei_params();
    sdk::ParamSpec eps;
    eps.name = "eps";
    eps.type = sdk::ParamType::Real;
    eps.default_value = "1e-5";
    eps.min = 0;
    eps.help = "epsilon in sqrt(sigma^2 + eps) of Eq. 20 (the paper gives no value; 1e-5 as batch norm)";
    params.push_back(eps);
    return params;
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    const double eps = params.has("eps") ? params.real("eps") : kDefaultEps;
    auto head = std::make_shared<FnMeiHead>(spec.features, spec.classes, eps);
    mei_init(head->linear(), mei_phi_w(spec, params));
    return head;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::MeiFn)
