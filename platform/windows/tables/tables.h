// The Windows device tables, one function per table file, listed in registry.cc.
#pragma once

#include "outpost/platform/table.h"

namespace outpost::platform::windows_tables {

TableDef OsVersionTable();           // os_version.cc
TableDef SystemInfoTable();          // system_info.cc
TableDef UsersTable();               // users.cc
TableDef GroupsTable();              // groups.cc
TableDef ProcessesTable();           // processes.cc
TableDef ProgramsTable();            // programs.cc
TableDef ServicesTable();            // services.cc
TableDef RegistryTable();            // registry_table.cc
TableDef FileTable();                // file.cc
TableDef HashTable();                // hash.cc
TableDef InterfaceAddressesTable();  // interface_addresses.cc
TableDef ListeningPortsTable();      // listening_ports.cc
TableDef PatchesTable();             // patches.cc
TableDef WindowsFirewallTable();     // windows_firewall.cc
TableDef BitlockerInfoTable();       // bitlocker_info.cc

}  // namespace outpost::platform::windows_tables
