// POSIX host name and terminal detection (Linux and macOS).
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

}  // namespace outpost::platform
