// A test plugin built for another SDK API version: the loader must refuse it before the factory runs.
#include <harness/strategy.h>

#include <cstdlib>

extern "C" HARNESS_SDK_EXPORT const char harness_strategy_abi_tag[] =
    "harness-sdk=999;torch=" TORCH_VERSION ";cxx=" __VERSION__ ";cxx11abi=" HARNESS_SDK_STR(_GLIBCXX_USE_CXX11_ABI);

// Never called when the loader checks the tag first: calling it would abort the test process.
extern "C" HARNESS_SDK_EXPORT harness::sdk::Strategy* harness_strategy_create() { std::abort(); }
