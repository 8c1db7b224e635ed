// routes: the kernel's IPv4 routes from /proc/net/route (the main table) and IPv6
// routes from /proc/net/ipv6_route. osquery's columns: netmask is a prefix length.
//
// Deviations from osquery, which asks netlink for every table: IPv4 local and broadcast
// routes (the local table) are not in /proc/net/route, so IPv4 rows are all type
// "gateway" (osquery's name for a unicast route); IPv6 rows with RTF_LOCAL are "local".
// flags are the /proc RTF_* flags (osquery: netlink rtm_flags). source (the preferred
// source address) is not in /proc and is NULL; mtu is /proc/net/route's MTU column
// (0 when unset) and NULL for IPv6; hopcount is NULL.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <bit>
#include <cstring>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr int64_t kRtfLocal = 0x80000000;

// /proc/net/route: 8 hex digits, the address as a host-order word.
std::optional<std::string> Ipv4(std::string_view hex, uint32_t* raw = nullptr) {
  const std::optional<int64_t> v = hex.size() == 8 ? ToInt(hex, 16) : std::nullopt;
  if (!v) return std::nullopt;
  const uint32_t word = static_cast<uint32_t>(*v);
  if (raw) *raw = word;
  char text[INET_ADDRSTRLEN];
  if (!inet_ntop(AF_INET, &word, text, sizeof text)) return std::nullopt;
  return std::string(text);
}

// /proc/net/ipv6_route: 32 hex digits, the address bytes in network order.
std::optional<std::string> Ipv6(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  unsigned char bytes[16];
  for (size_t i = 0; i < 16; ++i) {
    const std::optional<int64_t> b = ToInt(hex.substr(i * 2, 2), 16);
    if (!b) return std::nullopt;
    bytes[i] = static_cast<unsigned char>(*b);
  }
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, bytes, text, sizeof text)) return std::nullopt;
  return std::string(text);
}

std::vector<Value> Row(const std::string& destination, int64_t netmask, const std::string& gateway,
                       int64_t flags, std::string_view interface, std::optional<int64_t> mtu,
                       int64_t metric, std::string_view type) {
  return {Text(destination), Value(netmask), Text(gateway), Value(),   Value(flags),
          Text(interface),   Int(mtu),       Value(metric), Text(type)};
}

// Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
bool Ipv4Routes(const TableEnv& env, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/net/route"));
  if (!text) return true;
  const std::vector<std::string_view> lines = Lines(*text);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string_view> f = Fields(lines[i]);
    if (f.size() < 9) continue;
    uint32_t mask = 0;
    const std::optional<std::string> destination = Ipv4(f[1]);
    const std::optional<std::string> gateway = Ipv4(f[2]);
    const std::optional<int64_t> flags = ToInt(f[3], 16);
    const std::optional<int64_t> metric = ToInt(f[6]);
    const std::optional<std::string> mask_text = Ipv4(f[7], &mask);
    const std::optional<int64_t> mtu = ToInt(f[8]);
    if (!destination || !gateway || !flags || !metric || !mask_text) continue;
    if (!rows.Add(Row(*destination, std::popcount(mask), *gateway, *flags, f[0], mtu, *metric,
                      "gateway")))
      return false;
  }
  return true;
}

// dest dest_len src src_len next_hop metric refcnt use flags iface (no header)
void Ipv6Routes(const TableEnv& env, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/net/ipv6_route"));
  if (!text) return;
  for (std::string_view line : Lines(*text)) {
    const std::vector<std::string_view> f = Fields(line);
    if (f.size() < 10) continue;
    const std::optional<std::string> destination = Ipv6(f[0]);
    const std::optional<int64_t> prefix = ToInt(f[1], 16);
    const std::optional<std::string> gateway = Ipv6(f[4]);
    const std::optional<int64_t> metric = ToInt(f[5], 16);
    const std::optional<int64_t> flags = ToInt(f[8], 16);
    if (!destination || !prefix || !gateway || !metric || !flags) continue;
    if (!rows.Add(Row(*destination, *prefix, *gateway, *flags, f[9], std::nullopt, *metric,
                      (*flags & kRtfLocal) ? "local" : "gateway")))
      return;
  }
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  if (Ipv4Routes(env, rows)) Ipv6Routes(env, rows);
  return "";
}

}  // namespace

TableDef RoutesTable() {
  using T = ColumnType;
  return TableDef{"routes",
                  "The kernel's IPv4 (main table) and IPv6 routes.",
                  {{"destination", T::kText},
                   {"netmask", T::kInteger},
                   {"gateway", T::kText},
                   {"source", T::kText},
                   {"flags", T::kInteger},
                   {"interface", T::kText},
                   {"mtu", T::kInteger},
                   {"metric", T::kInteger},
                   {"type", T::kText},
                   {"hopcount", T::kInteger}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
