// xavier: Glorot-normal head, W ~ N(0, 2 / (K + C)), bias 0.
#include <harness/strategy.h>

#include <cmath>

namespace harness::strategies {

class Xavier final : public sdk::Strategy {
 public:
  std::string name() const override { return "xavier"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "Glorot-normal head N(0, 2/(K+C)), bias 0; all layers train from step 1"; }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params&) const override {
    auto head = std::make_shared<sdk::LinearHead>(spec.features, spec.classes);
    torch::NoGradGuard no_grad;
    head->weight().normal_(0.0, std::sqrt(2.0 / static_cast<double>(spec.features + spec.classes)));
    return head;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::Xavier)
