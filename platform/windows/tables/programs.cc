// programs: the installed products of Add/Remove Programs, from the Uninstall keys of
// HKLM (the 64-bit view, then the 32-bit view, i.e. SOFTWARE\WOW6432Node). osquery's
// columns. One row per subkey that has a DisplayName (the others are updates and
// components that Windows itself hides); identifying_number is the subkey's name when
// it is an MSI product code ("{...}"). upgrade_code and package_family_name are NULL
// (they live in the MSI database and the AppX store, not in these keys).
#include <set>

#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr wchar_t kUninstall[] = L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  // On a 32-bit Windows both views are the same key: each subkey is reported once.
  std::set<std::string> seen;
  for (REGSAM view : {REGSAM{KEY_WOW64_64KEY}, REGSAM{KEY_WOW64_32KEY}}) {
    RegKey root;
    if (root.Open(HKEY_LOCAL_MACHINE, kUninstall, view) != ERROR_SUCCESS) continue;
    for (const std::wstring& sub : root.SubKeys()) {
      if (env.stopped()) return "";
      RegKey k;
      if (k.Open(root.get(), sub, view) != ERROR_SUCCESS) continue;
      const std::optional<std::string> name = k.String(L"DisplayName");
      if (!name || name->empty()) continue;
      const std::string id = Utf8(sub);
      const std::optional<std::string> version = k.String(L"DisplayVersion");
      if (!seen.insert(id + "\n" + *name + "\n" + version.value_or("")).second) continue;
      const bool product_code = !id.empty() && id.front() == '{';
      if (!rows.Add({Text(*name), OptText(version), OptText(k.String(L"InstallLocation")),
                     OptText(k.String(L"InstallSource")), OptText(k.String(L"Language")),
                     OptText(k.String(L"Publisher")), OptText(k.String(L"UninstallString")),
                     OptText(k.String(L"InstallDate")), product_code ? Text(id) : Value()}))
        return "";
    }
  }
  return "";
}

}  // namespace

TableDef ProgramsTable() {
  using T = ColumnType;
  return TableDef{"programs",
                  "Installed programs (the Uninstall registry keys, 64- and 32-bit views).",
                  {{"name", T::kText},
                   {"version", T::kText},
                   {"install_location", T::kText},
                   {"install_source", T::kText},
                   {"language", T::kText},
                   {"publisher", T::kText},
                   {"uninstall_string", T::kText},
                   {"install_date", T::kText},
                   {"identifying_number", T::kText},
                   {"package_family_name", T::kText},
                   {"upgrade_code", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
