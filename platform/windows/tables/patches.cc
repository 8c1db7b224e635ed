// patches: the installed updates (KBs). osquery reads WMI's Win32_QuickFixEngineering;
// outpost does not use WMI, so this table reads the same source QFE is built from, the
// Component Based Servicing package list, the subkeys of
// HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages.
// osquery's columns:
//
//   hotfix_id    "KB5034441", from a package named "Package_for_KB5034441~..." (or
//                "Package_<n>_for_KB...") whose CurrentState is 112 (installed); one row
//                per KB
//   description  the package's ReleaseType ("Security Update", "Update", "Hotfix")
//   caption      "https://support.microsoft.com/help/<number>"
//   installed_on the install time (InstallTimeHigh/Low) as "M/D/YYYY", as QFE shows it;
//                install_date NULL (QFE leaves it empty too)
//   installed_by the InstallUser value (a SID) when present; csname the computer name
//   fix_comments NULL
//
// Where the key is missing (Wine, a stripped image) the table has no rows; where it
// cannot be opened the query fails with the reason.
#include <cstdio>
#include <set>

#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr wchar_t kPackages[] =
    L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages";
constexpr int64_t kStateInstalled = 112;

// "KB5034441" from "Package_for_KB5034441~31bf3856ad364e35~amd64~~10.0.1.0"; "" if none.
std::string KbOf(const std::string& package) {
  const size_t tilde = package.find('~');
  const std::string head = package.substr(0, tilde);
  const size_t at = head.find("_for_KB");
  if (head.rfind("Package_", 0) != 0 || at == std::string::npos) return "";
  size_t end = at + 7;
  while (end < head.size() && head[end] >= '0' && head[end] <= '9') ++end;
  if (end == at + 7) return "";
  return head.substr(at + 5, end - (at + 5));
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  RegKey packages;
  const LONG rc = packages.Open(HKEY_LOCAL_MACHINE, kPackages);
  if (rc == ERROR_FILE_NOT_FOUND || rc == ERROR_PATH_NOT_FOUND) return "";
  if (rc != ERROR_SUCCESS)
    return "patches: cannot open the servicing package list: " + ErrorText(rc);
  wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD host_len = MAX_COMPUTERNAME_LENGTH + 1;
  const Value csname =
      GetComputerNameW(host, &host_len) ? Text(Utf8(host, static_cast<int>(host_len))) : Value();
  std::set<std::string> seen;
  for (const std::wstring& sub : packages.SubKeys()) {
    if (env.stopped()) break;
    const std::string kb = KbOf(Utf8(sub));
    if (kb.empty() || seen.count(kb) != 0) continue;
    RegKey k;
    if (k.Open(packages.get(), sub) != ERROR_SUCCESS) continue;
    if (k.Number(L"CurrentState") != kStateInstalled) continue;
    seen.insert(kb);
    Value installed_on;
    const std::optional<int64_t> high = k.Number(L"InstallTimeHigh");
    const std::optional<int64_t> low = k.Number(L"InstallTimeLow");
    if (high && low) {
      FILETIME ft;
      ft.dwHighDateTime = static_cast<DWORD>(*high);
      ft.dwLowDateTime = static_cast<DWORD>(*low);
      SYSTEMTIME st{};
      if (FileTimeToSystemTime(&ft, &st)) {
        char date[32];
        std::snprintf(date, sizeof date, "%u/%u/%u", static_cast<unsigned>(st.wMonth),
                      static_cast<unsigned>(st.wDay), static_cast<unsigned>(st.wYear));
        installed_on = Text(date);
      }
    }
    if (!rows.Add({csname, Text(kb), Text("https://support.microsoft.com/help/" + kb.substr(2)),
                   OptText(k.String(L"ReleaseType")), Value(), OptText(k.String(L"InstallUser")),
                   Value(), installed_on}))
      break;
  }
  return "";
}

}  // namespace

TableDef PatchesTable() {
  using T = ColumnType;
  return TableDef{"patches",
                  "Installed updates (KBs), from the Component Based Servicing package list.",
                  {{"csname", T::kText},
                   {"hotfix_id", T::kText},
                   {"caption", T::kText},
                   {"description", T::kText},
                   {"fix_comments", T::kText},
                   {"installed_by", T::kText},
                   {"install_date", T::kText},
                   {"installed_on", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
