// users: local accounts from /etc/passwd, read directly under the root (never through
// getpwent: the static binary has no NSS, so LDAP/AD accounts are never listed and
// include_remote has no effect). osquery's columns; uuid is empty on Linux as in
// osquery, and the Windows/macOS-only columns are hidden and NULL.
#include "linux/tables/passwd_file.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  // /etc/passwd is small: every row is yielded and SQLite applies uid/username filters.
  for (const PasswdEntry& u : ReadPasswd(env)) {
    if (!rows.Add({Value(u.uid), Value(u.gid), Value(SignedId(u.uid)), Value(SignedId(u.gid)),
                   Text(u.username), Text(u.gecos), Text(u.directory), Text(u.shell), Text(""),
                   Value(), Value(), Value(), Value()}))
      break;
  }
  return "";
}

}  // namespace

TableDef UsersTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  constexpr bool kHidden = true;
  return TableDef{"users",
                  "Local user accounts from /etc/passwd.",
                  {{"uid", T::kBigInt, false, kIndex},
                   {"gid", T::kBigInt},
                   {"uid_signed", T::kBigInt},
                   {"gid_signed", T::kBigInt},
                   {"username", T::kText},
                   {"description", T::kText},
                   {"directory", T::kText},
                   {"shell", T::kText},
                   {"uuid", T::kText, false, kIndex},
                   {"type", T::kText, false, false, kHidden},
                   {"is_hidden", T::kInteger, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"include_remote", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
