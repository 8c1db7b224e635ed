// Windows and macOS: no device tables are written yet (the platform issue adds them).
// `outpost query` and `outpost tables` say so at run time.
#include "outpost/platform/table.h"

namespace outpost::platform {

const std::vector<TableDef>& DeviceTables() {
  static const std::vector<TableDef> none;
  return none;
}

std::string_view DeviceTablesOs() {
#if defined(_WIN32)
  return "windows";
#else
  return "macos";
#endif
}

}  // namespace outpost::platform
