// One agent per state directory on POSIX: flock(LOCK_EX | LOCK_NB) on a lock file.
// flock locks belong to the open file description, so the kernel drops the lock when
// the descriptor is closed or the process dies, however it dies. The holder writes
// its pid into the file so that a refused second agent can say who holds it.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "outpost/platform/process_lock.h"

namespace outpost::platform {
namespace {

class FlockLock final : public ProcessLock {
 public:
  explicit FlockLock(int fd) : fd_(fd) {}
  ~FlockLock() override { close(fd_); }  // closing the last descriptor unlocks
  FlockLock(const FlockLock&) = delete;
  FlockLock& operator=(const FlockLock&) = delete;

 private:
  int fd_;
};

void SetMessage(std::string* message, std::string text) {
  if (message) *message = std::move(text);
}

// The pid the holder wrote, or 0 when the file does not hold one (yet).
long ReadHolderPid(int fd) {
  char buf[32] = {};
  ssize_t n;
  do {
    n = pread(fd, buf, sizeof buf - 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  long pid = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    pid = pid * 10 + (buf[i] - '0');
    if (pid > 1'000'000'000) return 0;
  }
  return pid;
}

// Replaces the file's contents with "<pid>\n". A failure leaves the lock held and
// only costs the "held by pid" detail, so it is not an error.
void WriteOwnPid(int fd) {
  const std::string text = std::to_string(static_cast<long>(getpid())) + "\n";
  if (ftruncate(fd, 0) != 0) return;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::unique_ptr<ProcessLock> TryLockFile(const std::filesystem::path& path, std::string* message) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    SetMessage(message, std::string("cannot open the lock file: ") + std::strerror(errno));
    return nullptr;
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const long pid = ReadHolderPid(fd);
      SetMessage(message, pid > 0 ? "held by pid " + std::to_string(pid)
                                  : std::string("held by another process"));
    } else {
      SetMessage(message, std::string("cannot lock the lock file: ") + std::strerror(err));
    }
    close(fd);
    return nullptr;
  }
  WriteOwnPid(fd);
  return std::make_unique<FlockLock>(fd);
}

}  // namespace outpost::platform
