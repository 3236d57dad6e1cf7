// The built-in architectures (convnet, vgg, resnet) behind the Backbone interface.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/models/backbone.h"

namespace harness {

// Which built-in architecture, for which input shape (square images).
struct ArchSpec {
  std::string arch;  // one of arch_names()
  int64_t in_channels = 1;
  int64_t image_size = 28;
};

// "convnet", "vgg", "resnet".
const std::vector<std::string>& arch_names();

// A built-in architecture: owns its torch::nn::Module (parameters and buffers, e.g. BN
// running statistics), which checkpoints save and load.
class BuiltinBackbone : public Backbone {
 public:
  BuiltinBackbone(ArchSpec spec, int64_t features, std::shared_ptr<torch::nn::Module> module,
                  std::function<torch::Tensor(const torch::Tensor&)> forward);

  // Throws DataError when images are not [N, in_channels, H, W].
  torch::Tensor forward(const torch::Tensor& images) override;
  std::vector<torch::Tensor> parameters() override;
  std::vector<torch::Tensor> buffers() override;  // the module's, e.g. BN running statistics
  void train(bool on) override;
  void to(const torch::Device& device) override;
  int64_t features() const override { return features_; }
  std::string describe() const override;
  // The architecture's stages from the input up: convnet block1..3 (conv + BN each); vgg
  // stage1..3; resnet stem, stage1..3. A top-level module named convK or bnK joins blockK, one
  // named P_rest joins P; any other is its own block.
  std::vector<ParameterGroup> parameter_groups() override;

  const ArchSpec& spec() const { return spec_; }
  torch::nn::Module& module() { return *module_; }

 private:
  ArchSpec spec_;
  int64_t features_;
  std::shared_ptr<torch::nn::Module> module_;
  std::function<torch::Tensor(const torch::Tensor&)> forward_;  // calls into module_
};

// A freshly initialized built-in backbone (initialization draws from torch's default generator:
// seed it first for reproducible weights). Throws ConfigError for an unknown architecture
// (listing the valid names), in_channels < 1, or images too small for the architecture's pools.
std::unique_ptr<BuiltinBackbone> make_backbone(const ArchSpec& spec);

}  // namespace harness
