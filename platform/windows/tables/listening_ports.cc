// listening_ports: TCP sockets in the LISTEN state and bound UDP sockets, IPv4 and
// IPv6, with the owning process (GetExtendedTcpTable / GetExtendedUdpTable, the
// *_OWNER_PID tables). osquery's columns:
//
//   protocol 6 (TCP) or 17 (UDP); family 2 (AF_INET) or 10 (osquery's AF_INET6 number,
//   the Linux one, so that queries are portable; Windows' own is 23)
//   address  the local address ("0.0.0.0", "::"); port the local port
//   fd, socket  -1 (Windows does not expose them), path "" as osquery
// winsock2.h before anything that includes <windows.h>.
#include <winsock2.h>

#include <iphlpapi.h>
#include <ws2tcpip.h>

#include <algorithm>

#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr int64_t kFamilyInet = 2, kFamilyInet6 = 10;

// Calls `get(buffer, &size)` until the buffer is big enough; "" or an error.
template <typename Get>
std::string Fetch(std::vector<unsigned char>& buf, const char* what, Get get) {
  DWORD size = 0;
  DWORD rc = get(nullptr, &size);
  for (int attempt = 0; attempt < 4 && rc == ERROR_INSUFFICIENT_BUFFER; ++attempt) {
    if (size == 0 || size > (64u << 20)) break;
    buf.assign(size + 4096, 0);
    size = static_cast<DWORD>(buf.size());
    rc = get(buf.data(), &size);
  }
  if (rc == NO_ERROR) return "";
  return std::string("listening_ports: ") + what + " failed: " + ErrorText(rc);
}

// dwNumEntries, bounded by what the buffer holds (the rows follow one DWORD).
DWORD Count(const std::vector<unsigned char>& buf, DWORD entries, size_t row_size) {
  if (buf.size() < sizeof(DWORD)) return 0;
  return static_cast<DWORD>(std::min<size_t>(entries, (buf.size() - sizeof(DWORD)) / row_size));
}

std::string Ntop(int family, const void* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, const_cast<void*>(addr), text, sizeof text) == nullptr) return "";
  return text;
}

int64_t Port(DWORD network_order) {
  return static_cast<int64_t>(ntohs(static_cast<u_short>(network_order & 0xffff)));
}

std::vector<Value> Row(DWORD pid, int64_t port, int64_t protocol, int64_t family,
                       const std::string& address) {
  return {Value(static_cast<int64_t>(pid)),
          Value(port),
          Value(protocol),
          Value(family),
          Text(address),
          Value(int64_t{-1}),
          Value(int64_t{-1}),
          Text("")};
}

std::string Generate(const TableEnv&, const TableQuery&, RowSink& rows) {
  std::vector<unsigned char> buf;
  // TCP, IPv4 then IPv6.
  std::string err = Fetch(buf, "GetExtendedTcpTable(IPv4)", [](void* b, DWORD* s) {
    return GetExtendedTcpTable(b, s, FALSE, AF_INET, TCP_TABLE_OWNER_PID_LISTENER, 0);
  });
  if (!err.empty()) return err;
  if (!buf.empty()) {
    const auto* t = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(buf.data());
    for (DWORD i = 0; i < Count(buf, t->dwNumEntries, sizeof t->table[0]); ++i) {
      const MIB_TCPROW_OWNER_PID& r = t->table[i];
      if (!rows.Add(Row(r.dwOwningPid, Port(r.dwLocalPort), 6, kFamilyInet,
                        Ntop(AF_INET, &r.dwLocalAddr))))
        return "";
    }
  }
  buf.clear();
  err = Fetch(buf, "GetExtendedTcpTable(IPv6)", [](void* b, DWORD* s) {
    return GetExtendedTcpTable(b, s, FALSE, AF_INET6, TCP_TABLE_OWNER_PID_LISTENER, 0);
  });
  if (!err.empty()) return err;
  if (!buf.empty()) {
    const auto* t = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(buf.data());
    for (DWORD i = 0; i < Count(buf, t->dwNumEntries, sizeof t->table[0]); ++i) {
      const MIB_TCP6ROW_OWNER_PID& r = t->table[i];
      if (!rows.Add(Row(r.dwOwningPid, Port(r.dwLocalPort), 6, kFamilyInet6,
                        Ntop(AF_INET6, r.ucLocalAddr))))
        return "";
    }
  }
  // UDP, IPv4 then IPv6.
  buf.clear();
  err = Fetch(buf, "GetExtendedUdpTable(IPv4)", [](void* b, DWORD* s) {
    return GetExtendedUdpTable(b, s, FALSE, AF_INET, UDP_TABLE_OWNER_PID, 0);
  });
  if (!err.empty()) return err;
  if (!buf.empty()) {
    const auto* t = reinterpret_cast<const MIB_UDPTABLE_OWNER_PID*>(buf.data());
    for (DWORD i = 0; i < Count(buf, t->dwNumEntries, sizeof t->table[0]); ++i) {
      const MIB_UDPROW_OWNER_PID& r = t->table[i];
      if (!rows.Add(Row(r.dwOwningPid, Port(r.dwLocalPort), 17, kFamilyInet,
                        Ntop(AF_INET, &r.dwLocalAddr))))
        return "";
    }
  }
  buf.clear();
  err = Fetch(buf, "GetExtendedUdpTable(IPv6)", [](void* b, DWORD* s) {
    return GetExtendedUdpTable(b, s, FALSE, AF_INET6, UDP_TABLE_OWNER_PID, 0);
  });
  if (!err.empty()) return err;
  if (!buf.empty()) {
    const auto* t = reinterpret_cast<const MIB_UDP6TABLE_OWNER_PID*>(buf.data());
    for (DWORD i = 0; i < Count(buf, t->dwNumEntries, sizeof t->table[0]); ++i) {
      const MIB_UDP6ROW_OWNER_PID& r = t->table[i];
      if (!rows.Add(Row(r.dwOwningPid, Port(r.dwLocalPort), 17, kFamilyInet6,
                        Ntop(AF_INET6, r.ucLocalAddr))))
        return "";
    }
  }
  return "";
}

}  // namespace

TableDef ListeningPortsTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"listening_ports",
                  "Listening TCP and bound UDP sockets with their process.",
                  {{"pid", T::kInteger},
                   {"port", T::kInteger},
                   {"protocol", T::kInteger},
                   {"family", T::kInteger},
                   {"address", T::kText},
                   {"fd", T::kBigInt},
                   {"socket", T::kBigInt},
                   {"path", T::kText},
                   {"net_namespace", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
