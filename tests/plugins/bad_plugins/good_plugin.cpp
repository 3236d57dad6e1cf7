// A well-formed test plugin: every parameter type, a head whose lifetime the tests follow.
#include <harness/strategy.h>

namespace {

namespace sdk = harness::sdk;

class GoodPlugin final : public sdk::Strategy {
 public:
  std::string name() const override { return "good_plugin"; }
  std::string version() const override { return "1.2.3"; }
  std::string description() const override { return "test plugin with one parameter of each type"; }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec steps{"steps", sdk::ParamType::Int, "3", "an int in [0, 10]", 0.0, 10.0, {}};
    sdk::ParamSpec rate{"rate", sdk::ParamType::Real, "0.5", "a real in [0, 1]", 0.0, 1.0, {}};
    sdk::ParamSpec flag{"flag", sdk::ParamType::Bool, "false", "a bool", std::nullopt, std::nullopt, {}};
    sdk::ParamSpec mode{"mode", sdk::ParamType::String, "a", "a or b", std::nullopt, std::nullopt, {"a", "b"}};
    sdk::ParamSpec optional{"optional", sdk::ParamType::Real, "", "no default", std::nullopt, std::nullopt, {}};
    return {steps, rate, flag, mode, optional};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    if (spec.classes == 13) throw std::invalid_argument("13 classes are unlucky");
    auto head = std::make_shared<sdk::LinearHead>(spec.features, spec.classes);
    torch::NoGradGuard no_grad;
    head->weight().fill_(params.has("rate") ? params.real("rate") : 0.5);
    return head;
  }
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const override {
    sdk::StepPlan plan;
    plan.train_backbone = context.step > params.integer("steps");
    return plan;
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(GoodPlugin)
