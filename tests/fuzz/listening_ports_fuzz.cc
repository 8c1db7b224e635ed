// Fuzzes the listening_ports table: /proc/net/tcp, tcp6, udp, udp6 and unix.
// Input parts (fuzz_input.h), in order: /proc/net/tcp, /proc/net/tcp6, /proc/net/udp,
// /proc/net/udp6, /proc/net/unix.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"listening_ports"},
      {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6", "/proc/net/unix"},
      {{"/proc/1/fd/3", "socket:[12345]"},
       {"/proc/1/fd/4", "socket:[1]"},
       {"/proc/1/ns/net", "net:[4026531840]"}},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
