// l2_sp: L2-SP (Li, Grandvalet, Davoine 2018): the backbone is pulled towards its pretrained values, not 0.
#include "../he_base/he_init.h"

#include <stdexcept>

namespace harness::strategies {

constexpr double kDefaultAlpha = 0.01;
constexpr double kDefaultBeta = 0.01;

namespace {

sdk::ParamSpec strength(const char* name, const char* help) {
  sdk::ParamSpec p;
  p.name = name;
  p.type = sdk::ParamType::Real;
  p.default_value = "0.01";
  p.min = 0;
  p.help = help;
  return p;
}

}  // namespace

class L2Sp final : public sdk::Strategy {
 public:
  std::string name() const override { return "l2_sp"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "he_base head; loss + alpha/2 ||w - w0||^2 over the backbone + beta/2 ||W_head||^2, backbone weight decay "
           "off";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    return {strength("alpha", "strength of alpha/2 ||w_backbone - w_backbone^0||^2 (the paper: 0.01-0.1)"),
            strength("beta",
                     "strength of beta/2 ||W_head||^2 on the head's weight matrices, not its bias (the paper: 0.01)"),
            he_mode_param()};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
  // Plain weight decay pulls the backbone to 0, against the L2-SP term; the paper replaces it,
  // so its scale is 0 on every backbone block. The head keeps the experiment's weight decay.
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params&) const override {
    if (context.model == nullptr) throw std::invalid_argument("l2_sp: plan() needs the model's groups");
    sdk::StepPlan plan;
    plan.groups.resize(context.model->groups.size());
    for (std::size_t g = 0; g < plan.groups.size(); ++g) {
      if (!context.model->groups[g].is_head) plan.groups[g].weight_decay_scale = 0.0;
    }
    return plan;
  }
  // Omega(w) = alpha/2 ||w_S - w_S^0||^2 + beta/2 ||w_Sbar||^2 (the paper's L2-SP penalty, Sec. 3).
  // w_S: every backbone parameter, biases and BatchNorm affines included: the anchor is the
  // pretrained value, so pulling a bias back to it is as meaningful as pulling a weight. w_Sbar:
  // the head's weight matrices (tensors of 2 or more dimensions); its bias is left out, as weight
  // decay usually leaves biases out: a shift of the logits is no complexity to penalize.
  std::map<std::string, torch::Tensor> loss_terms(const sdk::LossInputs& in, const sdk::Params& params) const override {
    const double alpha = params.has("alpha") ? params.real("alpha") : kDefaultAlpha;
    const double beta = params.has("beta") ? params.real("beta") : kDefaultBeta;
    if (in.backbone_parameters.size() != in.pretrained.size()) {
      throw std::invalid_argument("l2_sp: " + std::to_string(in.backbone_parameters.size()) +
                                  " backbone parameters but " + std::to_string(in.pretrained.size()) +
                                  " pretrained values");
    }
    const auto zero = torch::zeros({}, in.logits.options());
    torch::Tensor backbone = zero;
    for (std::size_t i = 0; i < in.backbone_parameters.size(); ++i) {
      backbone = backbone + (in.backbone_parameters[i] - in.pretrained[i].detach()).pow(2).sum();
    }
    torch::Tensor head = zero;
    for (const auto& p : in.head_parameters) {
      if (p.dim() >= 2) head = head + p.pow(2).sum();
    }
    return {{"l2_sp_backbone", 0.5 * alpha * backbone}, {"l2_sp_head", 0.5 * beta * head}};
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::L2Sp)
