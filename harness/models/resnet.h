// A small residual backbone: a conv stem and three stages of one basic block each, with BN, K = 128.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace harness {

// The basic block of He et al. (2016): conv3x3 + BN + ReLU + conv3x3 + BN, plus the input
// (through a strided 1x1 conv + BN when the shape changes), then ReLU.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential shortcut_{nullptr};  // empty when the block keeps the shape
};
TORCH_MODULE(BasicBlock);

// Stem conv3x3(in->32) + BN + ReLU; blocks 32->32 (stride 1), 32->64 (stride 2), 64->128 (stride 2);
// global average pool -> [N, 128].
class ResNetImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kFeatures = 128;
  static constexpr int64_t kMinImageSize = 4;  // two stride-2 stages

  explicit ResNetImpl(int64_t in_channels);
  torch::Tensor forward(const torch::Tensor& images);

 private:
  torch::nn::Conv2d stem_conv_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  BasicBlock stage1_{nullptr}, stage2_{nullptr}, stage3_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace harness
