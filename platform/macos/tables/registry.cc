// The macOS device tables: one line per table (STYLE.md rule 17). Each table is one
// file in platform/macos/tables/ that defines its TableDef.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include "macos/tables/tables.h"

namespace outpost::platform {

const std::vector<TableDef>& DeviceTables() {
  static const std::vector<TableDef> tables = [] {
    std::vector<TableDef> t;
    t.push_back(macos_tables::OsVersionTable());
    t.push_back(macos_tables::SystemInfoTable());
    t.push_back(macos_tables::UsersTable());
    t.push_back(macos_tables::ProcessesTable());
    t.push_back(macos_tables::ListeningPortsTable());
    t.push_back(macos_tables::AppsTable());
    return t;
  }();
  return tables;
}

std::string_view DeviceTablesOs() { return "macos"; }

}  // namespace outpost::platform
