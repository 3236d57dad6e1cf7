// Tests the experiment configuration: file + command line, and every refusal.
#include "harness/config.h"
#include "harness/errors.h"

#include <boost/program_options.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace po = boost::program_options;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace harness {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const auto dir = std::filesystem::temp_directory_path() / ("config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / ("e" + std::to_string(counter_++) + ".ini");
    std::ofstream(path) << text;
    return path.string();
  }
  po::variables_map cli(std::vector<std::string> args) {
    po::options_description desc;
    add_experiment_options(desc);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    return vm;
  }
  std::string error_of(const std::string& file, std::vector<std::string> args = {}) {
    try {
      load_experiment(cli(args), file);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  int counter_ = 0;
};

constexpr const char* kValid = R"([experiment]
name = demo
seeds = 3
strategies = he_base, mei, small=mei
[backbone]
checkpoint = backbone.pt
[data]
dataset = mnist-digits
classes = 5-9
[train]
steps = 40
lr = 1e-4
[strategy.small]
phi_w = 1e-14
)";

TEST_F(ConfigTest, ReadsEveryKeyAndStrategySections) {
  const ExperimentConfig c = load_experiment(cli({}), write(kValid));
  EXPECT_EQ(c.name, "demo");
  EXPECT_EQ(c.seeds, (std::vector<int64_t>{0, 1, 2}));
  ASSERT_EQ(c.strategies.size(), 3u);
  EXPECT_EQ(c.strategies[2].label, "small");
  EXPECT_EQ(c.strategies[2].plugin, "mei");
  EXPECT_EQ(c.strategies[2].params.at("phi_w"), "1e-14");
  EXPECT_TRUE(c.strategies[1].params.empty());
  EXPECT_EQ(c.data.classes, (std::vector<int64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(c.train.steps, 40);
  EXPECT_EQ(c.train.batch_size, 256);  // default
}

TEST_F(ConfigTest, CommandLineWins) {
  const ExperimentConfig c =
      load_experiment(cli({"--train.steps", "7", "--param", "mei.phi_w=1e-10"}), write(kValid));
  EXPECT_EQ(c.train.steps, 7);
  EXPECT_EQ(c.strategies[1].params.at("phi_w"), "1e-10");
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineAndKey) {
  const std::string file = write(std::string(kValid) + "[train]\nstepz = 3\n");
  const std::string msg = error_of(file);
  EXPECT_THAT(msg, HasSubstr(file + ":16"));
  EXPECT_THAT(msg, HasSubstr("train.stepz"));
  EXPECT_THAT(msg, HasSubstr("batch_size"));  // lists the valid keys
}

TEST_F(ConfigTest, WrongTypeNamesTheValue) {
  std::string text = kValid;
  text.replace(text.find("steps = 40"), 10, "steps = many");
  const std::string file = write(text);
  const std::string msg = error_of(file);
  EXPECT_THAT(msg, HasSubstr(file + ":11"));
  EXPECT_THAT(msg, HasSubstr("'many' is not an integer"));
}

TEST_F(ConfigTest, MissingRequiredValues) {
  EXPECT_THAT(error_of(write("[backbone]\ncheckpoint = x.pt\n")), HasSubstr("missing required key 'name'"));
  EXPECT_THAT(error_of(write("[experiment]\nname = x\n")), HasSubstr("exactly one of 'checkpoint' or 'torchscript'"));
}

TEST_F(ConfigTest, ParametersOfAnUnknownLabelAreRefused) {
  const std::string msg = error_of(write(std::string(kValid) + "[strategy.nope]\nx = 1\n"));
  EXPECT_THAT(msg, HasSubstr("no strategy labelled 'nope'"));
}

TEST_F(ConfigTest, MissingFileIsNamed) {
  EXPECT_THAT(error_of("/nonexistent/e.ini"), HasSubstr("/nonexistent/e.ini: cannot open"));
}

TEST_F(ConfigTest, LearningRateAndWeightDecayMustBeFiniteAndInRange) {
  for (const char* lr : {"1e308", "inf", "-inf", "nan", "0", "-1e-4", "11"}) {
    std::string text = kValid;
    text.replace(text.find("lr = 1e-4"), 9, std::string("lr = ") + lr);
    const std::string file = write(text);
    EXPECT_THAT(error_of(file), AllOf(HasSubstr(file + ":12: key 'train.lr'"), HasSubstr(std::string("'") + lr + "'"),
                                      HasSubstr("> 0 and <= 10")))
        << lr;
    EXPECT_THAT(error_of(write(kValid), {"--train.lr", lr}), HasSubstr("command-line option --train.lr")) << lr;
  }
  for (const char* decay : {"1e308", "inf", "nan", "-1"}) {
    EXPECT_THAT(error_of(write(std::string(kValid) + "[train]\nweight_decay = " + decay + "\n")),
                AllOf(HasSubstr("key 'train.weight_decay'"), HasSubstr(">= 0 and <= 10")))
        << decay;
  }
  const ExperimentConfig c = load_experiment(cli({"--train.lr", "10", "--train.weight_decay", "0"}), write(kValid));
  EXPECT_EQ(c.train.lr, 10.0);
}

TEST_F(ConfigTest, AKeyGivenTwiceIsRefusedNamingFileAndBothLines) {
  std::string text = kValid;
  text.replace(text.find("lr = 1e-4\n"), 10, "lr = 1e-4\nsteps = 41\n");
  const std::string file = write(text);
  EXPECT_THAT(error_of(file), AllOf(HasSubstr(file + ":13: key 'train.steps'"), HasSubstr("first at line 11"),
                                    HasSubstr("once")));
  const std::string strategy_twice = write(std::string(kValid) + "phi_w = 1e-12\n");
  EXPECT_THAT(error_of(strategy_twice), AllOf(HasSubstr(strategy_twice + ":15: key 'strategy.small.phi_w'"),
                                              HasSubstr("first at line 14")));
  // The same section opened twice is the same keys.
  const std::string section_twice = write(std::string(kValid) + "[train]\nsteps = 3\n");
  EXPECT_THAT(error_of(section_twice), AllOf(HasSubstr(section_twice + ":16"), HasSubstr("first at line 11")));
}

TEST_F(ConfigTest, AFolderIsNotAnExperimentFile) {
  const std::string folder = std::filesystem::path(write(kValid)).parent_path().string();
  EXPECT_THAT(error_of(folder), AllOf(HasSubstr(folder), HasSubstr("is a folder")));
}

TEST_F(ConfigTest, ASweepExpandsIntoLabelledVariantsOfEveryValue) {
  std::string text = kValid;
  text.replace(text.find("lr = 1e-4"), 9, "lr = 1e-4 | 3e-4");
  text.replace(text.find("phi_w = 1e-14"), 13, "phi_w = 1e-14 | 1e-12 | 1e-10");
  const ExperimentConfig c = load_experiment(cli({}), write(text));
  // he_base and mei: one variant per lr; small: 3 phi_w x 2 lr.
  ASSERT_EQ(c.strategies.size(), 2u + 2u + 6u);
  EXPECT_EQ(c.strategies[0].label, "he_base[lr=1e-4]");
  EXPECT_EQ(c.strategies[0].base, "he_base");
  ASSERT_TRUE(c.strategies[0].lr);
  EXPECT_DOUBLE_EQ(*c.strategies[0].lr, 1e-4);
  EXPECT_EQ(c.strategies[1].label, "he_base[lr=3e-4]");
  EXPECT_DOUBLE_EQ(*c.strategies[1].lr, 3e-4);
  EXPECT_EQ(c.strategies[4].label, "small[phi_w=1e-14;lr=1e-4]");
  EXPECT_EQ(c.strategies[4].plugin, "mei");
  EXPECT_EQ(c.strategies[4].params.at("phi_w"), "1e-14");
  EXPECT_EQ(c.strategies[4].swept.at("lr"), "1e-4");
  EXPECT_EQ(c.strategies[9].label, "small[phi_w=1e-10;lr=3e-4]");
  EXPECT_EQ(c.strategies[9].params.at("phi_w"), "1e-10");
  EXPECT_EQ(c.strategies[9].params.count("lr"), 0u);  // lr is [train]'s, not a plugin parameter
  EXPECT_DOUBLE_EQ(c.train.lr, 1e-4);  // the first value
  EXPECT_EQ(c.lr_sweep, (std::vector<double>{1e-4, 3e-4}));
  const std::string resolved = c.resolved_text();
  EXPECT_THAT(resolved, HasSubstr("lr = 0.0001 | 0.0003\n"));
  EXPECT_THAT(resolved, HasSubstr("[strategy.small[phi_w=1e-12;lr=3e-4]]\nphi_w = 1e-12\ntrain.lr = 0.0003\n"));

  // A parameter sweep alone leaves the lr and the other strategies alone.
  const ExperimentConfig p = load_experiment(cli({"--param", "mei.phi_w=1e-14 | 1e-12"}), write(kValid));
  ASSERT_EQ(p.strategies.size(), 4u);
  EXPECT_EQ(p.strategies[0].label, "he_base");
  EXPECT_TRUE(p.strategies[0].base.empty());
  EXPECT_EQ(p.strategies[1].label, "mei[phi_w=1e-14]");
  EXPECT_FALSE(p.strategies[1].lr);
  EXPECT_TRUE(p.lr_sweep.empty());
}

TEST_F(ConfigTest, ASweepWithABadValueIsRefusedNamingTheKey) {
  std::string text = kValid;
  text.replace(text.find("lr = 1e-4"), 9, "lr = 1e-4 | fast");
  const std::string file = write(text);
  EXPECT_THAT(error_of(file), AllOf(HasSubstr(file + ":12: key 'train.lr'"), HasSubstr("'fast' is not a number")));
  text = kValid;
  text.replace(text.find("lr = 1e-4"), 9, "lr = 1e-4 | 20");
  EXPECT_THAT(error_of(write(text)), HasSubstr("'20' is not a number > 0 and <= 10"));
  EXPECT_THAT(error_of(write(kValid), {"--param", "mei.phi_w=1e-14 || 1e-12"}),
              AllOf(HasSubstr("strategy.mei.phi_w"), HasSubstr("empty alternative")));
  std::string many;
  for (int i = 0; i < 40; ++i) many += (i ? " | " : "") + std::to_string(i + 1) + "e-5";
  EXPECT_THAT(error_of(write(kValid), {"--param", "mei.phi_w=" + many, "--param", "small.phi_w=" + many,
                                        "--train.lr", many}),
              HasSubstr("more than 1000 strategies"));
}

TEST(ParseSeeds, RefusesMoreSeedsThanTheLimitAndNumbersBeyond64Bits) {
  const auto error_of = [](const std::string& text) -> std::string {
    try {
      parse_seeds(text, "experiment.seeds");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(parse_seeds("100000", "k").size(), 100000u);
  EXPECT_EQ(parse_seeds("0-99999", "k").size(), 100000u);
  for (const char* text : {"100001", "3000000000", "99999999999999999999", "0-3000000000", "0-99999,100000",
                           "7,0-99999"}) {
    EXPECT_THAT(error_of(text), AllOf(HasSubstr("experiment.seeds"), HasSubstr("100000"))) << text;
  }
  EXPECT_THAT(error_of("5,99999999999999999999"), AllOf(HasSubstr("'99999999999999999999'"), HasSubstr("64 bits")));
  EXPECT_THAT(error_of("1-99999999999999999999"), HasSubstr("64 bits"));
}

TEST(ParseSeeds, CountsListsAndRanges) {
  EXPECT_EQ(parse_seeds("4", "k"), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(parse_seeds("5,1,1", "k"), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(parse_seeds("2-4,9", "k"), (std::vector<int64_t>{2, 3, 4, 9}));
  EXPECT_THROW(parse_seeds("0", "k"), ConfigError);
  EXPECT_THROW(parse_seeds("a-b", "k"), ConfigError);
}

TEST(ParseStrategyList, RefusesDuplicateLabels) {
  EXPECT_THROW(parse_strategy_list("mei, mei", "k"), ConfigError);
  EXPECT_EQ(parse_strategy_list("a=mei, mei", "k").size(), 2u);
}

TEST(ResolvedText, ChangesWhenASettingChanges) {
  ExperimentConfig a;
  a.name = "x";
  a.strategies = {{"mei", "mei", {}}};
  ExperimentConfig b = a;
  b.train.lr = 2e-4;
  EXPECT_NE(a.resolved_text(), b.resolved_text());
  EXPECT_EQ(a.resolved_text(), ExperimentConfig(a).resolved_text());
}

TEST_F(ConfigTest, PrecisionIsReadCheckedAndRecordedOnlyWhenNotTheDefault) {
  const ExperimentConfig fp32 = load_experiment(cli({}), write(kValid));
  EXPECT_EQ(fp32.train.precision, Precision::Fp32);
  EXPECT_EQ(fp32.resolved_text().find("precision"), std::string::npos);  // recorded texts keep their hash
  const ExperimentConfig bf16 = load_experiment(cli({"--train.precision", "bf16"}), write(kValid));
  EXPECT_EQ(bf16.train.precision, Precision::Bf16);
  EXPECT_NE(bf16.resolved_text().find("precision = bf16"), std::string::npos);
  const std::string file = write(std::string(kValid) + "[train]\nprecision = fp16\n");
  const std::string msg = error_of(file);
  EXPECT_THAT(msg, HasSubstr("train.precision"));
  EXPECT_THAT(msg, HasSubstr("'fp16' is not a precision; expected fp32, tf32 or bf16"));
}

TEST_F(ConfigTest, CheckpointSettingsAreReadCheckedAndNeverRecorded) {
  const ExperimentConfig plain = load_experiment(cli({}), write(kValid));
  EXPECT_EQ(plain.train.checkpoint_every, 0);
  EXPECT_EQ(plain.train.checkpoint_seconds, 600.0);
  const ExperimentConfig every = load_experiment(
      cli({"--train.checkpoint_every", "25"}), write(std::string(kValid) + "[train]\ncheckpoint_seconds = 0\n"));
  EXPECT_EQ(every.train.checkpoint_every, 25);
  EXPECT_EQ(every.train.checkpoint_seconds, 0.0);
  // A resumed trial records the same values, so the settings leave the hash alone: a study
  // can turn checkpoints on halfway through.
  EXPECT_EQ(every.resolved_text(), plain.resolved_text());
  EXPECT_EQ(plain.resolved_text().find("checkpoint_"), std::string::npos);
  EXPECT_THAT(error_of(write(kValid), {"--train.checkpoint_every", "-1"}),
              AllOf(HasSubstr("train.checkpoint_every"), HasSubstr("not an integer >= 0")));
  EXPECT_THAT(error_of(write(std::string(kValid) + "[train]\ncheckpoint_seconds = inf\n")),
              AllOf(HasSubstr("key 'train.checkpoint_seconds'"), HasSubstr("not a number >= 0")));
}

TEST_F(ConfigTest, MemoryFormatIsReadCheckedAndRecordedOnlyWhenNotTheDefault) {
  const ExperimentConfig nchw = load_experiment(cli({}), write(kValid));
  EXPECT_EQ(nchw.train.memory_format, MemoryFormat::Contiguous);
  EXPECT_EQ(nchw.resolved_text().find("memory_format"), std::string::npos);  // recorded texts keep their hash
  const ExperimentConfig nhwc = load_experiment(cli({"--train.memory_format", "channels_last"}), write(kValid));
  EXPECT_EQ(nhwc.train.memory_format, MemoryFormat::ChannelsLast);
  EXPECT_NE(nhwc.resolved_text().find("memory_format = channels_last"), std::string::npos);
  EXPECT_NE(nchw.resolved_text(), nhwc.resolved_text());
  const std::string file = write(std::string(kValid) + "[train]\nmemory_format = nhwc\n");
  const std::string msg = error_of(file);
  EXPECT_THAT(msg, HasSubstr("train.memory_format"));
  EXPECT_THAT(msg, HasSubstr("'nhwc' is not a memory format; expected contiguous or channels_last"));
}

TEST_F(ConfigTest, ValidationFractionIsReadCheckedAndRecordedOnlyWhenSet) {
  const ExperimentConfig none = load_experiment(cli({}), write(kValid));
  EXPECT_EQ(none.data.validation_fraction, 0.0);
  EXPECT_EQ(none.resolved_text().find("validation"), std::string::npos);  // recorded texts keep their hash
  const ExperimentConfig zero = load_experiment(cli({"--data.validation_fraction", "0"}), write(kValid));
  EXPECT_EQ(zero.resolved_text(), none.resolved_text());
  const ExperimentConfig file =
      load_experiment(cli({}), write(std::string(kValid) + "[data]\nvalidation_fraction = 0.1\n"));
  EXPECT_EQ(file.data.validation_fraction, 0.1);
  EXPECT_THAT(file.resolved_text(), HasSubstr("normalize = true\nvalidation_fraction = 0.1\n\n[train]"));
  EXPECT_NE(file.resolved_text(), none.resolved_text());
  const ExperimentConfig cmd = load_experiment(cli({"--data.validation_fraction", "0.25"}), write(kValid));
  EXPECT_EQ(cmd.data.validation_fraction, 0.25);
  EXPECT_EQ(cmd.values.at("data.validation_fraction"), "0.25");

  for (const char* bad : {"1", "1.5", "-0.1", "nan", "inf", "a tenth", ""}) {
    const std::string msg = error_of(write(kValid), {"--data.validation_fraction", bad});
    EXPECT_THAT(msg, HasSubstr("data.validation_fraction")) << bad;
  }
  EXPECT_THAT(error_of(write(kValid), {"--data.validation_fraction", "1"}), HasSubstr("must be below 1"));
  EXPECT_THAT(error_of(write(kValid), {"--data.validation_fraction", "-0.1"}), HasSubstr("is not a number >= 0"));
  const std::string in_file = write(std::string(kValid) + "[data]\nvalidation_fraction = 2\n");
  EXPECT_THAT(error_of(in_file), AllOf(HasSubstr(in_file + ":"), HasSubstr("key 'data.validation_fraction'"),
                                       HasSubstr("'2' must be below 1")));
}

// An image folder with classes "cat" and "dog" (no images needed: the config only lists the folders).
std::string class_folders() {
  const auto dir = std::filesystem::temp_directory_path() / ("config_test_images_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "dog");
  std::filesystem::create_directories(dir / "cat");
  return dir.string();
}

TEST_F(ConfigTest, ImageFolderKeysAreReadAndRecordedOnlyWhenUsed) {
  const ExperimentConfig plain = load_experiment(cli({}), write(kValid));
  for (const char* key : {"channels", "resize", "image_size", "unknown_files", "class_names", "augment"}) {
    EXPECT_EQ(plain.resolved_text().find(key), std::string::npos) << key;  // recorded texts keep their hash
  }
  const std::string folder = class_folders();
  const ExperimentConfig images = load_experiment(
      cli({"--data.dataset", "image-folder", "--data.path", folder, "--data.channels", "1", "--data.resize", "32",
           "--data.image_size", "28", "--data.unknown_files", "refuse", "--train.augment", "crop_flip"}),
      write(kValid));
  EXPECT_EQ(images.data.channels, 1);
  EXPECT_EQ(images.data.resize, 32);
  EXPECT_EQ(images.data.image_size, 28);
  EXPECT_EQ(images.data.unknown_files, UnknownFiles::Refuse);
  EXPECT_EQ(images.data.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(images.train.augment, Augment::CropFlip);
  const std::string text = images.resolved_text();
  EXPECT_THAT(text, HasSubstr("normalize = true\nchannels = 1\nresize = 32\nimage_size = 28\nunknown_files = refuse\n"
                              "class_names = cat, dog\n"));
  EXPECT_THAT(text, HasSubstr("augment = crop_flip\n"));
  const ExperimentConfig flip = load_experiment(cli({"--train.augment", "flip"}), write(kValid));
  EXPECT_EQ(flip.train.augment, Augment::Flip);
}

TEST_F(ConfigTest, ImageFolderKeysAreRefusedWithTheKeyNamed) {
  const std::string folder = class_folders();
  const std::vector<std::string> images = {"--data.dataset", "image-folder", "--data.path", folder};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = images;
    args.insert(args.end(), extra.begin(), extra.end());
    return error_of(write(kValid), args);
  };
  EXPECT_THAT(with({"--data.channels", "2"}), AllOf(HasSubstr("data.channels"), HasSubstr("'2' is not 1 (gray) or 3")));
  EXPECT_THAT(with({"--data.channels", "rgb"}), HasSubstr("data.channels"));
  EXPECT_THAT(with({"--data.resize", "-1"}), AllOf(HasSubstr("data.resize"), HasSubstr("not an integer >= 0")));
  EXPECT_THAT(with({"--data.resize", "24", "--data.image_size", "28"}),
              AllOf(HasSubstr("data.image_size"), HasSubstr("larger than data.resize 24")));
  EXPECT_THAT(with({"--data.unknown_files", "ignore"}),
              AllOf(HasSubstr("data.unknown_files"), HasSubstr("'ignore' is not skip or refuse")));
  EXPECT_THAT(with({"--train.augment", "mixup"}),
              AllOf(HasSubstr("train.augment"), HasSubstr("'mixup' is not an augmentation (expected none | flip | crop_flip)")));
  EXPECT_THAT(with({"--train.augment", "flip", "--train.hflip", "true"}),
              AllOf(HasSubstr("train.augment"), HasSubstr("older spelling")));
  EXPECT_THAT(error_of(write(kValid), {"--data.dataset", "image-folder"}),
              AllOf(HasSubstr("data.path"), HasSubstr("image-folder needs path = DIR")));
  // Image-folder keys on another data set would be silently ignored: refused instead.
  EXPECT_THAT(error_of(write(kValid), {"--data.resize", "32"}),
              AllOf(HasSubstr("data.resize"), HasSubstr("applies to dataset = image-folder only")));
  // A missing folder is named when the configuration lists its classes.
  try {
    load_experiment(cli({"--data.dataset", "image-folder", "--data.path", folder + "/nope"}), write(kValid));
    ADD_FAILURE() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(folder + "/nope"), HasSubstr("no such folder")));
  }
}

}  // namespace
}  // namespace harness
