// system_info: the host's identity and hardware, one row, from files under the root:
//   hostname, computer_name,    /proc/sys/kernel/hostname (else /etc/hostname); outpost
//   local_hostname             does no DNS, so hostname is not made fully qualified
//   uuid                       /sys/class/dmi/id/product_uuid, upper case as osquery
//                              prints it from SMBIOS (NULL without it: root-only file)
//   cpu_*                      /proc/cpuinfo: brand "model name", subtype "model",
//                              microcode; logical cores = processor entries, physical
//                              cores = distinct (physical id, core id) pairs (else the
//                              logical count), sockets = distinct physical ids (else
//                              logical / siblings)
//   cpu_type                   the architecture outpost was built for (uname -m)
//   physical_memory            MemTotal of /proc/meminfo, in bytes
//   hardware_*, board_*        /sys/class/dmi/id/{sys_vendor,product_name,...}; for
//                              Lenovo the model is in product_version, so the two are
//                              swapped, as osquery does
// A missing source leaves its columns NULL (cpu counts -1, as osquery does).
#include <algorithm>
#include <cctype>
#include <set>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"
#include "outpost/platform/system.h"

namespace outpost::platform::linux_tables {
namespace {

struct CpuInfo {
  std::string brand, subtype, microcode;
  int64_t logical = 0;
  std::optional<int64_t> siblings;
  std::set<std::string> sockets;
  std::set<std::pair<std::string, std::string>> cores;
};

CpuInfo ParseCpuInfo(std::string_view text) {
  CpuInfo cpu;
  std::string physical_id;
  for (const std::string_view line : Lines(text)) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (key == "processor") {
      ++cpu.logical;
      physical_id.clear();
    } else if (key == "model name" && cpu.brand.empty()) {
      cpu.brand = value;
    } else if (key == "model" && cpu.subtype.empty()) {
      cpu.subtype = value;
    } else if (key == "microcode" && cpu.microcode.empty()) {
      cpu.microcode = value;
    } else if (key == "siblings" && !cpu.siblings) {
      cpu.siblings = ToInt(value);
    } else if (key == "physical id") {
      physical_id = value;
      cpu.sockets.insert(physical_id);
    } else if (key == "core id") {
      cpu.cores.emplace(physical_id, value);
    }
  }
  return cpu;
}

std::string ReadTrimmed(const TableEnv& env, const char* path) {
  const std::optional<std::string> text = ReadFile(env.Path(path), 4096);
  return text ? std::string(Trim(*text)) : std::string();
}

Value NonEmpty(const std::string& s) { return s.empty() ? Value() : Text(s); }

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  std::string hostname = ReadTrimmed(env, "/proc/sys/kernel/hostname");
  if (hostname.empty()) hostname = ReadTrimmed(env, "/etc/hostname");
  std::string uuid = ReadTrimmed(env, "/sys/class/dmi/id/product_uuid");
  std::transform(uuid.begin(), uuid.end(), uuid.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });

  Value brand, subtype, microcode, logical = int64_t{-1}, physical = int64_t{-1}, sockets;
  if (const std::optional<std::string> text = ReadFile(env.Path("/proc/cpuinfo"))) {
    const CpuInfo cpu = ParseCpuInfo(*text);
    brand = NonEmpty(cpu.brand);
    subtype = NonEmpty(cpu.subtype);
    microcode = NonEmpty(cpu.microcode);
    if (cpu.logical > 0) {
      logical = cpu.logical;
      physical = cpu.cores.empty() ? cpu.logical : static_cast<int64_t>(cpu.cores.size());
      if (!cpu.sockets.empty())
        sockets = static_cast<int64_t>(cpu.sockets.size());
      else if (cpu.siblings && *cpu.siblings > 0)
        sockets = std::max<int64_t>(1, cpu.logical / *cpu.siblings);
    }
  }

  Value memory;
  if (const std::optional<std::string> text = ReadFile(env.Path("/proc/meminfo"), 64 << 10)) {
    for (const std::string_view line : Lines(*text)) {
      const std::vector<std::string_view> f = Fields(line, " \t");
      if (f.size() >= 2 && f[0] == "MemTotal:") {
        const std::optional<int64_t> kb = ToInt(f[1]);
        if (const std::optional<int64_t> bytes = MulChecked(kb, 1024); bytes && *bytes >= 0)
          memory = *bytes;
        break;
      }
    }
  }

  std::string vendor = ReadTrimmed(env, "/sys/class/dmi/id/sys_vendor");
  std::string model = ReadTrimmed(env, "/sys/class/dmi/id/product_name");
  std::string version = ReadTrimmed(env, "/sys/class/dmi/id/product_version");
  std::string lower = vendor;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "lenovo") std::swap(model, version);

  rows.Add({NonEmpty(hostname),
            NonEmpty(uuid),
            Text(ArchName()),
            subtype,
            brand,
            physical,
            logical,
            sockets,
            microcode,
            memory,
            NonEmpty(vendor),
            NonEmpty(model),
            NonEmpty(version),
            NonEmpty(ReadTrimmed(env, "/sys/class/dmi/id/product_serial")),
            NonEmpty(ReadTrimmed(env, "/sys/class/dmi/id/board_vendor")),
            NonEmpty(ReadTrimmed(env, "/sys/class/dmi/id/board_name")),
            NonEmpty(ReadTrimmed(env, "/sys/class/dmi/id/board_version")),
            NonEmpty(ReadTrimmed(env, "/sys/class/dmi/id/board_serial")),
            NonEmpty(hostname),
            NonEmpty(hostname),
            Value()});
  return "";
}

}  // namespace

TableDef SystemInfoTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"system_info",
                  "Host name, UUID, CPU, memory and hardware vendor (one row).",
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
                   {"emulated_cpu_type", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
