// Fuzzes the firewall table: nftables.conf and iptables-save files.
// Input parts (fuzz_input.h), in order: /etc/nftables.conf, /etc/iptables/rules.v4,
// /etc/iptables/rules.v6, /etc/sysconfig/iptables, /etc/sysconfig/ip6tables.
#include "fuzz/table_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::fuzz::TableFuzzSpec spec{
      {"firewall"},
      {"/etc/nftables.conf", "/etc/iptables/rules.v4", "/etc/iptables/rules.v6",
       "/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables"},
      {},
      {}};
  return outpost::fuzz::FuzzTables(spec, data, size);
}
