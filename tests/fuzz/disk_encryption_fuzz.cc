// Fuzzes the disk_encryption table: dm-crypt uuids and names in /sys/block.
// Input parts (fuzz_input.h), in order: /sys/block/dm-0/dm/uuid, /sys/block/dm-1/dm/uuid,
// /sys/block/dm-0/dm/name.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"disk_encryption"},
      {"/sys/block/dm-0/dm/uuid", "/sys/block/dm-1/dm/uuid", "/sys/block/dm-0/dm/name"},
      {{"/sys/block/sda/sda2/holders/dm-0", "../../../dm-0"},
       {"/sys/block/dm-0/slaves/sda2", "../../sda/sda2"},
       {"/sys/block/dm-1/slaves/dm-0", "../../dm-0"},
       {"/sys/block/dm-0/holders/dm-1", "../../dm-1"}},
      {"/sys/block/sda/sda2/"}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
