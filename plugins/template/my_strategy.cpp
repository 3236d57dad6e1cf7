// my_strategy: an example out-of-tree strategy: a scaled-normal head, a frozen-backbone warm-up,
// and a discriminative learning rate (every backbone block at backbone_lr_scale times the head's).
#include <harness/strategy.h>

#include <cmath>

namespace {

namespace sdk = harness::sdk;

class MyStrategy final : public sdk::Strategy {
 public:
  // Must equal the plugin's file name (my_strategy.so): rename both together.
  std::string name() const override { return "my_strategy"; }
  std::string version() const override { return "0.1.0"; }
  std::string description() const override {
    return "example: head W ~ N(0, scale^2 / K), backbone frozen for freeze_steps, then at backbone_lr_scale x lr";
  }

  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec scale;
    scale.name = "scale";
    scale.type = sdk::ParamType::Real;
    scale.default_value = "1.0";
    scale.min = 0;
    scale.help = "standard deviation of the head weights times sqrt(K)";
    sdk::ParamSpec freeze;
    freeze.name = "freeze_steps";
    freeze.type = sdk::ParamType::Int;
    freeze.default_value = "0";
    freeze.min = 0;
    freeze.help = "steps 1..freeze_steps train the head only";
    sdk::ParamSpec backbone_lr;
    backbone_lr.name = "backbone_lr_scale";
    backbone_lr.type = sdk::ParamType::Real;
    backbone_lr.default_value = "1.0";
    backbone_lr.min = 0;
    backbone_lr.help = "learning-rate multiplier of every backbone block (the head trains at the experiment's lr)";
    return {scale, freeze, backbone_lr};
  }

  // The host has seeded torch's default generator: plain torch init is reproducible.
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    auto head = std::make_shared<sdk::LinearHead>(spec.features, spec.classes);
    torch::NoGradGuard no_grad;
    head->weight().normal_(0.0, params.real("scale") / std::sqrt(static_cast<double>(spec.features)));
    return head;
  }

  // One GroupPlan per parameter group of the model: the backbone's blocks, then the head.
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const override {
    sdk::StepPlan plan;
    plan.train_backbone = context.step > params.integer("freeze_steps");
    for (const sdk::GroupInfo& group : context.model->groups) {
      sdk::GroupPlan g;
      if (!group.is_head) g.lr_scale = params.real("backbone_lr_scale");
      plan.groups.push_back(g);
    }
    return plan;
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(MyStrategy)
