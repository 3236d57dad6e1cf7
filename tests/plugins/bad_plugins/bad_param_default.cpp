// A test plugin declaring a default that does not parse as its type.
#include <harness/strategy.h>

namespace {

class BadDefault final : public harness::sdk::Strategy {
 public:
  std::string name() const override { return "bad_param_default"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "bad default"; }
  std::vector<harness::sdk::ParamSpec> parameters() const override {
    harness::sdk::ParamSpec p;
    p.name = "steps";
    p.type = harness::sdk::ParamType::Int;
    p.default_value = "many";
    return {p};
  }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec& spec, const harness::sdk::Params&) const override {
    return std::make_shared<harness::sdk::LinearHead>(spec.features, spec.classes);
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(BadDefault)
