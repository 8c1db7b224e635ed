// One agent per state directory: an exclusive advisory lock on a file (flock on
// POSIX, LockFileEx on Windows), released when the object goes away or the process
// dies, even by SIGKILL.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace outpost::platform {

class ProcessLock {
 public:
  virtual ~ProcessLock() = default;
};

// Takes the lock on `path` (created if missing) without waiting. Returns null with
// *message set when another process holds it ("held by pid 1234") or on error.
std::unique_ptr<ProcessLock> TryLockFile(const std::filesystem::path& path, std::string* message);

}  // namespace outpost::platform
