// interface_addresses: the unicast IPv4 and IPv6 addresses of each network adapter
// (GetAdaptersAddresses). osquery's columns, its Windows spellings:
//
//   interface      the adapter's interface index ("12"); friendly_name its name in the
//                  Control Panel ("Ethernet")
//   address, mask  the address and its on-link prefix as a mask ("255.255.255.0";
//                  for IPv6 the expanded mask "ffff:ffff:ffff:ffff::")
//   broadcast      IPv4 only: address | ~mask; point_to_point NULL
//   type           from the address's prefix origin: "dhcp", "manual", "auto" (router
//                  advertisement, well-known such as loopback), "other", "unknown"
// winsock2.h before anything that includes <windows.h>.
#include <winsock2.h>

#include <iphlpapi.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <cstring>

#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

std::string AddressText(const SOCKADDR* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) == nullptr) return "";
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf) == nullptr) return "";
  } else {
    return "";
  }
  return buf;
}

// The mask of a prefix length as text; `bytes` 4 or 16.
std::string MaskText(int family, unsigned prefix, unsigned char* mask, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned bits = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
    mask[i] = static_cast<unsigned char>(bits == 0 ? 0 : (0xff00u >> bits) & 0xff);
  }
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, mask, buf, sizeof buf) == nullptr) return "";
  return buf;
}

std::string_view Origin(NL_PREFIX_ORIGIN prefix, NL_SUFFIX_ORIGIN suffix) {
  if (prefix == IpPrefixOriginDhcp || suffix == IpSuffixOriginDhcp) return "dhcp";
  if (prefix == IpPrefixOriginManual) return "manual";
  if (prefix == IpPrefixOriginRouterAdvertisement || prefix == IpPrefixOriginWellKnown)
    return "auto";
  if (prefix == IpPrefixOriginOther) return "other";
  return "unknown";
}

std::string Generate(const TableEnv&, const TableQuery&, RowSink& rows) {
  const ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
  std::vector<unsigned char> buf(16 << 10);
  ULONG size = static_cast<ULONG>(buf.size());
  ULONG rc = ERROR_BUFFER_OVERFLOW;
  for (int attempt = 0; attempt < 4 && rc == ERROR_BUFFER_OVERFLOW; ++attempt) {
    rc = GetAdaptersAddresses(AF_UNSPEC, flags, nullptr,
                              reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()), &size);
    if (rc == ERROR_BUFFER_OVERFLOW) {
      if (size > (16u << 20)) break;
      buf.assign(size + 4096, 0);
      size = static_cast<ULONG>(buf.size());
    }
  }
  if (rc == ERROR_NO_DATA) return "";
  if (rc != NO_ERROR) return "interface_addresses: GetAdaptersAddresses failed: " + ErrorText(rc);
  for (auto* a = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()); a != nullptr; a = a->Next) {
    const std::string index = std::to_string(a->IfIndex != 0 ? a->IfIndex : a->Ipv6IfIndex);
    const std::string friendly = Utf8(a->FriendlyName);
    for (IP_ADAPTER_UNICAST_ADDRESS* u = a->FirstUnicastAddress; u != nullptr; u = u->Next) {
      const SOCKADDR* sa = u->Address.lpSockaddr;
      if (sa == nullptr) continue;
      const std::string address = AddressText(sa);
      if (address.empty()) continue;
      Value mask, broadcast;
      if (sa->sa_family == AF_INET) {
        const unsigned prefix = std::min<unsigned>(u->OnLinkPrefixLength, 32);
        unsigned char m[4];
        mask = Text(MaskText(AF_INET, prefix, m, 4));
        unsigned char b[4];
        std::memcpy(b, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
        for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(b[i] | ~m[i]);
        char text[INET_ADDRSTRLEN] = {};
        if (prefix < 32 && inet_ntop(AF_INET, b, text, sizeof text) != nullptr)
          broadcast = Text(text);
      } else {
        unsigned char m[16];
        mask = Text(MaskText(AF_INET6, std::min<unsigned>(u->OnLinkPrefixLength, 128), m, 16));
      }
      if (!rows.Add({Text(index), Text(address), mask, broadcast, Value(),
                     Text(Origin(u->PrefixOrigin, u->SuffixOrigin)), Text(friendly)}))
        return "";
    }
  }
  return "";
}

}  // namespace

TableDef InterfaceAddressesTable() {
  using T = ColumnType;
  return TableDef{"interface_addresses",
                  "IP addresses of each network interface (GetAdaptersAddresses).",
                  {{"interface", T::kText},
                   {"address", T::kText},
                   {"mask", T::kText},
                   {"broadcast", T::kText},
                   {"point_to_point", T::kText},
                   {"type", T::kText},
                   {"friendly_name", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
