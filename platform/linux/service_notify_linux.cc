// Linux: sending sd_notify datagrams on an AF_UNIX socket, to a path or to an
// abstract address ("@name": the name goes after a leading NUL, without a terminator).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "outpost/platform/service_notify.h"

namespace outpost::platform {
namespace {

// Fills `addr` for `socket`; returns the address length, or 0 when it cannot be one.
socklen_t MakeAddress(const std::string& socket, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket.size() < 2 || (socket[0] != '/' && socket[0] != '@')) return 0;
  // A path needs its terminating NUL in sun_path; an abstract name does not.
  const size_t limit = socket[0] == '/' ? sizeof(addr.sun_path) - 1 : sizeof(addr.sun_path);
  if (socket.size() > limit) return 0;
  std::memcpy(addr.sun_path, socket.data(), socket.size());
  if (socket[0] == '@') addr.sun_path[0] = '\0';
  const size_t len = offsetof(sockaddr_un, sun_path) + socket.size() + (socket[0] == '/' ? 1 : 0);
  return static_cast<socklen_t>(len);
}

const char* Env(const char* name) { return std::getenv(name); }

}  // namespace

std::string CheckNotifySocket(const std::string& socket) {
  sockaddr_un addr;
  if (MakeAddress(socket, addr) == 0)
    return "NOTIFY_SOCKET '" + socket +
           "' is neither an absolute path nor an abstract @name of at most 107 bytes; "
           "not notifying the service manager";
  return "";
}

bool SendNotifyDatagram(const std::string& socket, std::string_view message, std::string* error) {
  sockaddr_un addr;
  const socklen_t len = MakeAddress(socket, addr);
  if (len == 0) {
    if (error) *error = CheckNotifySocket(socket);
    return false;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::string("cannot create a notify socket: ") + std::strerror(errno);
    return false;
  }
  ssize_t sent = -1;
  do {
    sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (sent < 0 || static_cast<size_t>(sent) != message.size()) {
    if (error)
      *error = "cannot notify " + socket + ": " +
               (sent < 0 ? std::strerror(err) : std::string("short write"));
    return false;
  }
  return true;
}

long long MonotonicMicros() {
  timespec ts{};
  if (::clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return static_cast<long long>(ts.tv_sec) * 1000000LL + ts.tv_nsec / 1000;
}

ServiceNotifyEnvironment ReadNotifyEnvironment() {
  ServiceNotifyEnvironment env;
  if (const char* v = Env("NOTIFY_SOCKET")) env.notify_socket = v;
  if (const char* v = Env("WATCHDOG_USEC")) env.watchdog_usec = v;
  if (const char* v = Env("WATCHDOG_PID")) env.watchdog_pid = v;
  env.pid = static_cast<long>(::getpid());
  return env;
}

}  // namespace outpost::platform
