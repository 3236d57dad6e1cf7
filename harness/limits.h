// Bounds on user input shared by the commands and the libraries: a value outside them is refused, never run.
#pragma once

#include <cstdint>

namespace harness {

// Adam moves every weight by up to about lr per step, so beyond this nothing trains, and
// values like 1e308 or inf only turn the weights into NaN.
inline constexpr double kMaxLearningRate = 10.0;
// Adam adds weight_decay * w to each gradient; beyond this the decay swamps every gradient.
inline constexpr double kMaxWeightDecay = 10.0;
// CPU threads of one process: more is a typo, not a machine.
inline constexpr int kMaxThreads = 1024;
// Seeds of one experiment, each a trial per strategy: more is a typo that would only exhaust memory.
inline constexpr int64_t kMaxSeeds = 100'000;
// Strategies of one experiment, after a sweep's expansion.
inline constexpr std::size_t kMaxStrategies = 1000;

}  // namespace harness
