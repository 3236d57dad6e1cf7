// surgical: surgical fine-tuning (Lee et al. 2023): only the listed backbone blocks and the head train.
#include "../he_base/he_init.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace harness::strategies {

namespace {

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

std::string block_names(const sdk::ModelInfo& model) {
  std::string names;
  for (const auto& group : model.groups) {
    if (!group.is_head) names += (names.empty() ? "" : ", ") + group.name;
  }
  return names.empty() ? "none" : names;
}

// The indices of the blocks named in `list` (comma-separated). Throws std::invalid_argument for
// a name that is not one of the model's backbone blocks, listing the ones it has.
std::set<std::size_t> listed_blocks(const std::string& list, const sdk::ModelInfo& model) {
  std::set<std::size_t> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    const std::string name = trimmed(item);
    if (name.empty()) continue;
    const int64_t g = model.find(name);
    if (g < 0 || model.groups[g].is_head) {
      throw std::invalid_argument("surgical: blocks: '" + name + "' is not a backbone block of this model (blocks: " +
                                  block_names(model) + "; the head always trains)");
    }
    out.insert(static_cast<std::size_t>(g));
  }
  if (out.empty()) {
    throw std::invalid_argument("surgical: blocks = '" + list + "' names no block (blocks: " + block_names(model) +
                                "); to train the head alone use linear_probe");
  }
  return out;
}

}  // namespace

class Surgical final : public sdk::Strategy {
 public:
  std::string name() const override { return "surgical"; }
  std::string version() const override { return "1.0.0"; }
  std::string description() const override {
    return "he_base head; only the listed backbone blocks and the head train, the rest stay frozen (Lee et al. 2023)";
  }
  std::vector<sdk::ParamSpec> parameters() const override {
    sdk::ParamSpec blocks;
    blocks.name = "blocks";
    blocks.type = sdk::ParamType::String;
    blocks.help = "comma-separated backbone block names that train with the head, e.g. block1 or stage3,stage4; "
                  "unset: the first block (Lee et al. find input-level shifts best fixed by the first block)";
    return {blocks, he_mode_param()};
  }
  std::shared_ptr<sdk::Head> make_head(const sdk::HeadSpec& spec, const sdk::Params& params) const override {
    return make_he_head(spec, params);
  }
  // The host runs every frozen block in eval mode, so its BatchNorm statistics stay as
  // pretrained, as Lee et al. freeze them.
  sdk::StepPlan plan(const sdk::StepContext& context, const sdk::Params& params) const override {
    if (context.model == nullptr) throw std::invalid_argument("surgical: plan() needs the model's groups");
    const sdk::ModelInfo& model = *context.model;
    if (model.backbone_blocks() == 0) throw std::invalid_argument("surgical: the model has no backbone blocks");
    const std::set<std::size_t> trained =
        params.has("blocks") ? listed_blocks(params.text("blocks"), model) : std::set<std::size_t>{0};
    sdk::StepPlan plan;
    plan.groups.resize(model.groups.size());
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
      plan.groups[g].trains = model.groups[g].is_head || trained.count(g) != 0;
    }
    return plan;
  }
};

}  // namespace harness::strategies

HARNESS_EXPORT_STRATEGY(harness::strategies::Surgical)
