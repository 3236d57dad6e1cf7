// A user's pretrained model brought as a TorchScript file whose forward returns [N, K] features.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/models/backbone.h"

namespace harness {

// Owns a torch::jit::Module; parameters(), train() and to() forward to it.
class TorchScriptBackbone : public Backbone {
 public:
  TorchScriptBackbone(std::string path, torch::jit::Module module, int64_t features);

  // Throws DataError naming the file when the output is not [N, K].
  torch::Tensor forward(const torch::Tensor& images) override;
  std::vector<torch::Tensor> parameters() override;
  std::vector<torch::Tensor> buffers() override;  // the module's tensor buffers, recursively
  void train(bool on) override;
  void to(const torch::Device& device) override;
  int64_t features() const override { return features_; }
  std::string describe() const override;
  // One group per top-level child with parameters (in the order of parameters()); parameters
  // registered on the module itself form a group "root" in front.
  std::vector<ParameterGroup> parameter_groups() override;

  torch::jit::Module& module() { return module_; }

 private:
  std::string path_;
  torch::jit::Module module_;
  int64_t features_;
};

// Loads `path` with torch::jit::load (on the CPU; call to() afterwards). K is discovered by a
// forward pass, in eval mode and without gradients, on zeros [2, in_channels, image_size,
// image_size]; when `features` is given it must agree. The module's train/eval mode is restored
// afterwards, so its BN statistics are untouched. Throws DataError naming the file when it is
// missing or not TorchScript, when the forward fails on that input or does not return a 2-D
// tensor, and ConfigError when K differs from `features` or the shape is not positive.
std::unique_ptr<TorchScriptBackbone> load_torchscript_backbone(const std::string& path, int64_t in_channels,
                                                               int64_t image_size,
                                                               std::optional<int64_t> features = std::nullopt);

}  // namespace harness
