// The Linux device tables, one function per table file, listed in registry.cc.
#pragma once

#include "outpost/platform/table.h"

namespace outpost::platform::linux_tables {

TableDef OsVersionTable();       // os_version.cc
TableDef ProcessesTable();       // processes.cc
TableDef FileTable();            // file.cc
TableDef HashTable();            // hash.cc
TableDef ListeningPortsTable();  // listening_ports.cc
TableDef RoutesTable();          // routes.cc

TableDef SystemInfoTable();      // system_info.cc
TableDef UptimeTable();          // uptime.cc
TableDef KernelInfoTable();      // kernel_info.cc
TableDef UsersTable();           // users.cc
TableDef GroupsTable();          // groups.cc
TableDef LoggedInUsersTable();   // logged_in_users.cc
TableDef MountsTable();          // mounts.cc
TableDef KernelModulesTable();   // kernel_modules.cc
TableDef SystemControlsTable();  // system_controls.cc
TableDef ShadowTable();          // shadow.cc
TableDef CrontabTable();         // crontab.cc
TableDef AuthorizedKeysTable();  // authorized_keys.cc
TableDef SshdConfigTable();      // sshd_config.cc
TableDef DebPackagesTable();     // deb_packages.cc
TableDef SystemdUnitsTable();    // systemd_units.cc
TableDef FirewallTable();        // firewall.cc
TableDef DiskEncryptionTable();  // disk_encryption.cc
TableDef SuidBinTable();         // suid_bin.cc

TableDef InterfaceAddressesTable();  // interface_addresses.cc
TableDef RpmPackagesTable();         // rpm_packages.cc

}  // namespace outpost::platform::linux_tables
