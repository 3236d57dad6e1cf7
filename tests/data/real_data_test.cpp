// Checks on the real data sets where they are installed (skipped otherwise); also prints
// load times, which harness/data/README.md quotes. No timing is asserted.
#include <torch/torch.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <iostream>

#include "harness/data/file_bytes.h"
#include "harness/data/idx_reader.h"
#include "harness/data/mnist_digits.h"
#include "harness/data/task.h"
#include "tests/data/fixtures.h"

namespace harness {
namespace {

// Wall and CPU seconds since construction; CPU time is what a loaded machine distorts least.
class Stopwatch {
 public:
  std::string report() const {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
    const double cpu = static_cast<double>(std::clock() - cpu_) / CLOCKS_PER_SEC;
    return std::to_string(wall) + " s wall, " + std::to_string(cpu) + " s CPU";
  }

 private:
  std::chrono::steady_clock::time_point wall_ = std::chrono::steady_clock::now();
  std::clock_t cpu_ = std::clock();
};

const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

TEST(RealDataTest, FashionMnist) {
  if (!file_exists(std::string(kFashionDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST not installed in " << kFashionDir;
  }
  const Stopwatch train_watch;
  const Dataset train = read_idx(std::string(kFashionDir) + "/train-images-idx3-ubyte.gz",
                                 std::string(kFashionDir) + "/train-labels-idx1-ubyte.gz");
  std::cout << "[timing] Fashion-MNIST train (60000 images, gzip) read_idx: " << train_watch.report() << "\n";
  EXPECT_EQ(train.images.sizes(), torch::IntArrayRef({60000, 1, 28, 28}));
  EXPECT_EQ(train.num_classes, 10);
  // Fashion-MNIST is balanced: 6000 images per class.
  EXPECT_TRUE(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kInt64)));
  EXPECT_GE(train.images.min().item<float>(), 0.0f);
  EXPECT_LE(train.images.max().item<float>(), 1.0f);

  const Stopwatch task_watch;
  const Split split = load_task({"fashion-mnist", "", {5, 6, 7, 8, 9}, 0.2, 0, true});
  std::cout << "[timing] load_task fashion-mnist classes 5-9 (both splits, select, normalize): "
            << task_watch.report() << "\n";
  EXPECT_EQ(split.train.size(), 30000);
  EXPECT_EQ(split.test.size(), 5000);
  EXPECT_EQ(split.train.num_classes, 5);
  EXPECT_NEAR(split.train.images.mean().item<float>(), 0.0f, 1e-3);
}

TEST(RealDataTest, MnistDigits) {
  const char* env = std::getenv("HARNESS_DATA_DIR");
  const std::string dir = resolve_data_path({"mnist-digits", "", {}, 0.2, 0, true}, default_data_dir());
  if (!file_exists(dir + "/0.json"))
    GTEST_SKIP() << "MNIST digits not found in " << dir << (env ? "" : " (HARNESS_DATA_DIR unset)");
  const Stopwatch watch;
  const Split split = load_mnist_digits(dir, 0.2, 0);
  std::cout << "[timing] MNIST digits, all 10 JSON files (" << split.train.size() + split.test.size()
            << " images) load_mnist_digits: " << watch.report() << "\n";
  const int64_t total = split.train.size() + split.test.size();
  EXPECT_GE(total, 9500);
  EXPECT_LE(total, 10500);
  EXPECT_EQ(split.train.num_classes, 10);
  const auto train_counts = torch::bincount(split.train.labels, {}, 10);
  const auto test_counts = torch::bincount(split.test.labels, {}, 10);
  for (int c = 0; c < 10; ++c) {
    const int64_t n = train_counts[c].item<int64_t>() + test_counts[c].item<int64_t>();
    EXPECT_GT(n, 500) << "class " << c;
    EXPECT_EQ(test_counts[c].item<int64_t>(), std::llround(n * 0.2)) << "class " << c;
  }
  EXPECT_NEAR(static_cast<double>(split.test.size()) / total, 0.2, 0.01);
}

}  // namespace
}  // namespace harness
