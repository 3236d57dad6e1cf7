// mei: ENTAME's Maximum Entropy Initialization (Eq. 21): tiny i.i.d. normal head weights, bias 0.
#include "mei_init.h"

namespace harness::strategies {

class Mei final : public sdk::Strategy {
 public:
  std::string name() const override { return "mei"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "ENTAME MEI: W ~ N(0, phi_w), phi_w = gamma^2 lambda^2/C^2 or 1e-12 (Eq. 21), bias 0";
  }
  std::vector<sdk::ParamSpec> parameters() const override { return mei_params(); }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    auto head = std::make_shared<sdk::LinearHead>(spec.features, spec.classes);
    mei_init(*head, mei_phi_w(spec, params));
    return head;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::Mei)
