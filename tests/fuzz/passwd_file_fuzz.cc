// Fuzzes the users, groups, shadow tables: /etc/passwd, group and shadow.
// Input parts (fuzz_input.h), in order: /etc/passwd, /etc/group, /etc/shadow.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"users", "groups", "shadow"}, {"/etc/passwd", "/etc/group", "/etc/shadow"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
