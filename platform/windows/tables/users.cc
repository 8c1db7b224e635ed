// users: the local user accounts (NetUserEnum, level 1), one row each. osquery's
// columns; the Linux/macOS-only ones are hidden and NULL here.
//
//   uid, uid_signed  the account's relative id (the last part of its SID: 500 for the
//                    built-in Administrator); NULL when the SID cannot be looked up
//   gid, gid_signed  the primary group's relative id (NetUserGetInfo level 3; 513 is
//                    "None"/"Domain Users"), NULL when unreadable
//   description      the account's comment; directory its home directory (often "")
//   shell            "C:\Windows\system32\cmd.exe", as osquery
//   uuid             the SID ("S-1-5-21-...-500"); type "local"
//   disabled         (ours, hidden: named, it is returned) 1 when the account is
//                    disabled (UF_ACCOUNTDISABLE), else 0; policies use it for Guest
//
// osquery also lists domain accounts that have a profile on the machine (ProfileList);
// this table does not (docs/windows-tables.md).
// win_util.h first: it includes <windows.h>, which the system headers below need.
#include "windows/tables/win_util.h"

#include <lm.h>

#include "windows/tables/tables.h"

namespace outpost::platform::windows_tables {
namespace {

std::optional<int64_t> PrimaryGroup(const wchar_t* name) {
  BYTE* buf = nullptr;
  if (NetUserGetInfo(nullptr, name, 3, &buf) != NERR_Success || buf == nullptr) {
    if (buf != nullptr) NetApiBufferFree(buf);
    return std::nullopt;
  }
  const int64_t gid =
      static_cast<int64_t>(reinterpret_cast<USER_INFO_3*>(buf)->usri3_primary_group_id);
  NetApiBufferFree(buf);
  return gid;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  DWORD resume = 0;
  for (int round = 0; round < 1000; ++round) {
    BYTE* buf = nullptr;
    DWORD read = 0, total = 0;
    const NET_API_STATUS rc = NetUserEnum(nullptr, 1, FILTER_NORMAL_ACCOUNT, &buf,
                                          MAX_PREFERRED_LENGTH, &read, &total, &resume);
    if (rc != NERR_Success && rc != ERROR_MORE_DATA) {
      if (buf != nullptr) NetApiBufferFree(buf);
      return "users: NetUserEnum failed: " + ErrorText(rc);
    }
    const auto* users = reinterpret_cast<const USER_INFO_1*>(buf);
    bool more = true;
    for (DWORD i = 0; buf != nullptr && i < read && more; ++i) {
      const USER_INFO_1& u = users[i];
      if (u.usri1_name == nullptr) continue;
      const std::optional<AccountSid> sid = LookupSid(u.usri1_name);
      const std::optional<int64_t> rid = sid ? sid->rid : std::nullopt;
      const std::optional<int64_t> gid = PrimaryGroup(u.usri1_name);
      more = rows.Add({Int(rid), Int(gid), Int(rid), Int(gid), Text(Utf8(u.usri1_name)),
                       Text(Utf8(u.usri1_comment)), Text(Utf8(u.usri1_home_dir)),
                       Text("C:\\Windows\\system32\\cmd.exe"), sid ? Text(sid->sid) : Value(),
                       Text("local"), Value(), Value(), Value(),
                       Value(int64_t{(u.usri1_flags & UF_ACCOUNTDISABLE) != 0 ? 1 : 0})});
    }
    if (buf != nullptr) NetApiBufferFree(buf);
    if (!more || env.stopped() || rc != ERROR_MORE_DATA) break;
  }
  return "";
}

}  // namespace

TableDef UsersTable() {
  using T = ColumnType;
  constexpr bool kIndex = true, kHidden = true;
  return TableDef{"users",
                  "Local user accounts (NetUserEnum).",
                  {{"uid", T::kBigInt, false, kIndex},
                   {"gid", T::kBigInt},
                   {"uid_signed", T::kBigInt},
                   {"gid_signed", T::kBigInt},
                   {"username", T::kText},
                   {"description", T::kText},
                   {"directory", T::kText},
                   {"shell", T::kText},
                   {"uuid", T::kText, false, kIndex},
                   {"type", T::kText},
                   {"is_hidden", T::kInteger, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"include_remote", T::kInteger, false, false, kHidden},
                   {"disabled", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
