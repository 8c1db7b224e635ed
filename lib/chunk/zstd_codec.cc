#include "chunk/zstd_codec.h"

#include <zstd.h>

#include <memory>

namespace outpost {
namespace {

struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

}  // namespace

Result<std::string> ZstdCompress(std::string_view data, int level) {
  if (level < 1 || level > ZSTD_maxCLevel())
    return InvalidArgument("zstd level " + std::to_string(level) + " is outside 1.." +
                           std::to_string(ZSTD_maxCLevel()));
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(n))
    return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> ZstdDecompress(std::string_view frame, uint64_t max_output) {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  if (!ctx) return Internal("cannot allocate a zstd context");
  std::string out;
  std::string buf(ZstdDecompressStep(), '\0');
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    // 0 once a frame is completely decoded and flushed; otherwise more is to come.
    const size_t hint = ZSTD_decompressStream(ctx.get(), &ob, &in);
    if (ZSTD_isError(hint))
      return Corrupt(std::string("zstd frame is corrupt: ") + ZSTD_getErrorName(hint));
    if (out.size() + ob.pos > max_output)
      return InvalidArgument("zstd frame decompresses to more than " + std::to_string(max_output) +
                             " bytes");
    out.append(buf.data(), ob.pos);
    if (hint == 0) {
      if (in.pos == in.size) break;  // the last frame is complete
      continue;                      // another frame follows (concatenated frames are valid)
    }
    // The frame is not complete: with all input read and room left in the output, the
    // decoder wants bytes that are not there. (With the output full it may simply have
    // more to flush: a frame whose content is a multiple of the buffer size ends so.)
    if (in.pos == in.size && ob.pos < ob.size) return Corrupt("zstd frame is truncated");
  }
  return out;
}

struct ZstdCompressor::Ctx {
  ZSTD_CCtx* cctx = nullptr;
  std::unique_ptr<char[]> out;
  size_t out_size = 0;
  ~Ctx() { ZSTD_freeCCtx(cctx); }
};

ZstdCompressor::ZstdCompressor(int level) : level_(level), ctx_(std::make_unique<Ctx>()) {}
ZstdCompressor::~ZstdCompressor() = default;

Result<std::string> ZstdCompressor::Compress(std::string_view data) {
  if (level_ < 1 || level_ > ZSTD_maxCLevel())
    return InvalidArgument("zstd level " + std::to_string(level_) + " is outside 1.." +
                           std::to_string(ZSTD_maxCLevel()));
  if (ctx_->cctx == nullptr) {
    ctx_->cctx = ZSTD_createCCtx();
    if (ctx_->cctx == nullptr) return Internal("cannot allocate a zstd context");
  }
  const size_t bound = ZSTD_compressBound(data.size());
  if (bound > ctx_->out_size) {
    ctx_->out = std::make_unique<char[]>(bound);  // not zero-filled: zstd writes it
    ctx_->out_size = bound;
  }
  const size_t n =
      ZSTD_compressCCtx(ctx_->cctx, ctx_->out.get(), bound, data.data(), data.size(), level_);
  if (ZSTD_isError(n))
    return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  return std::string(ctx_->out.get(), n);
}

size_t ZstdDecompressStep() { return ZSTD_DStreamOutSize(); }

std::string ZstdVersion() { return ZSTD_versionString(); }

}  // namespace outpost
