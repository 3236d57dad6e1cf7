// The small residual backbone `resnet`.
#include "harness/models/resnet.h"

namespace harness {
namespace {

// Convs followed by BN carry no bias: BN's shift makes it redundant.
torch::nn::Conv2dOptions conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false);
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
  conv1_ = register_module("conv1", torch::nn::Conv2d(conv(in, out, 3, stride)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out));
  conv2_ = register_module("conv2", torch::nn::Conv2d(conv(out, out, 3, 1)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    shortcut_ = register_module(
        "shortcut", torch::nn::Sequential(torch::nn::Conv2d(conv(in, out, 1, stride)), torch::nn::BatchNorm2d(out)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1_(conv1_(x)));
  y = bn2_(conv2_(y));
  return torch::relu(y + (shortcut_ ? shortcut_->forward(x) : x));
}

ResNetImpl::ResNetImpl(int64_t in_channels) {
  stem_conv_ = register_module("stem_conv", torch::nn::Conv2d(conv(in_channels, 32, 3, 1)));
  stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(32));
  stage1_ = register_module("stage1", BasicBlock(32, 32, 1));
  stage2_ = register_module("stage2", BasicBlock(32, 64, 2));
  stage3_ = register_module("stage3", BasicBlock(64, kFeatures, 2));
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& images) {
  auto x = torch::relu(stem_bn_(stem_conv_(images)));
  x = stage3_(stage2_(stage1_(x)));
  return x.mean({2, 3});  // global average pool
}

}  // namespace harness
