// One agent per state directory on Windows: LockFileEx(LOCKFILE_EXCLUSIVE_LOCK |
// LOCKFILE_FAIL_IMMEDIATELY) on a lock file. Windows releases the lock when the
// handle is closed or the process ends, however it ends. The holder writes its pid at
// the start of the file; the locked byte lies far beyond it (a lock on a byte range
// also blocks other handles' reads of that range), so a refused second agent can
// still read who holds the lock.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>

#include "outpost/platform/process_lock.h"
#include "windows/windows_error.h"

namespace outpost::platform {
namespace {

// The locked byte: offset 2^40. Locking beyond the end of a file is allowed.
constexpr DWORD kLockOffsetHigh = 1u << 8;

OVERLAPPED LockRange() {
  OVERLAPPED ov = {};
  ov.Offset = 0;
  ov.OffsetHigh = kLockOffsetHigh;
  return ov;
}

class LockFileExLock final : public ProcessLock {
 public:
  explicit LockFileExLock(HANDLE h) : h_(h) {}
  ~LockFileExLock() override {
    OVERLAPPED ov = LockRange();
    UnlockFileEx(h_, 0, 1, 0, &ov);
    CloseHandle(h_);
  }
  LockFileExLock(const LockFileExLock&) = delete;
  LockFileExLock& operator=(const LockFileExLock&) = delete;

 private:
  HANDLE h_;
};

void SetMessage(std::string* message, std::string text) {
  if (message) *message = std::move(text);
}

// The pid the holder wrote, or 0 when the file does not hold one (yet).
unsigned long ReadHolderPid(HANDLE h) {
  char buf[32] = {};
  OVERLAPPED ov = {};
  DWORD got = 0;
  if (!ReadFile(h, buf, sizeof buf - 1, &got, &ov)) return 0;
  unsigned long pid = 0;
  for (DWORD i = 0; i < got && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    pid = pid * 10 + static_cast<unsigned long>(buf[i] - '0');
    if (pid > 4'000'000'000ul) return 0;
  }
  return pid;
}

// Replaces the file's contents with "<pid>\r\n". A failure leaves the lock held and
// only costs the "held by pid" detail, so it is not an error.
void WriteOwnPid(HANDLE h) {
  const std::string text = std::to_string(GetCurrentProcessId()) + "\r\n";
  LARGE_INTEGER zero = {};
  if (!SetFilePointerEx(h, zero, nullptr, FILE_BEGIN) || !SetEndOfFile(h)) return;
  OVERLAPPED ov = {};
  DWORD written = 0;
  WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &written, &ov);
}

}  // namespace

std::unique_ptr<ProcessLock> TryLockFile(const std::filesystem::path& path, std::string* message) {
  // Share read and write: a second agent must be able to open the file to learn that
  // it is locked, and by whom.
  HANDLE h =
      CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    SetMessage(message, "cannot open the lock file: " + WindowsErrorMessage(GetLastError()));
    return nullptr;
  }
  OVERLAPPED ov = LockRange();
  if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) {
    const DWORD code = GetLastError();
    if (code == ERROR_LOCK_VIOLATION || code == ERROR_IO_PENDING) {
      const unsigned long pid = ReadHolderPid(h);
      SetMessage(message, pid > 0 ? "held by pid " + std::to_string(pid)
                                  : std::string("held by another process"));
    } else {
      SetMessage(message, "cannot lock the lock file: " + WindowsErrorMessage(code));
    }
    CloseHandle(h);
    return nullptr;
  }
  WriteOwnPid(h);
  return std::make_unique<LockFileExLock>(h);
}

}  // namespace outpost::platform
