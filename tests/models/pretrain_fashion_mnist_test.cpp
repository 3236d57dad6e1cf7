// Slow: pretrains the reference convnet on all of Fashion-MNIST as PROTOCOL.md prescribes and
// reports accuracy, throughput and time (the numbers in harness/models/README.md).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

#include "harness/data/task.h"
#include "harness/models/pretrain.h"

namespace harness {
namespace {

constexpr const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

TEST(PretrainFashionMnist, ConvnetTwoEpochsReachesEightyPercent) {
  if (!std::filesystem::exists(kFashionDir)) GTEST_SKIP() << kFashionDir << " is not installed";
  DataSpec spec;
  spec.dataset = "fashion-mnist";
  const Split data = load_task(spec);

  PretrainOptions o;
  o.arch = {"convnet", 1, 28};
  o.epochs = 2;
  o.batch_size = 256;
  o.lr = 1e-3;
  o.seed = 0;
  o.threads = 2;
  double last = 0;
  const PretrainResult r = pretrain(o, data, [&](const PretrainProgress& p) {
    if (!p.epoch_end && p.step % 50 == 0) {
      // Recent throughput shows contention from other processes on a shared machine.
      std::printf("  epoch %lld step %lld: %.1f s, %.0f images/s over the last 50 steps\n", (long long)p.epoch,
                  (long long)p.step, p.elapsed_seconds, 50 * 256 / (p.elapsed_seconds - last));
      last = p.elapsed_seconds;
    }
    if (p.epoch_end) {
      last = p.elapsed_seconds;  // the next window starts after the evaluation
      std::printf("epoch %lld/%lld: test accuracy %.4f, %.0f images/s, %.1f s\n", (long long)p.epoch,
                  (long long)p.epochs, p.test_accuracy, p.images_per_second, p.elapsed_seconds);
    }
  });
  std::printf(
      "convnet on Fashion-MNIST (%lld train, %lld test), 2 epochs, batch 256, lr 1e-3, %d threads: "
      "test accuracy %.4f, %.0f images/s (training), %.1f s total\n",
      (long long)data.train.size(), (long long)data.test.size(), at::get_num_threads(), r.test_accuracy,
      r.images_per_second, r.seconds);
  EXPECT_GE(r.test_accuracy, 0.80);
}

}  // namespace
}  // namespace harness
