// services: the installed Win32 services (EnumServicesStatusEx, SERVICE_WIN32; drivers
// are not listed), with each one's configuration (QueryServiceConfig) and description
// (QueryServiceConfig2). osquery's columns and value spellings:
//
//   service_type  OWN_PROCESS, SHARE_PROCESS, USER_OWN_PROCESS, USER_SHARE_PROCESS
//                 (with "(Interactive)" appended when it may interact with the desktop)
//   status        STOPPED, START_PENDING, STOP_PENDING, RUNNING, CONTINUE_PENDING,
//                 PAUSE_PENDING, PAUSED
//   start_type    BOOT_START, SYSTEM_START, AUTO_START, DEMAND_START, DISABLED
//   path          the command line it starts; module_path the ServiceDll of a shared
//                 service (Services\<name>\Parameters), NULL otherwise
//   user_account  the account it runs as
//
// A service whose configuration cannot be read (access denied, deleted meanwhile)
// keeps its row with those columns NULL.
#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

struct ScHandle {
  SC_HANDLE h = nullptr;
  ~ScHandle() {
    if (h != nullptr) CloseServiceHandle(h);
  }
};

std::string TypeName(DWORD type) {
  std::string out;
  const DWORD base = type & ~static_cast<DWORD>(SERVICE_INTERACTIVE_PROCESS);
  if (base == SERVICE_WIN32_OWN_PROCESS)
    out = "OWN_PROCESS";
  else if (base == SERVICE_WIN32_SHARE_PROCESS)
    out = "SHARE_PROCESS";
  else if (base == (SERVICE_WIN32_OWN_PROCESS | 0x40))  // SERVICE_USER_SERVICE
    out = "USER_OWN_PROCESS";
  else if (base == (SERVICE_WIN32_SHARE_PROCESS | 0x40))
    out = "USER_SHARE_PROCESS";
  else if (base == SERVICE_KERNEL_DRIVER)
    out = "KERNEL_DRIVER";
  else if (base == SERVICE_FILE_SYSTEM_DRIVER)
    out = "FILE_SYSTEM_DRIVER";
  else
    out = "UNKNOWN";
  if ((type & SERVICE_INTERACTIVE_PROCESS) != 0) out += "(Interactive)";
  return out;
}

std::string_view StatusName(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED:
      return "STOPPED";
    case SERVICE_START_PENDING:
      return "START_PENDING";
    case SERVICE_STOP_PENDING:
      return "STOP_PENDING";
    case SERVICE_RUNNING:
      return "RUNNING";
    case SERVICE_CONTINUE_PENDING:
      return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING:
      return "PAUSE_PENDING";
    case SERVICE_PAUSED:
      return "PAUSED";
    default:
      return "UNKNOWN";
  }
}

std::string_view StartName(DWORD start) {
  switch (start) {
    case SERVICE_BOOT_START:
      return "BOOT_START";
    case SERVICE_SYSTEM_START:
      return "SYSTEM_START";
    case SERVICE_AUTO_START:
      return "AUTO_START";
    case SERVICE_DEMAND_START:
      return "DEMAND_START";
    case SERVICE_DISABLED:
      return "DISABLED";
    default:
      return "UNKNOWN";
  }
}

// start_type, path, user_account, description of one service; NULLs where unreadable.
struct Config {
  Value start_type, path, user, description;
};

Config ReadConfig(SC_HANDLE scm, const wchar_t* name) {
  Config out;
  ScHandle svc;
  svc.h = OpenServiceW(scm, name, SERVICE_QUERY_CONFIG);
  if (svc.h == nullptr) return out;
  DWORD needed = 0;
  QueryServiceConfigW(svc.h, nullptr, 0, &needed);
  if (needed > 0 && needed < (1u << 20)) {
    std::vector<BYTE> buf(needed);
    auto* cfg = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buf.data());
    if (QueryServiceConfigW(svc.h, cfg, needed, &needed)) {
      out.start_type = Text(StartName(cfg->dwStartType));
      out.path = Text(Utf8(cfg->lpBinaryPathName));
      out.user = Text(Utf8(cfg->lpServiceStartName));
    }
  }
  needed = 0;
  QueryServiceConfig2W(svc.h, SERVICE_CONFIG_DESCRIPTION, nullptr, 0, &needed);
  if (needed > 0 && needed < (1u << 20)) {
    std::vector<BYTE> buf(needed);
    if (QueryServiceConfig2W(svc.h, SERVICE_CONFIG_DESCRIPTION, buf.data(), needed, &needed)) {
      const auto* d = reinterpret_cast<SERVICE_DESCRIPTIONW*>(buf.data());
      out.description = Text(Utf8(d->lpDescription));
    }
  }
  return out;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  ScHandle scm;
  scm.h = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ENUMERATE_SERVICE | SC_MANAGER_CONNECT);
  if (scm.h == nullptr)
    return "services: cannot open the service control manager: " + ErrorText(GetLastError());
  std::vector<BYTE> buf;
  DWORD needed = 0, count = 0, resume = 0;
  // Sized by a first call; the list can grow between calls, so a few attempts.
  for (int attempt = 0; attempt < 4; ++attempt) {
    resume = 0;
    if (EnumServicesStatusExW(scm.h, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL,
                              buf.empty() ? nullptr : buf.data(), static_cast<DWORD>(buf.size()),
                              &needed, &count, &resume, nullptr))
      break;
    const DWORD err = GetLastError();
    if (err != ERROR_MORE_DATA || needed == 0 || needed > (64u << 20))
      return "services: EnumServicesStatusEx failed: " + ErrorText(err);
    buf.assign(buf.size() + needed + 4096, 0);
    count = 0;
  }
  const auto* list = reinterpret_cast<const ENUM_SERVICE_STATUS_PROCESSW*>(buf.data());
  for (DWORD i = 0; !buf.empty() && i < count; ++i) {
    if (env.stopped()) break;
    const ENUM_SERVICE_STATUS_PROCESSW& s = list[i];
    if (s.lpServiceName == nullptr) continue;
    const Config cfg = ReadConfig(scm.h, s.lpServiceName);
    RegKey params;
    params.Open(HKEY_LOCAL_MACHINE, std::wstring(L"SYSTEM\\CurrentControlSet\\Services\\") +
                                        s.lpServiceName + L"\\Parameters");
    const SERVICE_STATUS_PROCESS& st = s.ServiceStatusProcess;
    if (!rows.Add({Text(Utf8(s.lpServiceName)), Text(TypeName(st.dwServiceType)),
                   Text(Utf8(s.lpDisplayName)), Text(StatusName(st.dwCurrentState)),
                   Value(static_cast<int64_t>(st.dwProcessId)), cfg.start_type,
                   Value(static_cast<int64_t>(st.dwWin32ExitCode)),
                   Value(static_cast<int64_t>(st.dwServiceSpecificExitCode)), cfg.path,
                   OptText(params.String(L"ServiceDll")), cfg.description, cfg.user}))
      break;
  }
  return "";
}

}  // namespace

TableDef ServicesTable() {
  using T = ColumnType;
  return TableDef{"services",
                  "Installed Windows services: configuration and current state.",
                  {{"name", T::kText},
                   {"service_type", T::kText},
                   {"display_name", T::kText},
                   {"status", T::kText},
                   {"pid", T::kInteger},
                   {"start_type", T::kText},
                   {"win32_exit_code", T::kInteger},
                   {"service_exit_code", T::kInteger},
                   {"path", T::kText},
                   {"module_path", T::kText},
                   {"description", T::kText},
                   {"user_account", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
