// The macOS device tables, one function per table file, listed in registry.cc.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#pragma once

#include "outpost/platform/table.h"

namespace outpost::platform::macos_tables {

TableDef OsVersionTable();       // os_version.cc
TableDef SystemInfoTable();      // system_info.cc
TableDef UsersTable();           // users.cc
TableDef ProcessesTable();       // processes.cc
TableDef ListeningPortsTable();  // listening_ports.cc
TableDef AppsTable();            // apps.cc

}  // namespace outpost::platform::macos_tables
