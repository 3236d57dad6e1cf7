// A test plugin whose factory throws an int, not a std::exception: refused, naming the file and the factory.
#include <harness/strategy.h>

namespace {

class IntFactory final : public harness::sdk::Strategy {
 public:
  IntFactory() { throw 42; }
  std::string name() const override { return "int_factory"; }
  std::string version() const override { return "0"; }
  std::string description() const override { return "factory throws an int"; }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec&,
                                                const harness::sdk::Params&) const override {
    return nullptr;
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(IntFactory)
