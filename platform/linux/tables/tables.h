// The Linux device tables, one function per table file, listed in registry.cc.
#pragma once

#include "outpost/platform/table.h"

namespace outpost::platform::linux_tables {

TableDef OsVersionTable();  // os_version.cc

}  // namespace outpost::platform::linux_tables
