// Fuzzes the crontab table: /etc/crontab, /etc/cron.d and user crontabs.
// Input parts (fuzz_input.h), in order: /etc/crontab, /etc/cron.d/fuzz,
// /var/spool/cron/crontabs/root.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"crontab"}, {"/etc/crontab", "/etc/cron.d/fuzz", "/var/spool/cron/crontabs/root"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
