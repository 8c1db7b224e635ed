// Fuzzes the mounts table: /proc/mounts.
// Input parts (fuzz_input.h), in order: /proc/mounts.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{{"mounts"}, {"/proc/mounts"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
