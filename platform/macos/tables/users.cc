// users (macOS): local accounts. macOS keeps them in the local directory node, one
// property list per account in /var/db/dslocal/nodes/Default/users/<name>.plist (binary
// plists, readable by root only), with every attribute an array of strings:
// name, uid, gid, realname, home, shell, generateduid, IsHidden. They are read there,
// below the table's root, so that tests can use a fixture tree; /etc/passwd on macOS
// holds only a few system accounts and is not used.
//
// Without access to that directory (not root) on the live system, getpwent() is asked
// instead: it goes through opendirectoryd and lists the same local accounts, without
// their UUIDs. Network (LDAP, Active Directory) accounts are never listed, so
// include_remote has no effect.
//
// osquery's columns: uuid is the account's generateduid, is_hidden its IsHidden
// attribute; type (Windows) and the Linux-only columns are hidden and NULL.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include <pwd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <system_error>

#include "macos/tables/mac_util.h"
#include "macos/tables/tables.h"

namespace outpost::platform::macos_tables {
namespace {

struct Account {
  std::string name, description, directory, shell, uuid;
  int64_t uid = 0, gid = 0;
  int64_t hidden = 0;
};

std::optional<int64_t> Number(const std::optional<std::string>& s) {
  if (!s || s->empty() || s->size() > 11) return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(s->c_str(), &end, 10);
  if (end != s->c_str() + s->size()) return std::nullopt;
  return v;
}

// A uid/gid as the signed 32-bit value osquery's *_signed columns show (4294967294 -> -2).
int64_t Signed(int64_t id) { return static_cast<int32_t>(static_cast<uint32_t>(id)); }

// The dslocal records; nullopt when the directory cannot be listed.
std::optional<std::vector<Account>> DirectoryAccounts(const TableEnv& env) {
  const std::filesystem::path dir = env.Path("/var/db/dslocal/nodes/Default/users");
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return std::nullopt;
  std::vector<Account> out;
  for (std::filesystem::directory_iterator end; !ec && it != end; it.increment(ec)) {
    if (env.stopped()) break;
    if (it->path().extension() != ".plist") continue;
    const std::optional<plist::Value> rec = ReadPlist(it->path());
    if (!rec || rec->type != plist::Type::kDict) continue;  // unreadable or malformed
    const std::optional<std::string> name = FirstString(*rec, "name");
    const std::optional<int64_t> uid = Number(FirstString(*rec, "uid"));
    if (!name || name->empty() || !uid) continue;
    Account a;
    a.name = *name;
    a.uid = *uid;
    a.gid = Number(FirstString(*rec, "gid")).value_or(-1);
    a.description = FirstString(*rec, "realname").value_or("");
    a.directory = FirstString(*rec, "home").value_or("");
    a.shell = FirstString(*rec, "shell").value_or("");
    a.uuid = FirstString(*rec, "generateduid").value_or("");
    const std::string hidden = FirstString(*rec, "IsHidden").value_or("");
    a.hidden = hidden == "1" || hidden == "YES" || hidden == "true";
    out.push_back(std::move(a));
  }
  return out;
}

// getpwent() of the live system (not thread-safe: one caller at a time).
std::vector<Account> PasswdAccounts() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::vector<Account> out;
  setpwent();
  while (const struct passwd* pw = getpwent()) {
    Account a;
    a.name = pw->pw_name ? pw->pw_name : "";
    a.uid = pw->pw_uid;
    a.gid = pw->pw_gid;
    a.description = pw->pw_gecos ? pw->pw_gecos : "";
    a.directory = pw->pw_dir ? pw->pw_dir : "";
    a.shell = pw->pw_shell ? pw->pw_shell : "";
    if (!a.name.empty()) out.push_back(std::move(a));
  }
  endpwent();
  return out;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  std::optional<std::vector<Account>> accounts = DirectoryAccounts(env);
  if (!accounts) {
    if (env.root != std::filesystem::path("/")) return "";  // a fixture tree without accounts
    accounts = PasswdAccounts();
  }
  std::sort(accounts->begin(), accounts->end(),
            [](const Account& a, const Account& b) { return a.uid < b.uid; });
  for (const Account& a : *accounts) {
    if (!rows.Add({Value(a.uid), Value(a.gid), Value(Signed(a.uid)), Value(Signed(a.gid)),
                   Text(a.name), Text(a.description), Text(a.directory), Text(a.shell),
                   Text(a.uuid), Value(), Value(a.hidden), Value(), Value()}))
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
                  "Local user accounts from the local directory node.",
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
                   {"is_hidden", T::kInteger},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"include_remote", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::macos_tables
