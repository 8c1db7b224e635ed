// interface_addresses: the IPv4 and IPv6 addresses of each network interface, in
// osquery's columns: interface, address, mask (dotted quad, or "ffff:ffff:ffff:ffff::"
// for IPv6), broadcast, point_to_point, type ("unknown": Linux does not say how an
// address was configured, and osquery reports "unknown" there too), friendly_name
// (Windows only, hidden, NULL). An IPv6 link-local address carries its zone, as
// getnameinfo writes it: "fe80::1%eth0".
//
// Two sources, one row format:
//  - On the live system (TableEnv::root is "/"), getifaddrs(3), as osquery does: every
//    address of every interface, with the kernel's own broadcast and peer addresses.
//  - Under any other root (a fixture tree, a host's files mounted elsewhere), files:
//    IPv6 from /proc/net/if_inet6 (complete); IPv4 from /proc/net/fib_trie, whose
//    "/32 host LOCAL" leaves are the local addresses. The kernel puts no device names
//    in fib_trie, so an address gets its prefix from the longest fib_trie prefix route
//    that contains it, and its interface from that route: a "link UNICAST" route is
//    looked up in /proc/net/route (Iface), a "host LOCAL" prefix (127.0.0.0/8) belongs
//    to the loopback device (IFF_LOOPBACK in /sys/class/net/*/flags). An IPv4 address
//    with no prefix route (noprefixroute, a /32, a point-to-point peer) cannot be tied
//    to an interface this way and is left out.
//
// broadcast and point_to_point are what osquery makes of glibc's getifaddrs, which puts
// the broadcast address, or else IFA_ADDRESS, in one field: on an IFF_BROADCAST
// interface broadcast is the broadcast address (the address itself when none is set),
// otherwise point_to_point is the peer, which is the address itself without one
// (osquery reports lo's 127.0.0.1 with point_to_point 127.0.0.1). IPv6 has neither.
// The file source takes the broadcast address from fib_trie's BROADCAST leaf and the
// flags from /sys/class/net/<name>/flags (neither column when they are missing); it
// cannot see a peer address.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

using Bytes = std::array<unsigned char, 16>;  // an IPv4 address uses the first 4

struct Address {
  std::string interface;
  int family = AF_INET;
  Bytes address{};
  Bytes mask{};
  std::optional<Bytes> broadcast;
  std::optional<Bytes> point_to_point;
};

std::string AddressText(int family, const Bytes& bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(family, bytes.data(), text, sizeof text)) return "";
  return text;
}

// fe80::/10 and ff02::/16 (link-local unicast and multicast) carry their zone.
bool LinkLocal(const Bytes& b) {
  return (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || (b[0] == 0xff && (b[1] & 0x0f) == 0x02);
}

Bytes MaskBytes(int prefix, size_t size) {
  Bytes m{};
  for (size_t i = 0; i < size && prefix > 0; ++i, prefix -= 8)
    m[i] = prefix >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - prefix));
  return m;
}

std::vector<Value> Row(const Address& a) {
  std::string address = AddressText(a.family, a.address);
  if (a.family == AF_INET6 && LinkLocal(a.address)) address += "%" + a.interface;
  auto maybe = [&](const std::optional<Bytes>& b) {
    return b ? Text(AddressText(a.family, *b)) : Value();
  };
  return {Text(a.interface),
          Text(address),
          Text(AddressText(a.family, a.mask)),
          maybe(a.broadcast),
          maybe(a.point_to_point),
          Text("unknown"),
          Value()};
}

// --- The live system: getifaddrs. ---

bool CopyAddress(const sockaddr* sa, int family, Bytes& out) {
  if (sa == nullptr || sa->sa_family != family) return false;
  out = {};
  if (family == AF_INET)
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  else
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  return true;
}

std::string LiveAddresses(std::vector<Address>& out) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::string("getifaddrs: ") + std::strerror(errno);
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_name == nullptr) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    Address a;
    a.interface = i->ifa_name;
    a.family = family;
    CopyAddress(i->ifa_addr, family, a.address);
    CopyAddress(i->ifa_netmask, family, a.mask);
    Bytes other{};  // ifa_broadaddr and ifa_dstaddr are one field (ifa_ifu)
    if (CopyAddress(i->ifa_dstaddr, family, other)) {
      if (i->ifa_flags & IFF_BROADCAST)
        a.broadcast = other;
      else
        a.point_to_point = other;
    }
    out.push_back(std::move(a));
  }
  freeifaddrs(list);
  return "";
}

// --- Any other root: /proc and /sys files. ---

// Interface flags (IFF_*) from /sys/class/net/<name>/flags ("0x1003").
std::map<std::string, int64_t> InterfaceFlags(const TableEnv& env) {
  std::map<std::string, int64_t> flags;
  std::error_code ec;
  std::filesystem::directory_iterator it(env.Path("/sys/class/net"), ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::optional<std::string> text = ReadFile(it->path() / "flags", 64);
    std::string_view v = text ? Trim(*text) : std::string_view();
    if (v.starts_with("0x")) v.remove_prefix(2);
    if (const std::optional<int64_t> f = ToInt(v, 16)) flags[it->path().filename().string()] = *f;
  }
  return flags;
}

// "0000FEA9" as /proc/net/route writes it: the address word in host order.
std::optional<uint32_t> RouteWord(std::string_view hex) {
  const std::optional<int64_t> v = hex.size() == 8 ? ToInt(hex, 16) : std::nullopt;
  if (!v) return std::nullopt;
  return ntohl(static_cast<uint32_t>(*v));
}

std::optional<uint32_t> Ipv4Word(std::string_view text) {
  in_addr a{};
  if (text.size() >= INET_ADDRSTRLEN) return std::nullopt;
  if (inet_pton(AF_INET, std::string(text).c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

uint32_t MaskWord(int prefix) { return prefix <= 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

struct Prefix {
  uint32_t network = 0;
  int length = 0;
  bool local = false;  // "host LOCAL": a loopback device's prefix
  bool operator<(const Prefix& o) const {
    return std::tie(network, length, local) < std::tie(o.network, o.length, o.local);
  }
};

struct Fib {
  std::set<uint32_t> locals;      // "/32 host LOCAL": the addresses
  std::set<uint32_t> broadcasts;  // "/32 link BROADCAST"
  std::set<Prefix> prefixes;      // shorter "link UNICAST" and "host LOCAL" routes
};

// fib_trie leaves: "|-- 10.0.2.15" followed by lines "/32 host LOCAL" (one per route).
// The Main and Local sections repeat leaves; the sets fold them.
Fib ParseFibTrie(std::string_view text) {
  Fib fib;
  std::optional<uint32_t> leaf;
  for (std::string_view line : Lines(text)) {
    const std::vector<std::string_view> f = Fields(line);
    if (f.size() == 2 && f[0] == "|--") {
      leaf = Ipv4Word(f[1]);
      continue;
    }
    if (f.size() < 3 || !f[0].starts_with("/") || !leaf) {
      if (!f.empty() && f[0] != "+--") leaf.reset();  // a section header or garbage
      continue;
    }
    const std::optional<int64_t> length = ToInt(f[0].substr(1));
    if (!length || *length < 0 || *length > 32) continue;
    const std::string_view type = f[2];
    if (*length == 32 && type == "LOCAL") {
      fib.locals.insert(*leaf);
    } else if (*length == 32 && type == "BROADCAST") {
      fib.broadcasts.insert(*leaf);
    } else if (*length < 32 && (type == "UNICAST" || type == "LOCAL") && f[1] != "universe") {
      const int len = static_cast<int>(*length);
      fib.prefixes.insert({*leaf & MaskWord(len), len, type == "LOCAL"});
    }
  }
  return fib;
}

// Link routes (no gateway) of /proc/net/route: {network, prefix} -> Iface.
std::map<std::pair<uint32_t, int>, std::string> LinkRoutes(const TableEnv& env) {
  std::map<std::pair<uint32_t, int>, std::string> routes;
  const std::optional<std::string> text = ReadFile(env.Path("/proc/net/route"));
  if (!text) return routes;
  const std::vector<std::string_view> lines = Lines(*text);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string_view> f = Fields(lines[i]);
    if (f.size() < 8) continue;
    const std::optional<uint32_t> destination = RouteWord(f[1]);
    const std::optional<uint32_t> mask = RouteWord(f[7]);
    const std::optional<int64_t> flags = ToInt(f[3], 16);
    if (!destination || !mask || !flags || (*flags & 0x2)) continue;  // RTF_GATEWAY
    routes.emplace(std::pair(*destination, std::popcount(*mask)), std::string(f[0]));
  }
  return routes;
}

Bytes Ipv4Bytes(uint32_t word) {
  Bytes b{};
  const uint32_t network = htonl(word);
  std::memcpy(b.data(), &network, 4);
  return b;
}

void FileIpv4Addresses(const TableEnv& env, const std::map<std::string, int64_t>& flags,
                       std::vector<Address>& out) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/net/fib_trie"));
  if (!text) return;
  const Fib fib = ParseFibTrie(*text);
  const auto routes = LinkRoutes(env);
  std::string loopback = "lo";
  for (const auto& [name, f] : flags)
    if (f & IFF_LOOPBACK) loopback = name;
  for (const uint32_t local : fib.locals) {
    const Prefix* best = nullptr;
    for (const Prefix& p : fib.prefixes)
      if ((local & MaskWord(p.length)) == p.network && (!best || p.length > best->length))
        best = &p;
    if (!best) continue;  // no prefix route: the interface is unknown
    std::string interface = loopback;
    if (!best->local) {
      const auto route = routes.find({best->network, best->length});
      if (route == routes.end()) continue;
      interface = route->second;
    }
    Address a;
    a.interface = interface;
    a.address = Ipv4Bytes(local);
    a.mask = MaskBytes(best->length, 4);
    // As getifaddrs fills ifa_broadaddr/ifa_dstaddr: the broadcast address when the
    // interface has one, else IFA_ADDRESS, which is the address itself without a peer.
    const uint32_t broadcast = local | ~MaskWord(best->length);
    const auto f = flags.find(interface);
    if (f != flags.end() && (f->second & IFF_BROADCAST))
      a.broadcast = Ipv4Bytes(fib.broadcasts.count(broadcast) ? broadcast : local);
    else if (f != flags.end())
      a.point_to_point = a.address;
    out.push_back(std::move(a));
  }
}

// if_inet6: address (32 hex digits), ifindex, prefix length, scope, flags (all hex), name.
void FileIpv6Addresses(const TableEnv& env, std::vector<Address>& out) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/net/if_inet6"));
  if (!text) return;
  for (std::string_view line : Lines(*text)) {
    const std::vector<std::string_view> f = Fields(line);
    if (f.size() < 6 || f[0].size() != 32) continue;
    const std::optional<int64_t> prefix = ToInt(f[2], 16);
    if (!prefix || *prefix < 0 || *prefix > 128) continue;
    Address a;
    a.family = AF_INET6;
    a.interface = std::string(f[5]);
    bool ok = true;
    for (size_t i = 0; i < 16 && ok; ++i) {
      const std::optional<int64_t> b = ToInt(f[0].substr(i * 2, 2), 16);
      ok = b.has_value();
      if (ok) a.address[i] = static_cast<unsigned char>(*b);
    }
    if (!ok) continue;
    a.mask = MaskBytes(static_cast<int>(*prefix), 16);
    out.push_back(std::move(a));
  }
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  std::vector<Address> addresses;
  if (env.root.lexically_normal() == "/") {
    if (std::string error = LiveAddresses(addresses); !error.empty()) return error;
  } else {
    FileIpv4Addresses(env, InterfaceFlags(env), addresses);
    FileIpv6Addresses(env, addresses);
  }
  for (const Address& a : addresses)
    if (!rows.Add(Row(a))) break;
  return "";
}

}  // namespace

TableDef InterfaceAddressesTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"interface_addresses",
                  "The IPv4 and IPv6 addresses of each network interface.",
                  {{"interface", T::kText},
                   {"address", T::kText},
                   {"mask", T::kText},
                   {"broadcast", T::kText},
                   {"point_to_point", T::kText},
                   {"type", T::kText},
                   {"friendly_name", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
