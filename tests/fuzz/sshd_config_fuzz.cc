// Fuzzes the sshd_config table: /etc/ssh/sshd_config and the files it includes.
// Input parts (fuzz_input.h), in order: /etc/ssh/sshd_config, /etc/ssh/sshd_config.d/10-fuzz.conf,
// /etc/ssh/fuzz.conf.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"sshd_config"},
      {"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/10-fuzz.conf", "/etc/ssh/fuzz.conf"},
      {{"/etc/ssh/sshd_config.d/20-link.conf", "../fuzz.conf"}},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
