// Fuzzes the logged_in_users table: utmp records.
// Input parts (fuzz_input.h), in order: /var/run/utmp.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{{"logged_in_users"}, {"/var/run/utmp"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
