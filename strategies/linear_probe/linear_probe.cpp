// linear_probe: feature extraction: he_base head, the backbone never trains.
#include "../he_base/he_init.h"

namespace harness::strategies {

class LinearProbe final : public sdk::Strategy {
 public:
  std::string name() const override { return "linear_probe"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "he_base head; backbone frozen for the whole run (feature extraction)"; }
  std::vector<sdk::ParamSpec> parameters() const override { return {he_mode_param()}; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
  sdk::StepPlan plan(const sdk::StepContext&, const sdk::Params&) const override {
    sdk::StepPlan plan;
    plan.train_backbone = false;
    return plan;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::LinearProbe)
