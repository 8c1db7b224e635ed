// Fuzzes the kernel_info, os_version, system_controls tables: osrelease, /proc/version,
// /proc/cmdline, os-release, sysctl.conf. Input parts (fuzz_input.h), in order:
// /proc/sys/kernel/osrelease, /proc/version, /proc/cmdline, /etc/os-release, /etc/sysctl.conf,
// /etc/sysctl.d/99-fuzz.conf, /proc/sys/net/ipv4/ip_forward.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"kernel_info", "os_version", "system_controls"},
      {"/proc/sys/kernel/osrelease", "/proc/version", "/proc/cmdline", "/etc/os-release",
       "/etc/sysctl.conf", "/etc/sysctl.d/99-fuzz.conf", "/proc/sys/net/ipv4/ip_forward"},
      {},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
