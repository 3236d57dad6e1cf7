// The reference backbone of PROTOCOL.md: three conv3x3 + BN + ReLU blocks, global average pool, K = 128.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace harness {

// conv3x3(in->32, pad 1) + BN + ReLU + max-pool 2; conv3x3(32->64, pad 1) + BN + ReLU + max-pool 2;
// conv3x3(64->128, pad 1) + BN + ReLU; global average pool -> [N, 128].
class ConvNetImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kFeatures = 128;
  static constexpr int64_t kMinImageSize = 4;  // two max-pools of 2

  explicit ConvNetImpl(int64_t in_channels);
  torch::Tensor forward(const torch::Tensor& images);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
};
TORCH_MODULE(ConvNet);

}  // namespace harness
