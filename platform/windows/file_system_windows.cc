// Windows files for the log tailer: identity from GetFileInformationByHandle (volume
// serial + 64-bit file index), handles that share read, write and delete so that a
// writer can keep writing, rename and delete its logs while we read them, and
// ReadFile at explicit offsets (OVERLAPPED on a synchronous handle).
//
// Map: ErrorFromCode; InfoFromHandle; WindowsFile (the ReadableFile); StatPath;
// OpenReadable.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "outpost/platform/file_system.h"
#include "windows/windows_error.h"

namespace outpost::platform {
namespace {

constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

FileError ErrorFromCode(DWORD code) {
  switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return FileError::kNotFound;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
      return FileError::kPermissionDenied;
    default:
      return FileError::kIo;
  }
}

const char* NotRegularReason(DWORD file_type) {
  switch (file_type) {
    case FILE_TYPE_PIPE:
      return "is a pipe";
    case FILE_TYPE_CHAR:
      return "is a character device";
    default:
      return "is not a regular file";
  }
}

// Kind, identity and size of an open handle. False with GetLastError() set on failure.
bool InfoFromHandle(HANDLE h, FileInfo& out) {
  const DWORD type = GetFileType(h);
  if (type != FILE_TYPE_DISK) {
    // Pipes and devices have no file index or size worth reporting.
    out = FileInfo{};
    out.kind = type == FILE_TYPE_PIPE ? FileKind::kFifo : FileKind::kOther;
    return true;
  }
  BY_HANDLE_FILE_INFORMATION fi;
  if (!GetFileInformationByHandle(h, &fi)) return false;
  out.kind = (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0 ? FileKind::kDirectory
                                                                   : FileKind::kRegular;
  out.id.device = fi.dwVolumeSerialNumber;
  out.id.inode = (static_cast<uint64_t>(fi.nFileIndexHigh) << 32) | fi.nFileIndexLow;
  out.size = (static_cast<uint64_t>(fi.nFileSizeHigh) << 32) | fi.nFileSizeLow;
  return true;
}

class WindowsFile final : public ReadableFile {
 public:
  WindowsFile(HANDLE h, uint64_t volume) : h_(h), volume_(volume) {}
  ~WindowsFile() override { CloseHandle(h_); }
  WindowsFile(const WindowsFile&) = delete;
  WindowsFile& operator=(const WindowsFile&) = delete;

  int64_t ReadAt(uint64_t offset, char* buf, size_t n, std::string* message) override {
    // Fill the buffer unless the file ends first, as on POSIX.
    size_t done = 0;
    while (done < n) {
      const uint64_t at = offset + done;
      const size_t left = n - done;
      const DWORD want = left < (1u << 30) ? static_cast<DWORD>(left) : (1u << 30);
      OVERLAPPED ov = {};
      ov.Offset = static_cast<DWORD>(at & 0xFFFFFFFFu);
      ov.OffsetHigh = static_cast<DWORD>(at >> 32);
      DWORD got = 0;
      if (!ReadFile(h_, buf + done, want, &got, &ov)) {
        const DWORD code = GetLastError();
        if (code == ERROR_HANDLE_EOF) break;  // at or past the end: not an error
        if (message) *message = WindowsErrorMessage(code);
        return -1;
      }
      if (got == 0) break;
      done += got;
    }
    return static_cast<int64_t>(done);
  }

  bool Stat(FileInfo& out, std::string* message) override {
    if (!InfoFromHandle(h_, out)) {
      if (message) *message = WindowsErrorMessage(GetLastError());
      return false;
    }
    out.id.device = volume_;
    return true;
  }

 private:
  HANDLE h_;
  // An open file cannot change volumes (a move across volumes is a copy), so the
  // serial read at open time stays right. Wine reports 0 for a handle whose file was
  // renamed since it was opened; the identity must not change because of that.
  uint64_t volume_;
};

}  // namespace

FileError StatPath(const std::filesystem::path& path, FileInfo& out, std::string* message) {
  // FILE_FLAG_BACKUP_SEMANTICS lets a directory be opened, for its attributes only.
  HANDLE h = CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES, kShareAll, nullptr, OPEN_EXISTING,
                         FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD code = GetLastError();
    if (message) *message = WindowsErrorMessage(code);
    return ErrorFromCode(code);
  }
  const bool ok = InfoFromHandle(h, out);
  const DWORD code = ok ? ERROR_SUCCESS : GetLastError();
  CloseHandle(h);
  if (!ok) {
    if (message) *message = WindowsErrorMessage(code);
    return ErrorFromCode(code);
  }
  return FileError::kNone;
}

std::unique_ptr<ReadableFile> OpenReadable(const std::filesystem::path& path, FileError& error,
                                           std::string& message) {
  // CreateFileW refuses a directory (without FILE_FLAG_BACKUP_SEMANTICS) with "access
  // denied"; ask first so that the answer is "is a directory". The attributes of a
  // symlink to a directory carry the directory bit too.
  const DWORD attrs = GetFileAttributesW(path.c_str());
  if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    error = FileError::kNotRegular;
    message = "is a directory";
    return nullptr;
  }
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ, kShareAll, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD code = GetLastError();
    error = ErrorFromCode(code);
    message = WindowsErrorMessage(code);
    return nullptr;
  }
  const DWORD type = GetFileType(h);
  if (type != FILE_TYPE_DISK) {
    CloseHandle(h);
    error = FileError::kNotRegular;
    message = NotRegularReason(type);
    return nullptr;
  }
  FileInfo info;
  if (!InfoFromHandle(h, info)) {
    const DWORD code = GetLastError();
    CloseHandle(h);
    error = ErrorFromCode(code);
    message = WindowsErrorMessage(code);
    return nullptr;
  }
  error = FileError::kNone;
  message.clear();
  return std::make_unique<WindowsFile>(h, info.id.device);
}

}  // namespace outpost::platform
