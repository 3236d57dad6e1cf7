// Test plugin: a linear head that fails at a chosen training step, by throwing
// or by producing NaN logits, so the runner's handling of failing trials can be
// tested; and, when asked, a strategy that requires a [train] setting.
#include <harness/strategy.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

namespace sdk = harness::sdk;

class FailingHead final : public sdk::LinearHead {
 public:
  FailingHead(int64_t features, int64_t classes, int64_t fail_at, std::string mode)
      : LinearHead(features, classes), fail_at_(fail_at), mode_(std::move(mode)) {}
  torch::Tensor forward(const torch::Tensor &features) override {
    if (is_training() && ++training_calls_ == fail_at_) {
      if (mode_ == "throw") throw std::runtime_error("failing_strategy gave up at step " + std::to_string(fail_at_));
      // LibTorch's own error type, whose what() carries a C++ backtrace.
      TORCH_CHECK(mode_ != "torch_check", "failing_strategy's TORCH_CHECK failed at step ", fail_at_);
      return LinearHead::forward(features) * NAN;
    }
    return LinearHead::forward(features);
  }

 private:
  int64_t fail_at_;
  std::string mode_;
  int64_t training_calls_ = 0;
};

class FailingStrategy final : public sdk::Strategy {
 public:
  std::string name() const override { return "failing_strategy"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override { return "test plugin: fails at step fail_at (throw or NaN)"; }
  std::vector<sdk::ParamSpec> parameters() const override {
    return {{"fail_at", sdk::ParamType::Int, "3", "training step at which the head fails", 1.0, std::nullopt, {}},
            {"mode",
             sdk::ParamType::String,
             "throw",
             "throw an exception (a std::runtime_error, or LibTorch's c10::Error from TORCH_CHECK) or return NaN logits",
             std::nullopt,
             std::nullopt,
             {"throw", "torch_check", "nan"}},
            {"requires_optimizer", sdk::ParamType::String, "", "an optimizer this strategy requires ([train] optimizer)",
             std::nullopt, std::nullopt, {}}};
  }
  std::map<std::string, std::string> required_settings(const sdk::Params &params) const override {
    if (!params.has("requires_optimizer")) return {};
    return {{"optimizer", params.text("requires_optimizer")}};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec &spec, const sdk::Params &params) const override {
    return std::make_shared<FailingHead>(spec.features, spec.classes, params.integer("fail_at"), params.text("mode"));
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(FailingStrategy)
