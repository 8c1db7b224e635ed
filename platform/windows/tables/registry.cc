// The Windows device tables: one line per table (STYLE.md rule 17). Each table is one
// file in platform/windows/tables/ that defines its TableDef. They read the running
// system through Win32 APIs of system DLLs only; TableEnv::root is not used (a Windows
// path or registry key names itself fully).
#include "windows/tables/tables.h"

namespace outpost::platform {

const std::vector<TableDef>& DeviceTables() {
  static const std::vector<TableDef> tables = [] {
    std::vector<TableDef> t;
    t.push_back(windows_tables::OsVersionTable());
    t.push_back(windows_tables::SystemInfoTable());
    t.push_back(windows_tables::UsersTable());
    t.push_back(windows_tables::GroupsTable());
    t.push_back(windows_tables::ProcessesTable());
    t.push_back(windows_tables::ProgramsTable());
    t.push_back(windows_tables::ServicesTable());
    t.push_back(windows_tables::RegistryTable());
    t.push_back(windows_tables::FileTable());
    t.push_back(windows_tables::HashTable());
    t.push_back(windows_tables::InterfaceAddressesTable());
    t.push_back(windows_tables::ListeningPortsTable());
    t.push_back(windows_tables::PatchesTable());
    t.push_back(windows_tables::WindowsFirewallTable());
    t.push_back(windows_tables::BitlockerInfoTable());
    return t;
  }();
  return tables;
}

std::string_view DeviceTablesOs() { return "windows"; }

}  // namespace outpost::platform
