// Fuzzes the uptime table: /proc/uptime.
// Input parts (fuzz_input.h), in order: /proc/uptime.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{{"uptime"}, {"/proc/uptime"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
