// warmup: the paper's "Base+WU": he_base head, backbone frozen for the first warmup_steps.
#include "../he_base/he_init.h"

namespace harness::strategies {

class Warmup final : public sdk::Strategy {
 public:
  std::string name() const override { return "warmup"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "he_base head; only the head trains for the first warmup_steps steps"; }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec steps;
    steps.name = "warmup_steps";
    steps.type = sdk::ParamType::Int;
    steps.default_value = "1";
    steps.min = 0;
    steps.help = "steps 1..warmup_steps train the head only (the paper uses a single warm-up step)";
    return {steps, he_mode_param()};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const override {
    sdk::StepPlan plan;
    plan.train_backbone = context.step > params.integer("warmup_steps");
    return plan;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::Warmup)
