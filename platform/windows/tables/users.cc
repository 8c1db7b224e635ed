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

// One row from a USER_INFO_1 (comment, home directory and flags may be missing: a
// level-0 listing gives only the name).
std::vector<Value> UserRow(const wchar_t* name, const USER_INFO_1* info) {
  const std::optional<AccountSid> sid = LookupSid(name);
  const std::optional<int64_t> rid = sid ? sid->rid : std::nullopt;
  const std::optional<int64_t> gid = PrimaryGroup(name);
  Value disabled;
  if (info != nullptr)
    disabled = Value(int64_t{(info->usri1_flags & UF_ACCOUNTDISABLE) != 0 ? 1 : 0});
  return {Int(rid),
          Int(gid),
          Int(rid),
          Int(gid),
          Text(Utf8(name)),
          info != nullptr ? Text(Utf8(info->usri1_comment)) : Value(),
          info != nullptr ? Text(Utf8(info->usri1_home_dir)) : Value(),
          Text("C:\\Windows\\system32\\cmd.exe"),
          sid ? Text(sid->sid) : Value(),
          Text("local"),
          Value(),
          Value(),
          Value(),
          disabled};
}

// Level 1 where the system supports it (Windows); else level 0 (Wine) and each user's
// details from NetUserGetInfo level 1, when that answers.
std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  DWORD level = 1;
  DWORD resume = 0;
  for (int round = 0; round < 1000; ++round) {
    BYTE* buf = nullptr;
    DWORD read = 0, total = 0;
    NET_API_STATUS rc = NetUserEnum(nullptr, level, FILTER_NORMAL_ACCOUNT, &buf,
                                    MAX_PREFERRED_LENGTH, &read, &total, &resume);
    if (rc == ERROR_INVALID_LEVEL && level == 1 && round == 0) {
      if (buf != nullptr) NetApiBufferFree(buf);
      buf = nullptr;
      level = 0;
      resume = 0;
      rc = NetUserEnum(nullptr, level, FILTER_NORMAL_ACCOUNT, &buf, MAX_PREFERRED_LENGTH, &read,
                       &total, &resume);
    }
    if (rc != NERR_Success && rc != ERROR_MORE_DATA) {
      if (buf != nullptr) NetApiBufferFree(buf);
      return "users: NetUserEnum failed: " + ErrorText(rc);
    }
    bool more = true;
    for (DWORD i = 0; buf != nullptr && i < read && more; ++i) {
      if (level == 1) {
        const USER_INFO_1& u = reinterpret_cast<const USER_INFO_1*>(buf)[i];
        if (u.usri1_name != nullptr) more = rows.Add(UserRow(u.usri1_name, &u));
        continue;
      }
      const wchar_t* name = reinterpret_cast<const USER_INFO_0*>(buf)[i].usri0_name;
      if (name == nullptr) continue;
      BYTE* info = nullptr;
      const bool have = NetUserGetInfo(nullptr, name, 1, &info) == NERR_Success;
      more = rows.Add(
          UserRow(name, have && info != nullptr ? reinterpret_cast<USER_INFO_1*>(info) : nullptr));
      if (info != nullptr) NetApiBufferFree(info);
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
