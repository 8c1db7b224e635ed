// Fuzzes the authorized_keys table: /etc/passwd and the users' authorized_keys files.
// Input parts (fuzz_input.h), in order: /etc/passwd, /root/.ssh/authorized_keys,
// /home/user/.ssh/authorized_keys2.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"authorized_keys"},
      {"/etc/passwd", "/root/.ssh/authorized_keys", "/home/user/.ssh/authorized_keys2"},
      {},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
