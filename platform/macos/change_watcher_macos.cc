// macOS change watcher: the polling watcher for now (native is ignored). FSEvents or
// kqueue can replace it later without changing the interface.
// Not compiled here (no macOS toolchain on the build machines).
#include "outpost/platform/change_watcher.h"
#include "posix/polling_watcher.h"

namespace outpost::platform {

std::unique_ptr<ChangeWatcher> CreateChangeWatcher(bool /*native*/) {
  return CreatePollingWatcher();
}

}  // namespace outpost::platform
