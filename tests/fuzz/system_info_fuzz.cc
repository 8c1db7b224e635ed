// Fuzzes the system_info table: /proc/cpuinfo, meminfo, the host name and DMI ids.
// Input parts (fuzz_input.h), in order: /proc/cpuinfo, /proc/meminfo, /proc/sys/kernel/hostname,
// /sys/class/dmi/id/product_uuid, /sys/class/dmi/id/sys_vendor, /sys/class/dmi/id/product_name.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"system_info"},
      {"/proc/cpuinfo", "/proc/meminfo", "/proc/sys/kernel/hostname",
       "/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/sys_vendor",
       "/sys/class/dmi/id/product_name"},
      {},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
