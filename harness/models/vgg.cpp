// The VGG-style backbone `vgg` (no batch normalization).
#include "harness/models/vgg.h"

namespace harness {
namespace {

torch::nn::Sequential stage(int64_t in, int64_t out) {
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)), torch::nn::ReLU(),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1)), torch::nn::ReLU());
}

}  // namespace

VggImpl::VggImpl(int64_t in_channels) {
  stage1_ = register_module("stage1", stage(in_channels, 32));
  stage2_ = register_module("stage2", stage(32, 64));
  stage3_ = register_module("stage3", stage(64, kFeatures));
}

torch::Tensor VggImpl::forward(const torch::Tensor& images) {
  auto x = torch::max_pool2d(stage1_->forward(images), 2);
  x = torch::max_pool2d(stage2_->forward(x), 2);
  x = stage3_->forward(x);
  return x.mean({2, 3});  // global average pool
}

}  // namespace harness
