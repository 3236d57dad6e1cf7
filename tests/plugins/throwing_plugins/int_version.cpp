// A test plugin whose version() throws an int, not a std::exception: refused, naming the file and the call.
#include <harness/strategy.h>

namespace {

class IntVersion final : public harness::sdk::Strategy {
 public:
  std::string name() const override { return "int_version"; }
  std::string version() const override { throw 7; }
  std::string description() const override { return "version() throws an int"; }
  std::shared_ptr<harness::sdk::Head> make_head(const harness::sdk::HeadSpec&,
                                                const harness::sdk::Params&) const override {
    return nullptr;
  }
};

}  // namespace

HARNESS_EXPORT_STRATEGY(IntVersion)
