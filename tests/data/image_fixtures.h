// PNG and JPEG files written with libpng and libjpeg for the image-folder tests.
#pragma once

#include <png.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

namespace harness::testing {

// Writes 8-bit gray (channels 1) or RGB (3) pixels, HWC, as a PNG.
inline void write_png(const std::string& path, int width, int height, int channels,
                      const std::vector<uint8_t>& pixels) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr)) {
    throw std::runtime_error("png_image_write_to_file failed: " + path + ": " + image.message);
  }
}

// Writes 8-bit gray or RGB pixels, HWC, as a baseline JPEG of the given quality.
inline void write_jpeg(const std::string& path, int width, int height, int channels,
                       const std::vector<uint8_t>& pixels, int quality = 95) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) throw std::runtime_error("cannot write " + path);
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, file);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = channels;
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + info.next_scanline * width * channels);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(file);
}

// A smooth test pattern (JPEG keeps it close): pixel (y, x, c) = offset + 20 + 4 y + 3 x + 50 c,
// below 256 for images up to 16 x 16 and offset <= 30.
inline std::vector<uint8_t> pattern(int width, int height, int channels, int offset = 0) {
  std::vector<uint8_t> out(static_cast<size_t>(width * height * channels));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        out[static_cast<size_t>((y * width + x) * channels + c)] =
            static_cast<uint8_t>((offset + 20 + 4 * y + 3 * x + 50 * c) % 256);
      }
    }
  }
  return out;
}

}  // namespace harness::testing
