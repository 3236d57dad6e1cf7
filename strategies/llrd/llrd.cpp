// llrd: layer-wise learning-rate decay (Clark et al. 2020, ELECTRA; Bao et al. 2022, BEiT; He et al. 2022, MAE).
#include "../he_base/he_init.h"

#include <cmath>
#include <stdexcept>

namespace harness::strategies {

constexpr double kDefaultDecay = 0.75;  // BEiT and MAE fine-tune with 0.65-0.75

class Llrd final : public sdk::Strategy {
 public:
  std::string name() const override { return "llrd"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "he_base head; backbone block l of L (from the input) trains at lr * decay^(L + 1 - l), the head at lr";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec decay;
    decay.name = "decay";
    decay.type = sdk::ParamType::Real;
    decay.default_value = "0.75";
    decay.min = 0;  // ParamSpec bounds are inclusive: decay = 0 is refused by plan()
    decay.max = 1;
    decay.help =
        "per-block lr factor, in (0, 1]: block l of L trains at lr * decay^(L + 1 - l), the head at lr; 1 = no decay";
    return {decay, he_mode_param()};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
  // BEiT's rule, scale = decay^(num_layers + 1 - layer_id), with the layers numbered from the
  // input, l = 1..L, and the head as layer L + 1 (scale 1). Every step alike: the decay is a
  // fixed profile over depth, the experiment's schedule still applies on top of it.
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const override {
    const double decay = params.has("decay") ? params.real("decay") : kDefaultDecay;
    if (!(decay > 0.0 && decay <= 1.0)) {
      throw std::invalid_argument("llrd: decay must be in (0, 1], got " + params.text("decay"));
    }
    if (context.model == nullptr) throw std::invalid_argument("llrd: plan() needs the model's groups");
    const sdk::ModelInfo& model = *context.model;
    const int64_t blocks = model.backbone_blocks();
    sdk::StepPlan plan;
    plan.groups.resize(model.groups.size());
    for (int64_t g = 0; g < blocks; ++g) {
      const int64_t l = g + 1;
      plan.groups[g].lr_scale = std::pow(decay, static_cast<double>(blocks + 1 - l));
    }
    return plan;  // the head, last, keeps lr_scale 1
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::Llrd)
