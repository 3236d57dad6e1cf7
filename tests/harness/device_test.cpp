// harness::keep_freed_memory: the memory of freed activations stays in the process,
// so a training step does not page-fault its activation maps in again.
#include "harness/device.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>

namespace {

long minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One "step" of a CNN's memory traffic: four activation-sized maps alive at once (the
// first convolution of convnet at batch 256 makes 25.7 MB maps), written, then freed.
void step_like_allocations() {
  std::vector<torch::Tensor> maps;
  for (int i = 0; i < 4; ++i) maps.push_back(torch::empty({256, 32, 28, 28}).fill_(1.0f));
}

#if defined(__GLIBC__)
TEST(KeepFreedMemory, RepeatedStepsDoNotFaultTheirActivationsInAgain) {
  harness::keep_freed_memory();
  // LibTorch allocates with posix_memalign, whose large blocks glibc 2.36 reuses only
  // after the heap has grown a few steps' worth; then a step needs no new pages.
  for (int warm_up = 0; warm_up < 8; ++warm_up) step_like_allocations();
  long faults = -1;
  for (int step = 0; step < 3; ++step) {
    const long before = minor_faults();
    step_like_allocations();
    const long now = minor_faults() - before;
    faults = faults < 0 ? now : std::min(faults, now);
  }
  const long pages = 4 * 256 * 32 * 28 * 28 * 4 / ::sysconf(_SC_PAGESIZE);
  // With glibc's defaults every step maps its blocks afresh: ~25,000 faults here,
  // one per page. Kept memory: none once the heap has grown.
  EXPECT_LT(faults, pages / 10) << faults << " minor page faults for " << pages << " pages of maps";
}
#endif

}  // namespace

namespace harness {
namespace {

TEST(MemoryFormat, ChannelsLastGivesEvery4dTensorNhwcStridesEvenWithOneChannelAndKeepsItsValues) {
  torch::manual_seed(0);
  torch::nn::Conv2d grey(torch::nn::Conv2dOptions(1, 32, 3)), colour(torch::nn::Conv2dOptions(3, 8, 3));
  const torch::Tensor grey_before = grey->weight.clone(), colour_before = colour->weight.clone();
  std::vector<torch::Tensor> tensors = {grey->weight, grey->bias, colour->weight};
  to_memory_format(tensors, MemoryFormat::ChannelsLast);
  // NHWC strides: the channel is the innermost dimension. A one-channel weight counts as
  // contiguous in both layouts, so contiguous(ChannelsLast) alone would have left it NCHW.
  EXPECT_EQ(grey->weight.strides(), (std::vector<int64_t>{9, 1, 3, 1}));
  EXPECT_EQ(colour->weight.strides(), (std::vector<int64_t>{27, 1, 9, 3}));
  EXPECT_TRUE(grey->weight.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(grey->weight, grey_before));  // the same values, laid out anew
  EXPECT_TRUE(torch::equal(colour->weight, colour_before));
  EXPECT_TRUE(grey->weight.requires_grad());  // still the module's parameter
  EXPECT_EQ(grey->bias.dim(), 1);             // not 4-D: untouched
  to_memory_format(tensors, MemoryFormat::Contiguous);
  EXPECT_EQ(colour->weight.strides(), (std::vector<int64_t>{27, 9, 3, 1}));
  EXPECT_TRUE(torch::equal(colour->weight, colour_before));
}

}  // namespace
}  // namespace harness
