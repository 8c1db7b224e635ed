// gzip through zlib; see gzip_codec.h.
#include "chunk/gzip_codec.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace outpost {
namespace {

constexpr int kGzipWindowBits = 15 + 16;    // 32 KiB window, gzip wrapper
constexpr int kGunzipWindowBits = 15 + 32;  // gzip or zlib wrapper, detected
constexpr size_t kStep = 1u << 16;          // zlib's counters are 32-bit: feed in steps

}  // namespace

Result<std::string> GzipCompress(std::string_view data, int level) {
  z_stream z{};
  if (deflateInit2(&z, std::clamp(level, 1, 9), Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return Internal("zlib: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(std::min<size_t>(
                                  data.size(), std::numeric_limits<uLong>::max()))) +
             64);
  size_t in_pos = 0;
  size_t out_pos = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t in_n = std::min(kStep, data.size() - in_pos);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
    z.avail_in = static_cast<uInt>(in_n);
    if (out.size() - out_pos < kStep) out.resize(out.size() + kStep);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    z.avail_out = static_cast<uInt>(std::min(kStep, out.size() - out_pos));
    const uInt avail_out_before = z.avail_out;
    const int flush = in_pos + in_n == data.size() ? Z_FINISH : Z_NO_FLUSH;
    rc = deflate(&z, flush);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      deflateEnd(&z);
      return Internal("zlib: deflate failed (" + std::to_string(rc) + ")");
    }
    in_pos += in_n - z.avail_in;
    out_pos += avail_out_before - z.avail_out;
  }
  deflateEnd(&z);
  out.resize(out_pos);
  return out;
}

Result<std::string> GzipDecompress(std::string_view data, uint64_t max_output) {
  std::string out;
  size_t in_pos = 0;
  while (in_pos < data.size()) {  // one member per round
    z_stream z{};
    if (inflateInit2(&z, kGunzipWindowBits) != Z_OK) return Internal("zlib: inflateInit2 failed");
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      const size_t in_n = std::min(kStep, data.size() - in_pos);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
      z.avail_in = static_cast<uInt>(in_n);
      const size_t out_pos = out.size();
      out.resize(out_pos + kStep);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
      z.avail_out = static_cast<uInt>(kStep);
      rc = inflate(&z, Z_NO_FLUSH);
      out.resize(out_pos + (kStep - z.avail_out));
      in_pos += in_n - z.avail_in;
      if (rc == Z_STREAM_END) break;
      if (in_n - z.avail_in == 0 && z.avail_out == kStep && in_n > 0) {  // no progress
        inflateEnd(&z);
        return Corrupt("gzip data is corrupt");
      }
      if (rc != Z_OK && !(rc == Z_BUF_ERROR && in_n > 0)) {
        inflateEnd(&z);
        return Corrupt(rc == Z_BUF_ERROR
                           ? "gzip data is cut short"
                           : "gzip data is corrupt (zlib " + std::to_string(rc) + ")");
      }
      if (in_n == 0 && z.avail_out != 0) {
        inflateEnd(&z);
        return Corrupt("gzip data is cut short");
      }
      if (out.size() > max_output) {
        inflateEnd(&z);
        return InvalidArgument("gzip data expands beyond " + std::to_string(max_output) + " bytes");
      }
    }
    inflateEnd(&z);
    if (out.size() > max_output)
      return InvalidArgument("gzip data expands beyond " + std::to_string(max_output) + " bytes");
  }
  return out;
}

}  // namespace outpost
