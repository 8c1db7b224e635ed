// Fuzzes the deb_packages table: dpkg's status file.
// Input parts (fuzz_input.h), in order: /var/lib/dpkg/status.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"deb_packages"}, {"/var/lib/dpkg/status"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
