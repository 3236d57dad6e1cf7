// lp_ft: LP-FT (Kumar et al. 2022): linear probe for probe_steps, then everything trains.
#include "../he_base/he_init.h"

namespace harness::strategies {

class LpFt final : public sdk::Strategy {
 public:
  std::string name() const override { return "lp_ft"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "he_base head; linear probe (backbone frozen) for probe_steps, then full fine-tune"; }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec steps;
    steps.name = "probe_steps";
    steps.type = sdk::ParamType::Int;
    steps.default_value = "10";
    steps.min = 0;
    steps.help = "steps 1..probe_steps train the head only; later steps train everything";
    return {steps, he_mode_param()};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const override {
    sdk::StepPlan plan;
    plan.train_backbone = context.step > params.integer("probe_steps");
    return plan;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::LpFt)
