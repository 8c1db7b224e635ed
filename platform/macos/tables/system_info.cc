// system_info (macOS): the host's identity and hardware, one row:
//   hostname                   sysctl kern.hostname
//   uuid                       gethostuuid(): the hardware UUID (IOPlatformUUID)
//   cpu_type                   uname()'s machine: arm64, x86_64
//   cpu_brand                  sysctl machdep.cpu.brand_string ("Apple M2 Pro")
//   cpu_physical_cores,        sysctl hw.physicalcpu, hw.logicalcpu, hw.packages
//   cpu_logical_cores, cpu_sockets
//   cpu_microcode              sysctl machdep.cpu.microcode_version (Intel only)
//   physical_memory            sysctl hw.memsize, bytes
//   hardware_vendor, _model    "Apple Inc.", sysctl hw.model ("Mac14,10")
//   computer_name,             System > System > ComputerName and System > Network >
//   local_hostname             HostNames > LocalHostName of
//                              /Library/Preferences/SystemConfiguration/preferences.plist
//                              under the root (what `scutil --get` shows); else hostname
// The serial number and board columns need IOKit, which outpost does not link: NULL.
// sysctl and gethostuuid describe the running machine, not the table's root.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include <unistd.h>
#include <uuid/uuid.h>

#include <cstdio>
#include <ctime>

#include "macos/tables/mac_util.h"
#include "macos/tables/tables.h"

namespace outpost::platform::macos_tables {
namespace {

std::optional<std::string> HardwareUuid() {
  uuid_t id = {};
  const struct timespec wait = {1, 0};
  if (gethostuuid(id, &wait) != 0) return std::nullopt;
  uuid_string_t text = {};
  uuid_unparse_upper(id, text);
  return std::string(text);
}

// "0xf4", as /proc/cpuinfo and osquery show microcode versions.
std::optional<std::string> Hex(std::optional<int64_t> v) {
  if (!v) return std::nullopt;
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(*v));
  return std::string(hex);
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const std::optional<std::string> hostname = SysctlString("kern.hostname");
  std::optional<std::string> computer_name, local_hostname;
  if (const std::optional<plist::Value> prefs =
          ReadPlist(env.Path("/Library/Preferences/SystemConfiguration/preferences.plist"))) {
    if (const plist::Value* system = prefs->Find("System")) {
      if (const plist::Value* s = system->Find("System")) computer_name = s->Text("ComputerName");
      if (const plist::Value* net = system->Find("Network"))
        if (const plist::Value* names = net->Find("HostNames"))
          local_hostname = names->Text("LocalHostName");
    }
  }
  if (!computer_name || computer_name->empty()) computer_name = hostname;
  if (!local_hostname || local_hostname->empty()) local_hostname = hostname;

  const std::optional<int64_t> logical = SysctlInt("hw.logicalcpu");
  const std::optional<int64_t> physical = SysctlInt("hw.physicalcpu");
  rows.Add({NonEmpty(hostname),
            NonEmpty(HardwareUuid()),
            Text(MachineName()),
            Value(),
            NonEmpty(SysctlString("machdep.cpu.brand_string")),
            Value(physical.value_or(-1)),
            Value(logical.value_or(-1)),
            Int(SysctlInt("hw.packages")),
            NonEmpty(Hex(SysctlInt("machdep.cpu.microcode_version"))),
            Int(SysctlInt("hw.memsize")),
            Text("Apple Inc."),
            NonEmpty(SysctlString("hw.model")),
            Value(),
            Value(),
            Value(),
            Value(),
            Value(),
            Value(),
            NonEmpty(computer_name),
            NonEmpty(local_hostname),
            Value()});
  return "";
}

}  // namespace

TableDef SystemInfoTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"system_info",
                  "Host name, UUID, CPU, memory and hardware model (one row).",
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

}  // namespace outpost::platform::macos_tables
