// Files as the log tailer sees them: identity, kind, size, and reading at an offset.
//
// A file's identity is what survives a rename: device + inode on POSIX, volume serial
// + file index on Windows. Opening never blocks (a FIFO is refused, not waited on) and,
// on Windows, shares read, write and delete so a writer's rotation is never blocked.
// Errors are reported as a FileError kind plus a message naming the OS's reason; this
// layer depends on nothing above it, so it does not use lib's Status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace outpost::platform {

struct FileIdentity {
  uint64_t device = 0;  // st_dev, or the volume serial number
  uint64_t inode = 0;   // st_ino, or the 64-bit file index
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

enum class FileKind { kRegular, kDirectory, kFifo, kOther };

struct FileInfo {
  FileKind kind = FileKind::kOther;
  FileIdentity id;
  uint64_t size = 0;
};

enum class FileError {
  kNone = 0,
  kNotFound,          // no such file (or a path component is missing)
  kPermissionDenied,  // the OS refused access
  kNotRegular,        // a directory, FIFO, socket or device: not tailed
  kIo,                // anything else (message says what)
};

// stat() following symlinks. On failure returns the kind of error and sets *message
// (if not null) to the OS's reason.
FileError StatPath(const std::filesystem::path& path, FileInfo& out, std::string* message);

// An open regular file, read at explicit offsets. Not thread-safe; one owner.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to `n` bytes at `offset` into `buf`. Returns the count read (0 at end of
  // file) or -1 with *message set. Retries EINTR itself.
  virtual int64_t ReadAt(uint64_t offset, char* buf, size_t n, std::string* message) = 0;
  // Identity and current size of the open file (fstat), even after it was renamed
  // or deleted. Returns false with *message set on failure.
  virtual bool Stat(FileInfo& out, std::string* message) = 0;
};

// Opens `path` for reading. Refuses anything but a regular file with kNotRegular
// (without blocking on a FIFO). On failure returns null and sets `error`/`message`.
std::unique_ptr<ReadableFile> OpenReadable(const std::filesystem::path& path, FileError& error,
                                           std::string& message);

}  // namespace outpost::platform
