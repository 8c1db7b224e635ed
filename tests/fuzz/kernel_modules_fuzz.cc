// Fuzzes the kernel_modules table: /proc/modules.
// Input parts (fuzz_input.h), in order: /proc/modules.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{{"kernel_modules"}, {"/proc/modules"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
