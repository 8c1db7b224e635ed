// Fuzzes the routes table: /proc/net/route and ipv6_route.
// Input parts (fuzz_input.h), in order: /proc/net/route, /proc/net/ipv6_route.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"routes"}, {"/proc/net/route", "/proc/net/ipv6_route"}, {}, {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
