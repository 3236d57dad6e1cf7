// A test plugin with another SDK's ABI tag and a static constructor that writes the file named by
// HARNESS_TEST_STATIC_INIT_MARKER: the loader must refuse it before dlopen runs that constructor.
#include <harness/strategy.h>

#include <cstdlib>
#include <fstream>

namespace {

struct WritesMarker {
  WritesMarker() {
    if (const char* file = std::getenv("HARNESS_TEST_STATIC_INIT_MARKER")) std::ofstream(file) << "plugin code ran\n";
  }
};
const WritesMarker marker;

}  // namespace

extern "C" HARNESS_SDK_EXPORT const char harness_strategy_abi_tag[] =
    "harness-sdk=999;torch=" TORCH_VERSION ";cxx=" __VERSION__ ";cxx11abi=" HARNESS_SDK_STR(_GLIBCXX_USE_CXX11_ABI);

// Never called when the loader checks the tag first.
extern "C" HARNESS_SDK_EXPORT harness::sdk::Strategy* harness_strategy_create() { std::abort(); }
