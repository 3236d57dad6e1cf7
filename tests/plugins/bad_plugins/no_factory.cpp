// A test plugin with an ABI tag but no factory symbol.
#include <harness/strategy.h>

extern "C" HARNESS_SDK_EXPORT const char harness_strategy_abi_tag[] = HARNESS_SDK_ABI_TAG;
