// The Linux device tables: one line per table (STYLE.md rule 17). Each table is one
// file in platform/linux/tables/ that defines its TableDef.
#include "linux/tables/tables.h"

namespace outpost::platform {

const std::vector<TableDef>& DeviceTables() {
  static const std::vector<TableDef> tables = [] {
    std::vector<TableDef> t;
    t.push_back(linux_tables::OsVersionTable());
    t.push_back(linux_tables::ProcessesTable());
    t.push_back(linux_tables::FileTable());
    t.push_back(linux_tables::HashTable());
    t.push_back(linux_tables::ListeningPortsTable());
    t.push_back(linux_tables::RoutesTable());
    t.push_back(linux_tables::SystemInfoTable());
    t.push_back(linux_tables::UptimeTable());
    t.push_back(linux_tables::KernelInfoTable());
    t.push_back(linux_tables::UsersTable());
    t.push_back(linux_tables::GroupsTable());
    t.push_back(linux_tables::LoggedInUsersTable());
    t.push_back(linux_tables::MountsTable());
    t.push_back(linux_tables::KernelModulesTable());
    t.push_back(linux_tables::SystemControlsTable());
    t.push_back(linux_tables::ShadowTable());
    t.push_back(linux_tables::CrontabTable());
    t.push_back(linux_tables::AuthorizedKeysTable());
    t.push_back(linux_tables::SshdConfigTable());
    t.push_back(linux_tables::DebPackagesTable());
    t.push_back(linux_tables::SystemdUnitsTable());
    t.push_back(linux_tables::FirewallTable());
    t.push_back(linux_tables::DiskEncryptionTable());
    t.push_back(linux_tables::SuidBinTable());
    t.push_back(linux_tables::InterfaceAddressesTable());
    t.push_back(linux_tables::RpmPackagesTable());
    return t;
  }();
  return tables;
}

std::string_view DeviceTablesOs() { return "linux"; }

}  // namespace outpost::platform
