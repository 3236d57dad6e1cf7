// A VGG-style backbone without batch normalization: two conv3x3 + ReLU per stage, K = 128.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace harness {

// Stages of 32, 64 and 128 channels, each two conv3x3(pad 1) + ReLU; max-pool 2 after the first
// two stages; global average pool -> [N, 128]. No normalization layers at all, so it is the
// architecture on which a head's initial error reaches the backbone unbuffered by BN.
class VggImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kFeatures = 128;
  static constexpr int64_t kMinImageSize = 4;  // two max-pools of 2

  explicit VggImpl(int64_t in_channels);
  torch::Tensor forward(const torch::Tensor& images);

 private:
  torch::nn::Sequential stage1_{nullptr}, stage2_{nullptr}, stage3_{nullptr};
};
TORCH_MODULE(Vgg);

}  // namespace harness
