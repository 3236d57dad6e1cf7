// A test plugin with a factory but no ABI tag: the loader must refuse it without calling the factory.
#include <harness/strategy.h>

#include <cstdlib>

extern "C" HARNESS_SDK_EXPORT harness::sdk::Strategy* harness_strategy_create() { std::abort(); }
