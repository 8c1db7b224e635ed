// POSIX host name and terminal detection (Linux and macOS).
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <climits>

#include "outpost/platform/system.h"

namespace outpost::platform {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "unknown";
  return buf;
}

bool IsTerminal(StdStream stream) {
  return isatty(stream == StdStream::kStdout ? STDOUT_FILENO : STDERR_FILENO) == 1;
}

int TerminalColumns() {
  struct winsize ws {};
  if (isatty(STDOUT_FILENO) != 1 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col > 0 ? ws.ws_col : 80;
}

unsigned long RaiseOpenFileLimit() {
  struct rlimit lim {};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    struct rlimit want = lim;
    want.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return lim.rlim_cur == RLIM_INFINITY ? ULONG_MAX : static_cast<unsigned long>(lim.rlim_cur);
}

long ProcessId() { return static_cast<long>(getpid()); }

}  // namespace outpost::platform
