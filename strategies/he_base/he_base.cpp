// he_base: the paper's "Base": He-normal head (fan-out), everything trains from step 1.
#include "he_init.h"

namespace harness::strategies {

class HeBase final : public sdk::Strategy {
 public:
  std::string name() const override { return "he_base"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "He-normal head N(0, 2/C) (fan_in: 2/K), bias 0; all layers train from step 1"; }
  std::vector<sdk::ParamSpec> parameters() const override { return {he_mode_param()}; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::HeBase)
