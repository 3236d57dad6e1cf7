// The reference backbone `convnet` (PROTOCOL.md).
#include "harness/models/convnet.h"

namespace harness {
namespace {

torch::nn::Conv2dOptions conv3x3(int64_t in, int64_t out) { return torch::nn::Conv2dOptions(in, out, 3).padding(1); }

}  // namespace

ConvNetImpl::ConvNetImpl(int64_t in_channels) {
  conv1_ = register_module("conv1", torch::nn::Conv2d(conv3x3(in_channels, 32)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(32));
  conv2_ = register_module("conv2", torch::nn::Conv2d(conv3x3(32, 64)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(64));
  conv3_ = register_module("conv3", torch::nn::Conv2d(conv3x3(64, kFeatures)));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(kFeatures));
}

torch::Tensor ConvNetImpl::forward(const torch::Tensor& images) {
  auto x = torch::max_pool2d(torch::relu(bn1_(conv1_(images))), 2);
  x = torch::max_pool2d(torch::relu(bn2_(conv2_(x))), 2);
  x = torch::relu(bn3_(conv3_(x)));
  return x.mean({2, 3});  // global average pool
}

}  // namespace harness
