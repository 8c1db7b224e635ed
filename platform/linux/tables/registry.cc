// The Linux device tables: one line per table (STYLE.md rule 17). Each table is one
// file in platform/linux/tables/ that defines its TableDef.
#include "linux/tables/tables.h"

namespace outpost::platform {

const std::vector<TableDef>& DeviceTables() {
  static const std::vector<TableDef> tables = [] {
    std::vector<TableDef> t;
    t.push_back(linux_tables::OsVersionTable());
    return t;
  }();
  return tables;
}

std::string_view DeviceTablesOs() { return "linux"; }

}  // namespace outpost::platform
