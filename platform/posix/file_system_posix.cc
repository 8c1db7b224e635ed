// POSIX files for the log tailer (Linux and macOS): stat with identity (st_dev +
// st_ino), an open that refuses anything but a regular file without blocking, and
// pread at explicit offsets.
//
// Map: ErrorFromErrno and KindOf translate the OS's answers; StatPath; PosixFile (the
// ReadableFile); OpenReadable.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "outpost/platform/file_system.h"

namespace outpost::platform {
namespace {

FileError ErrorFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return FileError::kNotFound;
    case EACCES:
    case EPERM:
      return FileError::kPermissionDenied;
    default:
      return FileError::kIo;
  }
}

FileKind KindOf(mode_t mode) {
  if (S_ISREG(mode)) return FileKind::kRegular;
  if (S_ISDIR(mode)) return FileKind::kDirectory;
  if (S_ISFIFO(mode)) return FileKind::kFifo;
  return FileKind::kOther;
}

// Why a path that is not a regular file is not tailed, in the words of ls -l.
const char* NotRegularReason(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO";
  if (S_ISSOCK(mode)) return "is a socket";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  return "is not a regular file";
}

FileInfo InfoFrom(const struct stat& st) {
  FileInfo info;
  info.kind = KindOf(st.st_mode);
  info.id.device = static_cast<uint64_t>(st.st_dev);
  info.id.inode = static_cast<uint64_t>(st.st_ino);
  info.size = st.st_size > 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return info;
}

class PosixFile final : public ReadableFile {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override { close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  int64_t ReadAt(uint64_t offset, char* buf, size_t n, std::string* message) override {
    // Fill the buffer unless the file ends first, so callers see a short count only
    // at the end of the data written so far.
    size_t done = 0;
    while (done < n) {
      const uint64_t at = offset + done;
      if (at > static_cast<uint64_t>(LLONG_MAX)) {
        if (message) *message = "offset beyond the largest file size";
        return -1;
      }
      const size_t want = n - done < static_cast<size_t>(SSIZE_MAX) ? n - done : SSIZE_MAX;
      const ssize_t got = pread(fd_, buf + done, want, static_cast<off_t>(at));
      if (got < 0) {
        if (errno == EINTR) continue;
        if (message) *message = std::strerror(errno);
        return -1;
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return static_cast<int64_t>(done);
  }

  bool Stat(FileInfo& out, std::string* message) override {
    struct stat st {};
    if (fstat(fd_, &st) != 0) {
      if (message) *message = std::strerror(errno);
      return false;
    }
    out = InfoFrom(st);
    return true;
  }

 private:
  int fd_;
};

}  // namespace

FileError StatPath(const std::filesystem::path& path, FileInfo& out, std::string* message) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (message) *message = std::strerror(err);
    return ErrorFromErrno(err);
  }
  out = InfoFrom(st);
  return FileError::kNone;
}

std::unique_ptr<ReadableFile> OpenReadable(const std::filesystem::path& path, FileError& error,
                                           std::string& message) {
  // stat() first so that devices are never opened (opening one can have side
  // effects); the fstat() below catches a path swapped in between.
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    error = ErrorFromErrno(err);
    message = std::strerror(err);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    error = FileError::kNotRegular;
    message = NotRegularReason(st.st_mode);
    return nullptr;
  }

  // O_NONBLOCK: a FIFO swapped in after the stat() must not block the open.
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    error = ErrorFromErrno(err);
    message = std::strerror(err);
    return nullptr;
  }
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    error = FileError::kIo;
    message = std::strerror(err);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    error = FileError::kNotRegular;
    message = NotRegularReason(st.st_mode);
    return nullptr;
  }
  // Reads of a regular file should wait for the disk like any other read.
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  error = FileError::kNone;
  message.clear();
  return std::make_unique<PosixFile>(fd);
}

}  // namespace outpost::platform
