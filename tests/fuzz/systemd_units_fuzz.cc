// Fuzzes the systemd_units table: unit files, with enabled, alias and masked links.
// Input parts (fuzz_input.h), in order: /lib/systemd/system/fuzz.service,
// /etc/systemd/system/local.service, /usr/lib/systemd/system/fuzz.timer.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"systemd_units"},
      {"/lib/systemd/system/fuzz.service", "/etc/systemd/system/local.service",
       "/usr/lib/systemd/system/fuzz.timer"},
      {{"/etc/systemd/system/multi-user.target.wants/fuzz.service",
        "/lib/systemd/system/fuzz.service"},
       {"/etc/systemd/system/alias.service", "/lib/systemd/system/fuzz.service"},
       {"/etc/systemd/system/masked.service", "/dev/null"}},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
