// os_version: one row naming the running Windows release. osquery's columns; the
// Linux/macOS-only ones are hidden and NULL here.
//
// The numbers come from RtlGetVersion (ntdll), which, unlike GetVersionEx, is not
// capped by the executable's compatibility manifest. The marketing name (ProductName),
// the feature release (DisplayVersion, else ReleaseId) as codename, the update build
// revision (UBR) and InstallDate come from the registry key
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion; a value missing there gives NULL.
#include "outpost/platform/system.h"
#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOEXW*);

std::optional<OSVERSIONINFOEXW> KernelVersion() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (ntdll == nullptr) return std::nullopt;
  auto fn = reinterpret_cast<RtlGetVersionFn>(
      reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")));
  if (fn == nullptr) return std::nullopt;
  OSVERSIONINFOEXW info{};
  info.dwOSVersionInfoSize = sizeof info;
  if (fn(&info) != 0) return std::nullopt;
  return info;
}

std::string Generate(const TableEnv&, const TableQuery&, RowSink& rows) {
  const std::optional<OSVERSIONINFOEXW> v = KernelVersion();
  if (!v) return "os_version: RtlGetVersion is not available";
  RegKey cv;
  cv.Open(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
  std::string name = cv.String(L"ProductName").value_or("");
  if (name.empty()) name = "Microsoft Windows";
  // Windows 11 still says "Windows 10" in ProductName; build 22000 is the first 11.
  if (v->dwMajorVersion == 10 && v->dwBuildNumber >= 22000) {
    const size_t at = name.find("Windows 10");
    if (at != std::string::npos) name.replace(at, 10, "Windows 11");
  }
  std::optional<std::string> codename = cv.String(L"DisplayVersion");
  if (!codename) codename = cv.String(L"ReleaseId");
  const std::string build = std::to_string(v->dwBuildNumber);
  const std::string version =
      std::to_string(v->dwMajorVersion) + "." + std::to_string(v->dwMinorVersion) + "." + build;
  rows.Add({Text(name), Text(version), Value(int64_t{v->dwMajorVersion}),
            Value(int64_t{v->dwMinorVersion}), Value(), Text(build), Text("windows"),
            Text("windows"), OptText(codename), Text(ArchName()), Value(),
            Int(cv.Number(L"InstallDate")), Int(cv.Number(L"UBR"))});
  return "";
}

}  // namespace

TableDef OsVersionTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"os_version",
                  "The operating system's name and version (one row).",
                  {{"name", T::kText},
                   {"version", T::kText},
                   {"major", T::kInteger},
                   {"minor", T::kInteger},
                   {"patch", T::kInteger},
                   {"build", T::kText},
                   {"platform", T::kText},
                   {"platform_like", T::kText},
                   {"codename", T::kText},
                   {"arch", T::kText},
                   {"extra", T::kText, false, false, kHidden},
                   {"install_date", T::kBigInt},
                   {"revision", T::kInteger},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
