// Where there is no Windows Event Log (Linux, macOS): opening one fails with
// kNotAvailable, so that a configured [[source.eventlog]] says so and stays idle.
#include "outpost/platform/eventlog.h"
#include "outpost/platform/system.h"

namespace outpost::platform {

std::unique_ptr<EventLogReader> OpenEventLogReader(const EventLogOpenOptions&,
                                                   EventLogError* error) {
  if (error) {
    error->kind = EventLogErrorKind::kNotAvailable;
    error->code = 0;
    error->message = "the Windows Event Log is only available on Windows (this is " +
                     std::string(OsName()) + ")";
  }
  return nullptr;
}

}  // namespace outpost::platform
