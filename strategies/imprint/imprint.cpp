// imprint: imprinted weights (Qi, Brown, Lowe 2018): each class's weight is its normalized mean embedding.
#include <harness/strategy.h>

#include <torch/nn/functional/normalization.h>

#include <stdexcept>
#include <string>

namespace harness::strategies {

constexpr double kDefaultScale = 10.0;

namespace {

namespace F = torch::nn::functional;

torch::Tensor l2_rows(const torch::Tensor& x) { return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(1)); }

// Qi et al. Sec. 3.1: a normalized classifier, logits = s * <w_c / ||w_c||, x / ||x||>, with a
// learned scale s and no bias: with a bias the logits would stop being scaled cosines, and
// imprinting (Sec. 3.2) has no data-derived value to give it. The rows of W are normalized in
// forward(), so fine-tuning keeps the classifier normalized.
class ImprintHead final : public sdk::Head {
 public:
  ImprintHead(int64_t features, int64_t classes, double scale)
      : weight_(register_parameter("weight",
                                   torch::zeros({checked(classes, "classes"), checked(features, "features")}))),
        scale_(register_parameter("scale", torch::full({}, scale))) {}

  torch::Tensor forward(const torch::Tensor& x) override { return scale_ * l2_rows(x).matmul(l2_rows(weight_).t()); }
  std::map<std::string, double> metrics() override { return {{"scale", scale_.item<double>()}}; }
  torch::Tensor& weight() { return weight_; }

 private:
  static int64_t checked(int64_t n, const char* what) {
    if (n <= 0) throw std::invalid_argument(std::string("imprint: head needs a positive number of ") + what);
    return n;
  }
  torch::Tensor weight_;
  torch::Tensor scale_;
};

// Sec. 3.2, several exemplars per class: w_c = normalize(mean_{i: y_i = c} normalize(x_i)).
// Throws std::invalid_argument for features of the wrong shape and for a class without examples.
torch::Tensor imprinted_weights(const sdk::TrainingFeatures& data, int64_t features, int64_t classes) {
  const torch::Tensor& x = data.features;
  const torch::Tensor& y = data.labels;
  if (x.dim() != 2 || x.size(1) != features || y.dim() != 1 || y.size(0) != x.size(0)) {
    throw std::invalid_argument("imprint: the training features are " + std::to_string(x.dim()) +
                                "-D, expected [M, " + std::to_string(features) + "] with M labels");
  }
  const auto labels = y.to(torch::kLong);
  if (labels.numel() > 0 && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= classes)) {
    throw std::invalid_argument("imprint: a training label is outside [0, " + std::to_string(classes) + ")");
  }
  // float64 sums: a class mean over tens of thousands of unit vectors, then normalized again.
  const auto unit = l2_rows(x.to(torch::kFloat64));
  const auto sums = torch::zeros({classes, features}, unit.options()).index_add_(0, labels, unit);
  const auto counts = torch::bincount(labels, {}, classes).cpu();
  std::string missing;
  for (int64_t c = 0; c < classes; ++c) {
    if (counts[c].item<int64_t>() == 0) missing += (missing.empty() ? "" : ", ") + std::to_string(c);
  }
  if (!missing.empty()) {
    throw std::invalid_argument("imprint: no training example of class " + missing + " among the " +
                                std::to_string(x.size(0)) + " drawn (raise max_examples, 0 = all)");
  }
  // The mean and the sum have the same direction: normalizing the sum is the same rule.
  return l2_rows(sums).to(torch::kFloat32).cpu();
}

}  // namespace

class Imprint final : public sdk::Strategy {
 public:
  std::string name() const override { return "imprint"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "imprinted cosine head: W_c = normalized mean of normalized class features, logits s cos(W_c, x), learned s";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec scale;
    scale.name = "scale";
    scale.type = sdk::ParamType::Real;
    scale.default_value = "10";
    scale.min = 0;
    scale.help =
        "initial value of the learned scale s in logits = s cos(w_c, x) (cosines alone are too flat for softmax)";
    sdk::ParamSpec examples;
    examples.name = "max_examples";
    examples.type = sdk::ParamType::Int;
    examples.default_value = "0";
    examples.min = 0;
    examples.help = "training examples averaged into the class means, drawn with the trial's seed; 0 = all";
    return {scale, examples};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    const double scale = params.has("scale") ? params.real("scale") : kDefaultScale;
    auto head = std::make_shared<ImprintHead>(spec.features, spec.classes, scale);
    if (spec.training_features == nullptr) throw std::invalid_argument("imprint: the host gave no training features");
    const int64_t examples = params.has("max_examples") ? params.integer("max_examples") : 0;
    const auto weights = imprinted_weights(spec.training_features->get(examples), spec.features, spec.classes);
    torch::NoGradGuard no_grad;
    head->weight().copy_(weights);
    return head;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::Imprint)
