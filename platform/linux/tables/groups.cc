// groups: local groups from /etc/group, read directly under the root (no NSS, so
// LDAP/AD groups are never listed). osquery's columns; the Windows/macOS-only ones are
// hidden and NULL.
#include "linux/tables/passwd_file.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  for (const GroupEntry& g : ReadGroups(env)) {
    if (!rows.Add({Value(g.gid), Value(SignedId(g.gid)), Text(g.groupname), Value(), Value(),
                   Value(), Value()}))
      break;
  }
  return "";
}

}  // namespace

TableDef GroupsTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  constexpr bool kHidden = true;
  return TableDef{"groups",
                  "Local groups from /etc/group.",
                  {{"gid", T::kBigInt, false, kIndex},
                   {"gid_signed", T::kBigInt},
                   {"groupname", T::kText},
                   {"group_sid", T::kText, false, kIndex, kHidden},
                   {"comment", T::kText, false, false, kHidden},
                   {"is_hidden", T::kInteger, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
