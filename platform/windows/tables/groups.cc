// groups: the local groups (NetLocalGroupEnum, level 1), one row each. osquery's
// columns; the Linux/macOS-only ones are hidden and NULL here.
//
//   gid, gid_signed  the group's relative id (the last part of its SID: 544 for
//                    Administrators); NULL when the SID cannot be looked up
//   groupname        its name; group_sid its SID; comment its description
// win_util.h first: it includes <windows.h>, which the system headers below need.
#include "windows/tables/win_util.h"

#include <lm.h>

#include "windows/tables/tables.h"

namespace outpost::platform::windows_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  DWORD_PTR resume = 0;
  for (int round = 0; round < 1000; ++round) {
    BYTE* buf = nullptr;
    DWORD read = 0, total = 0;
    const NET_API_STATUS rc =
        NetLocalGroupEnum(nullptr, 1, &buf, MAX_PREFERRED_LENGTH, &read, &total, &resume);
    if (rc != NERR_Success && rc != ERROR_MORE_DATA) {
      if (buf != nullptr) NetApiBufferFree(buf);
      return "groups: NetLocalGroupEnum failed: " + ErrorText(rc);
    }
    const auto* groups = reinterpret_cast<const LOCALGROUP_INFO_1*>(buf);
    bool more = true;
    for (DWORD i = 0; buf != nullptr && i < read && more; ++i) {
      const LOCALGROUP_INFO_1& g = groups[i];
      if (g.lgrpi1_name == nullptr) continue;
      const std::optional<AccountSid> sid = LookupSid(g.lgrpi1_name);
      const std::optional<int64_t> rid = sid ? sid->rid : std::nullopt;
      more = rows.Add({Int(rid), Int(rid), Text(Utf8(g.lgrpi1_name)),
                       sid ? Text(sid->sid) : Value(), Text(Utf8(g.lgrpi1_comment))});
    }
    if (buf != nullptr) NetApiBufferFree(buf);
    if (!more || env.stopped() || rc != ERROR_MORE_DATA) break;
  }
  return "";
}

}  // namespace

TableDef GroupsTable() {
  using T = ColumnType;
  constexpr bool kIndex = true, kHidden = true;
  return TableDef{"groups",
                  "Local groups (NetLocalGroupEnum).",
                  {{"gid", T::kBigInt, false, kIndex},
                   {"gid_signed", T::kBigInt},
                   {"groupname", T::kText},
                   {"group_sid", T::kText, false, kIndex},
                   {"comment", T::kText},
                   {"is_hidden", T::kInteger, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
