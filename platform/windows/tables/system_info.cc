// system_info: host identity and hardware, one row. osquery's columns.
//
//   hostname, local_hostname  the DNS host name (GetComputerNameEx); computer_name
//                             the NetBIOS name
//   cpu_brand                 ProcessorNameString of the key
//                             HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0;
//                             cpu_type the architecture name
//   cpu_logical_cores, cpu_physical_cores, cpu_sockets
//                             GetLogicalProcessorInformation (processor cores and
//                             packages); NULL when it fails
//   physical_memory           GlobalMemoryStatusEx, bytes
//   hardware_* / board_*      the SMBIOS strings Windows copies to the key
//                             HKLM\HARDWARE\DESCRIPTION\System\BIOS (no serial numbers there: those
//                             columns, the SMBIOS uuid and the microcode revision are NULL; osquery
//                             reads them through WMI, which outpost does not use)
#include <vector>

#include "outpost/platform/system.h"
#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

std::optional<std::string> ComputerName(COMPUTER_NAME_FORMAT format) {
  DWORD len = 0;
  GetComputerNameExW(format, nullptr, &len);
  if (len == 0 || len > 4096) return std::nullopt;
  std::wstring buf(len, L'\0');
  if (!GetComputerNameExW(format, buf.data(), &len)) return std::nullopt;
  buf.resize(len);
  return Utf8(buf);
}

struct CpuCounts {
  std::optional<int64_t> cores, packages;
};

CpuCounts CountCpus() {
  CpuCounts out;
  DWORD bytes = 0;
  GetLogicalProcessorInformation(nullptr, &bytes);
  if (bytes == 0 || bytes > (1u << 20)) return out;
  std::vector<SYSTEM_LOGICAL_PROCESSOR_INFORMATION> info(
      bytes / sizeof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION) + 1);
  if (!GetLogicalProcessorInformation(info.data(), &bytes)) return out;
  int64_t cores = 0, packages = 0;
  for (size_t i = 0; i < bytes / sizeof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION); ++i) {
    if (info[i].Relationship == RelationProcessorCore) ++cores;
    if (info[i].Relationship == RelationProcessorPackage) ++packages;
  }
  if (cores > 0) out.cores = cores;
  if (packages > 0) out.packages = packages;
  return out;
}

std::optional<std::string> Trimmed(std::optional<std::string> s) {
  if (!s) return s;
  const size_t a = s->find_first_not_of(' ');
  if (a == std::string::npos) return std::string();
  const size_t b = s->find_last_not_of(' ');
  return s->substr(a, b - a + 1);
}

std::string Generate(const TableEnv&, const TableQuery&, RowSink& rows) {
  SYSTEM_INFO si{};
  GetNativeSystemInfo(&si);
  MEMORYSTATUSEX mem{};
  mem.dwLength = sizeof mem;
  const Value memory =
      GlobalMemoryStatusEx(&mem) ? Value(static_cast<int64_t>(mem.ullTotalPhys)) : Value();
  RegKey cpu, bios;
  cpu.Open(HKEY_LOCAL_MACHINE, L"HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0");
  bios.Open(HKEY_LOCAL_MACHINE, L"HARDWARE\\DESCRIPTION\\System\\BIOS");
  const CpuCounts counts = CountCpus();
  const std::optional<std::string> dns = ComputerName(ComputerNameDnsHostname);
  rows.Add({OptText(dns),
            Value(),
            Text(ArchName()),
            Value(),
            OptText(Trimmed(cpu.String(L"ProcessorNameString"))),
            Int(counts.cores),
            Value(static_cast<int64_t>(si.dwNumberOfProcessors)),
            Int(counts.packages),
            Value(),
            memory,
            OptText(bios.String(L"SystemManufacturer")),
            OptText(bios.String(L"SystemProductName")),
            OptText(bios.String(L"SystemVersion")),
            Value(),
            OptText(bios.String(L"BaseBoardManufacturer")),
            OptText(bios.String(L"BaseBoardProduct")),
            OptText(bios.String(L"BaseBoardVersion")),
            Value(),
            OptText(ComputerName(ComputerNameNetBIOS)),
            OptText(dns),
            Value()});
  return "";
}

}  // namespace

TableDef SystemInfoTable() {
  using T = ColumnType;
  return TableDef{"system_info",
                  "Host name, CPU, memory and hardware vendor/model (one row).",
                  {{"hostname", T::kText},
                   {"uuid", T::kText},
                   {"cpu_type", T::kText},
                   {"cpu_subtype", T::kText},
                   {"cpu_brand", T::kText},
                   {"cpu_physical_cores", T::kInteger},
                   {"cpu_logical_cores", T::kInteger},
                   {"cpu_sockets", T::kInteger},
                   {"cpu_microcode", T::kText},
                   {"physical_memory", T::kBigInt},
                   {"hardware_vendor", T::kText},
                   {"hardware_model", T::kText},
                   {"hardware_version", T::kText},
                   {"hardware_serial", T::kText},
                   {"board_vendor", T::kText},
                   {"board_model", T::kText},
                   {"board_version", T::kText},
                   {"board_serial", T::kText},
                   {"computer_name", T::kText},
                   {"local_hostname", T::kText},
                   {"emulated_cpu_type", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
