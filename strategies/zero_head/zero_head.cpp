// zero_head: weights and bias 0 (the gamma -> 0 limit of MEI; BiT/ViT fine-tuning practice).
#include <harness/strategy.h>

namespace harness::strategies {

class ZeroHead final : public sdk::Strategy {
 public:
  std::string name() const override { return "zero_head"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "head weights 0 and bias 0 (BiT/ViT practice; MEI with phi_w -> 0)"; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params&) const override {
    return std::make_shared<sdk::LinearHead>(spec.features, spec.classes);  // LinearHead starts at zero
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::ZeroHead)
