// A test plugin whose factory throws: the loader rethrows with the file and the symbol.
#include <harness/strategy.h>

#include <stdexcept>

namespace {

class Throwing final : public harness::sdk::Strategy {
 public:
  Throwing() { throw std::runtime_error("constructor failed on purpose"); }
  std::string name() const override { return "throwing_factory"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "throws"; }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec&, const harness::sdk::Params&) const override {
    return nullptr;
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(Throwing)
