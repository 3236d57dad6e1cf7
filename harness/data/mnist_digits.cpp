// MNIST digits JSON reader: nlohmann's SAX interface streams the numbers straight into
// a float vector (a DOM would allocate one json value per pixel), then a seeded
// per-class permutation splits train from test.
#include "harness/data/mnist_digits.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "harness/data/seeded_split.h"
#include "harness/errors.h"

namespace harness {
namespace {

constexpr int64_t kPixels = kMnistDigitsSide * kMnistDigitsSide;

// SAX handler that accepts {"data": [numbers...], ...anything else...} and fills `values`.
class DigitsHandler {
 public:
  using json = nlohmann::json;

  DigitsHandler(const std::string& path, std::vector<float>& values) : path_(path), values_(values) {}

  bool null() { return scalar("null"); }
  bool boolean(bool) { return scalar("a boolean"); }
  bool number_integer(json::number_integer_t v) { return number(static_cast<double>(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return number(static_cast<double>(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return number(v); }
  bool string(json::string_t&) { return scalar("a string"); }
  bool binary(json::binary_t&) { return scalar("binary data"); }

  bool start_object(std::size_t) {
    if (depth_ == 0) {
      top_is_object_ = true;
    } else if (in_data_) {
      fail_element("an object");
    } else if (depth_ == 1 && key_ == "data") {
      throw DataError(path_ + ": \"data\" is an object, expected an array of numbers");
    }
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool key(json::string_t& name) {
    if (depth_ == 1) key_ = name;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) throw DataError(path_ + ": top-level value is an array, expected an object with a \"data\" key");
    if (in_data_) fail_element("an array");
    if (depth_ == 1 && key_ == "data") {
      if (found_data_) throw DataError(path_ + ": \"data\" key appears twice");
      found_data_ = true;
      in_data_ = true;
    }
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    if (in_data_ && depth_ == 1) in_data_ = false;
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& error) {
    throw DataError(path_ + ": not valid JSON at byte " + std::to_string(position) + " near '" + last_token + "' (" +
                    error.what() + ")");
  }

  void finish() const {
    if (!top_is_object_) throw DataError(path_ + ": top-level value is not an object with a \"data\" key");
    if (!found_data_) throw DataError(path_ + ": no \"data\" key");
  }

 private:
  bool scalar(const char* what) {
    if (depth_ == 0)
      throw DataError(path_ + ": top-level value is " + what + ", expected an object with a \"data\" key");
    if (in_data_) fail_element(what);
    if (depth_ == 1 && key_ == "data") {
      throw DataError(path_ + ": \"data\" is " + std::string(what) + ", expected an array of numbers");
    }
    return true;
  }
  bool number(double v) {
    if (in_data_) {
      if (!(v >= 0.0 && v <= 1.0)) {
        std::ostringstream text;
        text << path_ << ": data[" << values_.size() << "] = " << v << " is outside [0, 1]";
        throw DataError(text.str());
      }
      values_.push_back(static_cast<float>(v));
      return true;
    }
    return scalar("a number");
  }
  [[noreturn]] void fail_element(const char* what) const {
    throw DataError(path_ + ": data[" + std::to_string(values_.size()) + "] is " + what +
                    ", expected \"data\" to be an array of numbers");
  }

  const std::string& path_;
  std::vector<float>& values_;
  int depth_ = 0;
  bool top_is_object_ = false;
  bool in_data_ = false;
  bool found_data_ = false;
  std::string key_;
};

std::vector<float> read_digits_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError(path + ": cannot open file (missing MNIST digits JSON; scripts/setup.sh fetches them)");
  const std::streamoff size = in.tellg();
  std::string text(static_cast<size_t>(std::max<std::streamoff>(size, 0)), '\0');
  in.seekg(0);
  in.read(text.data(), size);
  if (in.gcount() != size) throw DataError(path + ": read error");

  std::vector<float> values;
  // The npm files use about 2.2 bytes per pixel; reserving avoids most regrowth.
  values.reserve(text.size() / 2);
  DigitsHandler handler(path, values);
  nlohmann::json::sax_parse(text.begin(), text.end(), &handler);
  handler.finish();
  if (values.empty()) throw DataError(path + ": \"data\" is empty");
  if (values.size() % kPixels != 0) {
    throw DataError(path + ": \"data\" has " + std::to_string(values.size()) + " values, not a multiple of " +
                    std::to_string(kPixels) + " (28x28)");
  }
  return values;
}

Dataset make_dataset(int64_t n, std::string origin) {
  Dataset data;
  data.images = torch::empty({n, 1, kMnistDigitsSide, kMnistDigitsSide}, torch::kFloat32);
  data.labels = torch::empty({n}, torch::kInt64);
  data.num_classes = kMnistDigitsClasses;
  data.origin = std::move(origin);
  return data;
}

}  // namespace

Split load_mnist_digits(const std::string& dir, double test_fraction, uint64_t split_seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) {
    std::ostringstream text;
    text << "test_fraction " << test_fraction << " is outside [0, 1) for the MNIST digits in " << dir;
    throw ConfigError(text.str());
  }
  std::vector<std::vector<float>> per_class;
  std::vector<std::vector<bool>> is_test;
  int64_t n_train = 0, n_test = 0;
  for (int64_t digit = 0; digit < kMnistDigitsClasses; ++digit) {
    per_class.push_back(read_digits_file(dir + "/" + std::to_string(digit) + ".json"));
    const int64_t n = static_cast<int64_t>(per_class.back().size()) / kPixels;
    const int64_t k = std::llround(static_cast<double>(n) * test_fraction);
    is_test.push_back(seeded_test_mask(n, test_fraction, split_seed, digit));
    n_test += k;
    n_train += n - k;
  }

  Split split{make_dataset(n_train, dir + " (train)"), make_dataset(n_test, dir + " (test)")};
  float* train_images = split.train.images.data_ptr<float>();
  float* test_images = split.test.images.data_ptr<float>();
  int64_t* train_labels = split.train.labels.data_ptr<int64_t>();
  int64_t* test_labels = split.test.labels.data_ptr<int64_t>();
  int64_t tr = 0, te = 0;
  for (int64_t digit = 0; digit < kMnistDigitsClasses; ++digit) {
    const std::vector<float>& values = per_class[static_cast<size_t>(digit)];
    const std::vector<bool>& test = is_test[static_cast<size_t>(digit)];
    for (size_t i = 0; i < test.size(); ++i) {
      const float* image = values.data() + i * kPixels;
      if (test[i]) {
        std::memcpy(test_images + te * kPixels, image, kPixels * sizeof(float));
        test_labels[te++] = digit;
      } else {
        std::memcpy(train_images + tr * kPixels, image, kPixels * sizeof(float));
        train_labels[tr++] = digit;
      }
    }
  }
  return split;
}

}  // namespace harness
