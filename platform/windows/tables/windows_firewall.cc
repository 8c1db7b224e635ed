// windows_firewall (outpost's own table; osquery has windows_firewall_rules, not the
// profile state): whether Windows Firewall is on for each profile and what it does with
// traffic no rule matches, from the registry, one row per profile:
//
//   profile                  "domain", "private", "public"
//   enabled                  1 or 0 (EnableFirewall)
//   default_inbound_action   "block" or "allow" (DefaultInboundAction 1 or 0)
//   default_outbound_action  "block" or "allow" (DefaultOutboundAction)
//   source                   "group_policy" when a value came from the policy key
//                            HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\<Profile>
//                            (which wins), else "local": the key <Profile> under
//                            HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters
//                            \FirewallPolicy
//                            (the private profile is "StandardProfile" there)
//   status                   "ok"; "ok (Windows default for: ...)" when a value is set
//                            nowhere and the documented default was used (enabled,
//                            inbound block, outbound allow); "error: ..." when the
//                            profile's configuration cannot be read (the other columns
//                            NULL)
//
// This is the configured state: a stopped firewall service (MpsSvc) enforces nothing,
// which the services table shows.
#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr wchar_t kLocal[] =
    L"SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\";
constexpr wchar_t kPolicy[] = L"SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\";

struct Profile {
  const char* name;
  const wchar_t* local_key;
  const wchar_t* policy_key;
};

std::string Generate(const TableEnv&, const TableQuery&, RowSink& rows) {
  static const Profile kProfiles[] = {{"domain", L"DomainProfile", L"DomainProfile"},
                                      {"private", L"StandardProfile", L"PrivateProfile"},
                                      {"public", L"PublicProfile", L"PublicProfile"}};
  for (const Profile& p : kProfiles) {
    RegKey local, policy;
    const LONG local_rc = local.Open(HKEY_LOCAL_MACHINE, std::wstring(kLocal) + p.local_key);
    const bool have_policy =
        policy.Open(HKEY_LOCAL_MACHINE, std::wstring(kPolicy) + p.policy_key) == ERROR_SUCCESS;
    if (local_rc != ERROR_SUCCESS && !have_policy) {
      const std::string where = "HKLM\\" + Utf8(std::wstring(kLocal) + p.local_key);
      const std::string why =
          local_rc == ERROR_FILE_NOT_FOUND || local_rc == ERROR_PATH_NOT_FOUND
              ? where + " does not exist (no Windows Firewall configuration)"
              : "cannot open " + where + ": " + ErrorText(static_cast<DWORD>(local_rc));
      if (!rows.Add({Text(p.name), Value(), Value(), Value(), Value(), Text("error: " + why)}))
        return "";
      continue;
    }
    bool from_policy = false;
    std::string defaults;
    // A value from the policy key, else the local one, else the Windows default.
    auto read = [&](const wchar_t* value, int64_t fallback) {
      if (have_policy) {
        if (std::optional<int64_t> v = policy.Number(value)) {
          from_policy = true;
          return *v;
        }
      }
      if (std::optional<int64_t> v = local.Number(value)) return *v;
      defaults += (defaults.empty() ? "" : ", ") + Utf8(value);
      return fallback;
    };
    const int64_t enabled = read(L"EnableFirewall", 1) != 0 ? 1 : 0;
    const int64_t inbound = read(L"DefaultInboundAction", 1);
    const int64_t outbound = read(L"DefaultOutboundAction", 0);
    const std::string status =
        defaults.empty() ? "ok" : "ok (Windows default for: " + defaults + ")";
    if (!rows.Add({Text(p.name), Value(enabled), Text(inbound != 0 ? "block" : "allow"),
                   Text(outbound != 0 ? "block" : "allow"),
                   Text(from_policy ? "group_policy" : "local"), Text(status)}))
      return "";
  }
  return "";
}

}  // namespace

TableDef WindowsFirewallTable() {
  using T = ColumnType;
  return TableDef{"windows_firewall",
                  "Windows Firewall state and default actions of each profile (registry).",
                  {{"profile", T::kText},
                   {"enabled", T::kInteger},
                   {"default_inbound_action", T::kText},
                   {"default_outbound_action", T::kText},
                   {"source", T::kText},
                   {"status", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
