// RotatingFileLogSink: append, count, rotate by renames (see log_file.h).
#include "util/log_file.h"

#include <chrono>
#include <string>
#include <system_error>

namespace outpost {
namespace {

constexpr int64_t kRetryOpenMs = 60000;

std::filesystem::path Numbered(const std::filesystem::path& p, int n) {
  return std::filesystem::path(p.string() + "." + std::to_string(n));
}

}  // namespace

RotatingFileLogSink::RotatingFileLogSink(std::filesystem::path path, uint64_t max_bytes, int keep,
                                         LogFormat format)
    : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep < 1 ? 1 : keep), format_(format) {}

RotatingFileLogSink::~RotatingFileLogSink() {
  if (file_) std::fclose(file_);
}

bool RotatingFileLogSink::Open(int64_t now_ms) {
  if (file_) return true;
  if (now_ms < retry_at_ms_) return false;
  file_ = std::fopen(path_.string().c_str(), "ab");
  if (!file_) {
    retry_at_ms_ = now_ms + kRetryOpenMs;
    return false;
  }
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path_, ec);
  size_ = ec ? 0 : static_cast<uint64_t>(size);
  return true;
}

void RotatingFileLogSink::Rotate() {
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  std::filesystem::remove(Numbered(path_, keep_), ec);
  for (int n = keep_ - 1; n >= 1; --n)
    std::filesystem::rename(Numbered(path_, n), Numbered(path_, n + 1), ec);
  std::filesystem::rename(path_, Numbered(path_, 1), ec);
  size_ = 0;
}

void RotatingFileLogSink::Write(const LogRecord& record) {
  std::string line = FormatLogRecord(record, format_, /*color=*/false);
  line.push_back('\n');
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(record.time.time_since_epoch()).count();
  std::lock_guard<std::mutex> lock(mu_);
  if (!Open(now_ms)) return;
  if (size_ > 0 && size_ + line.size() > max_bytes_) {
    Rotate();
    if (!Open(now_ms)) return;
  }
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    std::fclose(file_);  // a full disk: try again later, from the size on disk
    file_ = nullptr;
    retry_at_ms_ = now_ms + kRetryOpenMs;
    return;
  }
  size_ += line.size();
}

}  // namespace outpost
