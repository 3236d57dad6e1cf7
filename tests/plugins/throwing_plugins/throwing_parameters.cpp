// A test plugin whose parameters() throws: recorded as broken, naming the file; it stops only a command that uses it.
#include <harness/strategy.h>

#include <stdexcept>

namespace {

class ThrowingParameters final : public harness::sdk::Strategy {
 public:
  std::string name() const override { return "throwing_parameters"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "parameters() throws"; }
  std::vector<harness::sdk::ParamSpec> parameters() const override {
    throw std::runtime_error("parameters failed on purpose");
  }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec&,
                                                const harness::sdk::Params&) const override {
    return nullptr;
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(ThrowingParameters)
