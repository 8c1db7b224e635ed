// Fuzzes the processes table: /proc/<pid>/stat, status, cmdline, io, cgroup and /proc/stat.
// Input parts (fuzz_input.h), in order: /proc/1/stat, /proc/1/status, /proc/1/cmdline, /proc/1/io,
// /proc/1/cgroup, /proc/stat.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"processes"},
      {"/proc/1/stat", "/proc/1/status", "/proc/1/cmdline", "/proc/1/io", "/proc/1/cgroup",
       "/proc/stat"},
      {{"/proc/1/exe", "/usr/bin/fuzz"}, {"/proc/1/cwd", "/"}, {"/proc/1/root", "/"}},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
