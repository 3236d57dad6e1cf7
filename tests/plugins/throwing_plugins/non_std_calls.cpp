// A test plugin that loads, then throws objects that are not std::exceptions from make_head and plan:
// the loader rethrows them as PluginError naming the plugin and the call.
#include <harness/strategy.h>

namespace {

struct NotAnException {
  int code = 3;
};

class NonStdCalls final : public harness::sdk::Strategy {
 public:
  std::string name() const override { return "non_std_calls"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "make_head and plan throw non-std objects"; }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec&,
                                                const harness::sdk::Params&) const override {
    throw NotAnException{};
  }
  harness::sdk::StepPlan plan(const harness::sdk::StepContext&, const harness::sdk::Params&) const override {
    throw "plan failed";
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(NonStdCalls)
