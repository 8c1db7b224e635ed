// Where there is no systemd (Windows, macOS): the notifier is never enabled, so the
// agent's calls are no-ops; a NOTIFY_SOCKET that happens to be set is reported once.
#include <cstdlib>

#include "outpost/platform/service_notify.h"
#include "outpost/platform/system.h"

namespace outpost::platform {

std::string CheckNotifySocket(const std::string&) {
  return "NOTIFY_SOCKET is set, but systemd notification is not available on " +
         std::string(OsName());
}

bool SendNotifyDatagram(const std::string&, std::string_view, std::string* error) {
  if (error) *error = "systemd notification is not available on " + std::string(OsName());
  return false;
}

long long MonotonicMicros() { return 0; }

ServiceNotifyEnvironment ReadNotifyEnvironment() {
  ServiceNotifyEnvironment env;
  env.pid = ProcessId();
  // Only NOTIFY_SOCKET matters here: its presence is reported through problem().
  if (const char* v = std::getenv("NOTIFY_SOCKET")) env.notify_socket = v;
  return env;
}

}  // namespace outpost::platform
