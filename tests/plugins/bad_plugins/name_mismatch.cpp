// A test plugin whose name() differs from its file name.
#include <harness/strategy.h>

namespace {

class Mismatch final : public harness::sdk::Strategy {
 public:
  std::string name() const override { return "some_other_name"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "misnamed"; }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec& spec, const harness::sdk::Params&) const override {
    return std::make_shared<harness::sdk::LinearHead>(spec.features, spec.classes);
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(Mismatch)
