// PNG through libpng's simplified API, JPEG through libjpeg with a setjmp error handler
// (libjpeg's errors cannot be thrown through its C frames).
#include "harness/data/image_decode.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "harness/data/file_bytes.h"
#include "harness/errors.h"

namespace harness {
namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
// Bounds that keep H * W * C far from overflow and a corrupt header from allocating gigabytes.
constexpr int64_t kMaxSide = 1 << 15;
constexpr int64_t kMaxPixels = int64_t{1} << 28;

void check_size(int64_t height, int64_t width, const std::string& path) {
  if (height < 1 || width < 1 || height > kMaxSide || width > kMaxSide || height * width > kMaxPixels) {
    throw DataError(path + ": image size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is outside 1.." + std::to_string(kMaxSide) + " per side");
  }
}

DecodedImage decode_png(const std::vector<uint8_t>& bytes, const std::string& path) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    const std::string message = image.message;
    png_image_free(&image);
    throw DataError(path + ": not a readable PNG (" + message + ")");
  }
  const bool color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  DecodedImage out;
  out.height = image.height;
  out.width = image.width;
  out.channels = color ? 3 : 1;
  try {
    check_size(out.height, out.width, path);
  } catch (...) {
    png_image_free(&image);
    throw;
  }
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, /*background=*/nullptr, out.pixels.data(), /*row_stride=*/0,
                             /*colormap=*/nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    throw DataError(path + ": corrupt PNG (" + message + ")");
  }
  png_image_free(&image);
  return out;
}

struct JpegErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr info) {
  auto* manager = reinterpret_cast<JpegErrorManager*>(info->err);
  (*info->err->format_message)(info, manager->message);
  std::longjmp(manager->jump, 1);
}

// Warnings (a corrupt entropy segment libjpeg can step over) are treated as errors: a damaged
// file should be named, not silently decoded into grey blocks.
void jpeg_emit_message(j_common_ptr info, int level) {
  if (level < 0) jpeg_error_exit(info);
}

// Plain C-style decoding: no object with a destructor lives between setjmp and longjmp.
// Returns false with `message` filled on failure. `pixels` is sized by `allocate`.
bool decode_jpeg_raw(const uint8_t* data, size_t size, DecodedImage* out, char* message, size_t message_size) {
  jpeg_decompress_struct info;
  JpegErrorManager manager;
  info.err = jpeg_std_error(&manager.pub);
  manager.pub.error_exit = jpeg_error_exit;
  manager.pub.emit_message = jpeg_emit_message;
  manager.message[0] = '\0';
  if (setjmp(manager.jump)) {
    std::snprintf(message, message_size, "%s", manager.message);
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, const_cast<unsigned char*>(data), static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  if (info.num_components == 1) {
    info.out_color_space = JCS_GRAYSCALE;
  } else if (info.jpeg_color_space == JCS_YCbCr || info.jpeg_color_space == JCS_RGB) {
    info.out_color_space = JCS_RGB;
  } else {
    std::snprintf(message, message_size, "unsupported JPEG color space %d (CMYK or YCCK)",
                  static_cast<int>(info.jpeg_color_space));
    jpeg_destroy_decompress(&info);
    return false;
  }
  info.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&info);
  out->height = info.output_height;
  out->width = info.output_width;
  out->channels = info.output_components;
  if (out->height < 1 || out->width < 1 || out->height > kMaxSide || out->width > kMaxSide ||
      out->height * out->width > kMaxPixels) {
    std::snprintf(message, message_size, "image size %lldx%lld is outside 1..%lld per side",
                  static_cast<long long>(out->width), static_cast<long long>(out->height),
                  static_cast<long long>(kMaxSide));
    jpeg_destroy_decompress(&info);
    return false;
  }
  // Sized before decoding starts writing; resize's own allocation failure is not libjpeg's.
  out->pixels.resize(static_cast<size_t>(out->height * out->width * out->channels));
  const size_t stride = static_cast<size_t>(out->width * out->channels);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = out->pixels.data() + info.output_scanline * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return true;
}

DecodedImage decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& path) {
  DecodedImage out;
  char message[JMSG_LENGTH_MAX + 64];
  if (!decode_jpeg_raw(bytes.data(), bytes.size(), &out, message, sizeof message)) {
    throw DataError(path + ": corrupt or unsupported JPEG (" + message + ")");
  }
  return out;
}

std::string hex_bytes(const uint8_t* bytes, size_t size) {
  std::string out;
  char text[4];
  for (size_t i = 0; i < size && i < 4; ++i) {
    std::snprintf(text, sizeof text, "%02x", bytes[i]);
    out += (i ? " " : "") + std::string(text);
  }
  return out;
}

}  // namespace

ImageType sniff_image_type(const uint8_t* bytes, size_t size) {
  if (size >= sizeof kPngSignature && std::memcmp(bytes, kPngSignature, sizeof kPngSignature) == 0) {
    return ImageType::Png;
  }
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return ImageType::Jpeg;
  return ImageType::Unknown;
}

DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& path) {
  switch (sniff_image_type(bytes.data(), bytes.size())) {
    case ImageType::Png:
      return decode_png(bytes, path);
    case ImageType::Jpeg:
      return decode_jpeg(bytes, path);
    case ImageType::Unknown:
      break;
  }
  if (bytes.empty()) throw DataError(path + ": empty file, expected a PNG or JPEG image");
  throw DataError(path + ": not a PNG or JPEG image (first bytes " + hex_bytes(bytes.data(), bytes.size()) + ")");
}

DecodedImage read_image(const std::string& path) { return decode_image(read_file_bytes(path), path); }

DecodedImage convert_channels(DecodedImage image, int64_t channels) {
  if (image.channels == channels) return image;
  const size_t pixels = static_cast<size_t>(image.height * image.width);
  std::vector<uint8_t> out(pixels * static_cast<size_t>(channels));
  const uint8_t* in = image.pixels.data();
  if (channels == 3) {
    for (size_t p = 0; p < pixels; ++p) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = in[p];
  } else {
    for (size_t p = 0; p < pixels; ++p) {
      const uint32_t r = in[3 * p], g = in[3 * p + 1], b = in[3 * p + 2];
      out[p] = static_cast<uint8_t>((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16);
    }
  }
  image.pixels = std::move(out);
  image.channels = channels;
  return image;
}

}  // namespace harness
