// Tests image folders: PNG/JPEG decoding, channel conversion, label order, the seeded
// stratified split, the train/test layout, resizing, every refusal of bad input, and the
// random-resized-crop augmentation.
#include "harness/data/image_folder.h"

#include <torch/torch.h>

#include <cmath>
#include <set>

#include "harness/data/image_decode.h"
#include "harness/data/seeded_split.h"
#include "harness/data/task.h"
#include "harness/data/transforms.h"
#include "harness/errors.h"
#include "tests/data/fixtures.h"
#include "tests/data/image_fixtures.h"

namespace harness {
namespace {

using testing::expect_error;
using testing::pattern;
using testing::TempDir;
using testing::write_jpeg;
using testing::write_png;

// [C, H, W] floats byte / 255 of HWC bytes.
torch::Tensor as_tensor(const std::vector<uint8_t>& hwc, int height, int width, int channels) {
  std::vector<float> values(hwc.begin(), hwc.end());
  return torch::tensor(values).div_(255.0f).view({height, width, channels}).permute({2, 0, 1}).contiguous();
}

TEST(ImageDecode, PngGrayAndRgbAreExact) {
  TempDir dir;
  const auto gray = pattern(7, 5, 1), rgb = pattern(6, 4, 3);
  write_png(dir.file("g.png"), 7, 5, 1, gray);
  write_png(dir.file("c.png"), 6, 4, 3, rgb);
  const DecodedImage g = read_image(dir.file("g.png"));
  EXPECT_EQ(g.width, 7);
  EXPECT_EQ(g.height, 5);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels, gray);
  const DecodedImage c = read_image(dir.file("c.png"));
  EXPECT_EQ(c.width, 6);
  EXPECT_EQ(c.height, 4);
  EXPECT_EQ(c.channels, 3);
  EXPECT_EQ(c.pixels, rgb);
}

TEST(ImageDecode, JpegGrayAndRgbAreCloseAndDeterministic) {
  TempDir dir;
  const auto gray = pattern(16, 16, 1), rgb = pattern(16, 16, 3);
  write_jpeg(dir.file("g.jpg"), 16, 16, 1, gray, 100);
  write_jpeg(dir.file("c.jpeg"), 16, 16, 3, rgb, 100);
  const DecodedImage g = read_image(dir.file("g.jpg"));
  ASSERT_EQ(g.channels, 1);
  ASSERT_EQ(g.pixels.size(), gray.size());
  const DecodedImage c = read_image(dir.file("c.jpeg"));
  ASSERT_EQ(c.channels, 3);
  ASSERT_EQ(c.pixels.size(), rgb.size());
  int worst_gray = 0, worst_rgb = 0;
  for (size_t i = 0; i < gray.size(); ++i) worst_gray = std::max(worst_gray, std::abs(g.pixels[i] - gray[i]));
  for (size_t i = 0; i < rgb.size(); ++i) worst_rgb = std::max(worst_rgb, std::abs(c.pixels[i] - rgb[i]));
  EXPECT_LE(worst_gray, 2);  // quality 100 on a smooth ramp: only rounding
  EXPECT_LE(worst_rgb, 8);   // plus 4:2:0 chroma subsampling
  EXPECT_EQ(read_image(dir.file("c.jpeg")).pixels, c.pixels);
}

TEST(ImageDecode, TheSignatureDecidesNotTheName) {
  TempDir dir;
  write_png(dir.file("really_png.jpg"), 3, 2, 1, pattern(3, 2, 1));
  EXPECT_EQ(read_image(dir.file("really_png.jpg")).pixels, pattern(3, 2, 1));
}

TEST(ImageDecode, ChannelConversionRepeatsGrayAndTakesPilLuma) {
  DecodedImage gray{1, 2, 1, {10, 200}};
  const DecodedImage rgb = convert_channels(gray, 3);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{10, 10, 10, 200, 200, 200}));
  // PIL's convert("L") of pure red, green, blue, white and a mixed pixel.
  DecodedImage colors{1, 5, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 100, 200}};
  EXPECT_EQ(convert_channels(colors, 1).pixels, (std::vector<uint8_t>{76, 150, 29, 255, 84}));  // 84.49 -> 84
}

// root/CLASS/NAME.png for each (class, count), gray 4x4 images whose first pixel tells them apart.
void write_classes(const std::string& root, const std::vector<std::pair<std::string, int>>& classes,
                   int offset = 0) {
  for (const auto& [name, count] : classes) {
    for (int i = 0; i < count; ++i) {
      auto pixels = pattern(4, 4, 1, offset);
      pixels[0] = static_cast<uint8_t>(i);
      write_png(root + "/" + name + "/img" + std::to_string(100 + i) + ".png", 4, 4, 1, pixels);
    }
  }
}

DataSpec folder_spec(const std::string& path, int64_t channels = 1) {
  DataSpec spec;
  spec.dataset = "image-folder";
  spec.path = path;
  spec.channels = channels;
  spec.normalize = false;
  return spec;
}

TEST(ImageFolder, LabelsFollowSortedClassNames) {
  TempDir dir;
  write_classes(dir.str(), {{"b", 2}, {"a", 3}, {"c10", 1}, {"c2", 2}});
  DataSpec spec = folder_spec(dir.str());
  spec.test_fraction = 0;
  const Split split = load_task(spec);
  EXPECT_EQ(split.train.class_names, (std::vector<std::string>{"a", "b", "c10", "c2"}));
  EXPECT_EQ(split.train.num_classes, 4);
  EXPECT_TRUE(torch::equal(split.train.labels, torch::tensor({0, 0, 0, 1, 1, 2, 3, 3}, torch::kInt64)));
  EXPECT_EQ(split.train.images.sizes(), torch::IntArrayRef({8, 1, 4, 4}));
  // Within a class, files in name order: img100, img101, img102.
  EXPECT_FLOAT_EQ(split.train.images[1][0][0][0].item<float>(), 1.0f / 255.0f);
  EXPECT_EQ(image_folder_classes(dir.str()), split.train.class_names);
}

TEST(ImageFolder, PixelsAreBytesOver255AndChannelsAreConverted) {
  TempDir dir;
  const auto rgb = pattern(5, 3, 3);
  write_png(dir.file("x/one.png"), 5, 3, 3, rgb);
  DataSpec spec = folder_spec(dir.str(), 3);
  spec.test_fraction = 0;
  const Split color = load_task(spec);
  EXPECT_TRUE(torch::equal(color.train.images[0], as_tensor(rgb, 3, 5, 3)));
  spec.channels = 1;
  const Split gray = load_task(spec);
  ASSERT_EQ(gray.train.images.sizes(), torch::IntArrayRef({1, 1, 3, 5}));
  EXPECT_TRUE(torch::equal(gray.train.images[0], as_tensor(convert_channels({3, 5, 3, rgb}, 1).pixels, 3, 5, 1)));
}

TEST(ImageFolder, SplitIsStratifiedSeededAndTheDigitsSplit) {
  TempDir dir;
  write_classes(dir.str(), {{"a", 10}, {"b", 20}, {"c", 5}});
  ImageFolderOptions options;
  options.channels = 1;
  options.test_fraction = 0.2;
  options.split_seed = 3;
  const ImageFolderIndex index = index_image_folder(dir.str(), options);
  std::vector<int> test_per_class(3, 0);
  for (const ImageEntry& e : index.test) ++test_per_class[static_cast<size_t>(e.label)];
  EXPECT_EQ(test_per_class, (std::vector<int>{2, 4, 1}));
  EXPECT_EQ(index.train.size() + index.test.size(), 35u);
  // The test files of class b are the ones the digits' seeded mask picks for class 1.
  const std::vector<bool> mask = seeded_test_mask(20, 0.2, 3, 1);
  std::set<std::string> expected, got;
  for (int i = 0; i < 20; ++i) {
    if (mask[static_cast<size_t>(i)]) expected.insert(dir.str() + "/b/img" + std::to_string(100 + i) + ".png");
  }
  for (const ImageEntry& e : index.test) {
    if (e.label == 1) got.insert(e.file);
  }
  EXPECT_EQ(got, expected);
  // Same seed, same split; another seed, another split.
  const ImageFolderIndex again = index_image_folder(dir.str(), options);
  std::vector<std::string> first, second, other;
  for (const ImageEntry& e : index.test) first.push_back(e.file);
  for (const ImageEntry& e : again.test) second.push_back(e.file);
  options.split_seed = 4;
  for (const ImageEntry& e : index_image_folder(dir.str(), options).test) other.push_back(e.file);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
}

TEST(ImageFolder, TrainAndTestFoldersAreUsedAsGiven) {
  TempDir dir;
  write_classes(dir.file("train"), {{"cat", 3}, {"dog", 4}});
  write_classes(dir.file("test"), {{"dog", 2}}, 7);
  DataSpec spec = folder_spec(dir.str());
  spec.test_fraction = 0.5;  // ignored: the folders split it
  const Split split = load_task(spec);
  EXPECT_EQ(split.train.size(), 7);
  EXPECT_EQ(split.test.size(), 2);
  EXPECT_EQ(split.test.num_classes, 2);
  EXPECT_TRUE(torch::equal(split.test.labels, torch::tensor({1, 1}, torch::kInt64)));
  EXPECT_EQ(image_folder_classes(dir.str()), (std::vector<std::string>{"cat", "dog"}));

  write_classes(dir.file("test"), {{"bird", 1}});
  expect_error<DataError>([&] { load_task(spec); }, {dir.file("test") + "/bird", "class 'bird' has no folder in"});
  TempDir half;
  write_classes(half.file("train"), {{"cat", 1}});
  expect_error<DataError>([&] { load_task(folder_spec(half.str())); }, {half.str(), "train/ but no test/"});
}

TEST(ImageFolder, TheThreadCountDoesNotChangeTheImages) {
  TempDir dir;
  write_classes(dir.str(), {{"a", 9}, {"b", 8}});
  ImageFolderOptions options;
  options.channels = 3;
  options.resize = 6;
  options.image_size = 5;
  const ImageFolderIndex index = index_image_folder(dir.str(), options);
  options.threads = 1;
  const Dataset one = load_image_entries(index.train, 2, options, "x");
  options.threads = 3;
  const Dataset three = load_image_entries(index.train, 2, options, "x");
  EXPECT_EQ(one.images.sizes(), torch::IntArrayRef({13, 3, 5, 5}));  // 9 - 2 + 8 - 2 after the 0.2 split
  EXPECT_TRUE(torch::equal(one.images, three.images));
}

TEST(Resize, BilinearIsTorchsAlignCornersFalseAndShorterSideKeepsTheAspect) {
  const auto image = torch::tensor({0.0f, 1.0f, 2.0f, 3.0f}).view({1, 2, 2});
  const auto up = resize_bilinear(image, 4, 4);
  EXPECT_TRUE(torch::allclose(up[0][0], torch::tensor({0.0f, 0.25f, 0.75f, 1.0f})));
  EXPECT_TRUE(torch::allclose(up[0][3], torch::tensor({2.0f, 2.25f, 2.75f, 3.0f})));
  EXPECT_EQ(shorter_side_size(30, 40, 20), (std::pair<int64_t, int64_t>{20, 26}));
  EXPECT_EQ(shorter_side_size(45, 30, 20), (std::pair<int64_t, int64_t>{30, 20}));
  const CropBox box = center_crop_box(20, 26, 20);
  EXPECT_EQ(box.top, 0);
  EXPECT_EQ(box.left, 3);
}

TEST(ImageFolder, ResizeAndCropBringMixedSizesToOneAndRefuseOtherwise) {
  TempDir dir;
  write_png(dir.file("a/wide.png"), 12, 8, 1, pattern(12, 8, 1));
  write_png(dir.file("a/tall.png"), 8, 10, 1, pattern(8, 10, 1));
  DataSpec spec = folder_spec(dir.str());
  spec.test_fraction = 0;
  expect_error<DataError>([&] { load_task(spec); }, {dir.file("a/wide.png"), "8x10", "12x8", "data.resize"});
  spec.resize = 6;
  spec.image_size = 6;
  const Split split = load_task(spec);
  EXPECT_EQ(split.train.images.sizes(), torch::IntArrayRef({2, 1, 6, 6}));
  // tall.png: 8x10 -> 6x7 (shorter side 6), then rows 0..5 of the center (top = round(0.5) = 0).
  const auto tall = resize_bilinear(as_tensor(pattern(8, 10, 1), 10, 8, 1), 7, 6).slice(1, 0, 6);
  EXPECT_TRUE(torch::equal(split.train.images[0], tall));
  spec.resize = 0;
  spec.image_size = 9;
  expect_error<DataError>([&] { load_task(spec); }, {dir.file("a/tall.png"), "smaller than image_size 9"});
}

TEST(ImageFolder, BadImagesAreNamed) {
  TempDir dir;
  write_classes(dir.str(), {{"a", 2}});
  ImageFolderOptions options;
  options.test_fraction = 0;
  // A PNG cut in half.
  auto bytes = testing::read_bytes(dir.file("a/img101.png"));
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(dir.file("a/img101.png"), bytes);
  expect_error<DataError>([&] { load_image_folder(dir.str(), options); }, {dir.file("a/img101.png"), "PNG"});
  // Text under an image name.
  testing::write_text(dir.file("a/img101.png"), "not an image at all");
  expect_error<DataError>([&] { load_image_folder(dir.str(), options); },
                          {dir.file("a/img101.png"), "not a PNG or JPEG image (first bytes 6e 6f 74 20)"});
  testing::write_bytes(dir.file("a/img101.png"), {});
  expect_error<DataError>([&] { load_image_folder(dir.str(), options); }, {dir.file("a/img101.png"), "empty file"});
  // A JPEG cut short.
  std::filesystem::remove(dir.file("a/img101.png"));
  write_jpeg(dir.file("a/photo.jpg"), 16, 16, 3, pattern(16, 16, 3));
  bytes = testing::read_bytes(dir.file("a/photo.jpg"));
  bytes.resize(bytes.size() - 40);
  testing::write_bytes(dir.file("a/photo.jpg"), bytes);
  expect_error<DataError>([&] { load_image_folder(dir.str(), options); }, {dir.file("a/photo.jpg"), "JPEG"});
}

TEST(ImageFolder, EmptyClassFoldersAndFoldersWithoutImagesAreRefused) {
  TempDir dir;
  write_classes(dir.str(), {{"a", 2}});
  std::filesystem::create_directories(dir.file("b"));
  testing::write_text(dir.file("b/notes.txt"), "no images here");
  ImageFolderOptions options;
  expect_error<DataError>([&] { index_image_folder(dir.str(), options); },
                          {dir.file("b"), "class folder 'b' holds no image"});
  TempDir flat;
  testing::write_text(flat.file("readme.txt"), "x");
  write_png(flat.file("loose.png"), 2, 2, 1, pattern(2, 2, 1));
  expect_error<DataError>([&] { index_image_folder(flat.str(), options); }, {flat.str(), "no class folders"});
  expect_error<DataError>([&] { index_image_folder(dir.file("missing"), options); },
                          {dir.file("missing"), "no such folder"});
}

TEST(ImageFolder, UnknownFilesAreSkippedWithACountOrRefused) {
  TempDir dir;
  write_classes(dir.str(), {{"a", 2}, {"b", 2}});
  testing::write_text(dir.file("a/labels.csv"), "x");
  testing::write_text(dir.file("b/deep/info.txt"), "x");
  testing::write_text(dir.file("b/.DS_Store"), "x");  // hidden: ignored, not counted
  DataSpec spec = folder_spec(dir.str());
  spec.test_fraction = 0;
  const Split split = load_task(spec);
  EXPECT_EQ(split.train.size(), 4);
  ASSERT_EQ(split.notes.size(), 1u);
  EXPECT_THAT(split.notes[0], ::testing::HasSubstr("skipped 2 files of unknown type"));
  spec.unknown_files = UnknownFiles::Refuse;
  expect_error<DataError>([&] { load_task(spec); }, {dir.file("a/labels.csv"), "not an image file"});
}

TEST(ImageFolder, AChangedClassListIsRefused) {
  TempDir dir;
  write_classes(dir.str(), {{"a", 1}, {"b", 1}});
  DataSpec spec = folder_spec(dir.str());
  spec.test_fraction = 0;
  spec.class_names = {"a", "c"};
  expect_error<DataError>([&] { load_task(spec); }, {dir.str(), "[a, b]", "recorded [a, c]"});
}

TEST(CropBox, DrawsTorchvisionsScaleAndRatioRanges) {
  SplitMix64 rng(11);
  double min_scale = 1, max_scale = 0, min_ratio = 10, max_ratio = 0;
  for (int i = 0; i < 4000; ++i) {
    const CropBox box = draw_crop_box(200, 200, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, 200);
    ASSERT_LE(box.left + box.width, 200);
    const double scale = static_cast<double>(box.height * box.width) / (200.0 * 200.0);
    const double ratio = static_cast<double>(box.width) / static_cast<double>(box.height);
    min_scale = std::min(min_scale, scale), max_scale = std::max(max_scale, scale);
    min_ratio = std::min(min_ratio, ratio), max_ratio = std::max(max_ratio, ratio);
  }
  // Rounding w and h to whole pixels moves the edges by about 1 / 16 of a pixel side here.
  EXPECT_GE(min_scale, 0.08 * 0.97);
  EXPECT_LT(min_scale, 0.09);
  EXPECT_GT(max_scale, 0.95);
  EXPECT_GE(min_ratio, 0.75 * 0.97);
  EXPECT_LT(min_ratio, 0.77);
  EXPECT_LE(max_ratio, 4.0 / 3.0 * 1.03);
  EXPECT_GT(max_ratio, 1.30);
  // An image no crop of the ranges fits: torchvision's fallback, the whole height at ratio 4/3, centered.
  SplitMix64 thin(1);
  const CropBox fallback = draw_crop_box(3, 100, thin);
  EXPECT_EQ(fallback.height, 3);
  EXPECT_EQ(fallback.width, 4);
  EXPECT_EQ(fallback.left, 48);
}

TEST(RandomResizedCrop, TheSameSeedGivesTheSameBatch) {
  torch::manual_seed(0);
  const auto batch = torch::rand({6, 3, 12, 12});
  SplitMix64 a(5), b(5), c(6);
  const auto first = random_resized_crop(batch, a), second = random_resized_crop(batch, b);
  EXPECT_EQ(first.sizes(), batch.sizes());
  EXPECT_TRUE(torch::equal(first, second));
  EXPECT_FALSE(torch::equal(first, random_resized_crop(batch, c)));
  EXPECT_FALSE(torch::equal(first, batch));
}

}  // namespace
}  // namespace harness
