// Decoding one PNG or JPEG file into 8-bit pixels (libpng, libjpeg-turbo), and the channel
// conversion every image-folder image goes through.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace harness {

enum class ImageType { Png, Jpeg, Unknown };

// The type the first bytes announce (PNG signature, JPEG SOI marker FF D8 FF), whatever
// the file's name says.
ImageType sniff_image_type(const uint8_t* bytes, size_t size);

// 8-bit pixels, row-major, channels interleaved (HWC).
struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;  // 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;
};

// Decodes a PNG or JPEG held in memory. PNG: palette, 16-bit and gray+alpha or RGBA input are
// read through libpng's simplified API as 8-bit gray or RGB (alpha composited on black);
// JPEG: gray stays gray, YCbCr becomes RGB (libjpeg's integer IDCT, so it is deterministic).
// Throws DataError naming `path` for anything else: an unknown signature, a truncated or
// corrupt stream, a CMYK JPEG.
DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& path);

// Reads and decodes one file; throws DataError naming `path` when it cannot be opened.
DecodedImage read_image(const std::string& path);

// Converts to 1 or 3 channels: gray -> RGB repeats the value; RGB -> gray is PIL's
// convert("L"), L = (19595 R + 38470 G + 7471 B + 2^15) >> 16 (ITU-R 601-2 luma).
DecodedImage convert_channels(DecodedImage image, int64_t channels);

}  // namespace harness
