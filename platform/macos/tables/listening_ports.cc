// listening_ports (macOS): sockets waiting for peers, from every process's descriptors
// (proc_pidinfo PROC_PIDLISTFDS, then proc_pidfdinfo PROC_PIDFDSOCKETINFO for each
// socket). Which sockets, as on Linux: TCP in state LISTEN; UDP bound to a port with no
// remote peer; unix sockets with a path that accept connections (SO_ACCEPTCONN), and
// bound unix datagram sockets.
//
// osquery's columns and numbers: protocol 6 (TCP), 17 (UDP), 0 (unix); family is the
// OS's address family: 2 (IPv4), 30 (AF_INET6 on macOS), 1 (unix). A socket shared by
// several processes (inherited across fork) is listed once per process. The socket
// column is NULL (macOS has no socket inode to show) and net_namespace is Linux only.
// Without root, other users' processes are not visible and their sockets not listed.
// The sockets are those of the running system: the table's root does not apply.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include <arpa/inet.h>
#include <libproc.h>
#include <netinet/in.h>
#include <sys/proc_info.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "macos/tables/mac_util.h"
#include "macos/tables/tables.h"

namespace outpost::platform::macos_tables {
namespace {

std::vector<pid_t> Pids() {
  std::vector<pid_t> out;
  const int bytes = proc_listpids(PROC_ALL_PIDS, 0, nullptr, 0);
  if (bytes <= 0) return out;
  out.resize(static_cast<size_t>(bytes) / sizeof(pid_t) + 64);
  const int got =
      proc_listpids(PROC_ALL_PIDS, 0, out.data(), static_cast<int>(out.size() * sizeof(pid_t)));
  out.resize(got > 0 ? std::min(out.size(), static_cast<size_t>(got) / sizeof(pid_t)) : 0);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<proc_fdinfo> Descriptors(pid_t pid) {
  std::vector<proc_fdinfo> fds;
  const int bytes = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, nullptr, 0);
  if (bytes <= 0) return fds;
  fds.resize(static_cast<size_t>(bytes) / sizeof(proc_fdinfo) + 16);
  const int got = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, fds.data(),
                               static_cast<int>(fds.size() * sizeof(proc_fdinfo)));
  fds.resize(got > 0 ? std::min(fds.size(), static_cast<size_t>(got) / sizeof(proc_fdinfo)) : 0);
  return fds;
}

// The local address of an IPv4/IPv6 socket as text.
std::optional<std::string> LocalAddress(const in_sockinfo& in) {
  char text[INET6_ADDRSTRLEN] = {};
  if ((in.insi_vflag & INI_IPV6) != 0) {
    if (!inet_ntop(AF_INET6, &in.insi_laddr.ina_6, text, sizeof text)) return std::nullopt;
  } else if ((in.insi_vflag & INI_IPV4) != 0) {
    if (!inet_ntop(AF_INET, &in.insi_laddr.ina_46.i46a_addr4, text, sizeof text))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  return std::string(text);
}

std::vector<Value> Row(pid_t pid, int fd, std::optional<int64_t> port, int64_t protocol,
                       int64_t family, std::optional<std::string> address,
                       std::optional<std::string> path) {
  return {Value(int64_t{pid}),
          Int(port),
          Value(protocol),
          Value(family),
          NonEmpty(address),
          Value(int64_t{fd}),
          Value(),
          path ? Text(*path) : Value(),
          Value()};
}

// The row for one socket descriptor, or nullopt when it is not a listening socket.
std::optional<std::vector<Value>> SocketRow(pid_t pid, int fd) {
  struct socket_fdinfo si {};
  if (proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO, &si, sizeof si) != static_cast<int>(sizeof si))
    return std::nullopt;  // closed meanwhile, or not visible
  const socket_info& s = si.psi;
  if (s.soi_family == AF_INET || s.soi_family == AF_INET6) {
    const in_sockinfo* in = nullptr;
    int64_t protocol = 0;
    if (s.soi_kind == SOCKINFO_TCP) {
      if (s.soi_proto.pri_tcp.tcpsi_state != TSI_S_LISTEN) return std::nullopt;
      in = &s.soi_proto.pri_tcp.tcpsi_ini;
      protocol = IPPROTO_TCP;
    } else if (s.soi_kind == SOCKINFO_IN && s.soi_protocol == IPPROTO_UDP) {
      in = &s.soi_proto.pri_in;
      protocol = IPPROTO_UDP;
      if (in->insi_fport != 0) return std::nullopt;  // connected to a peer
    } else {
      return std::nullopt;
    }
    // Ports are in network byte order in the int.
    const int64_t port = ntohs(static_cast<uint16_t>(in->insi_lport));
    if (port == 0) return std::nullopt;  // not bound
    return Row(pid, fd, port, protocol, s.soi_family, LocalAddress(*in), std::nullopt);
  }
  if (s.soi_family == AF_UNIX && s.soi_kind == SOCKINFO_UN) {
    const sockaddr_un& addr = s.soi_proto.pri_un.unsi_addr.ua_sun;
    const std::string path(addr.sun_path, strnlen(addr.sun_path, sizeof addr.sun_path));
    if (path.empty()) return std::nullopt;  // unnamed
    const bool accepts = (s.soi_options & SO_ACCEPTCONN) != 0;
    if (!accepts && s.soi_type != SOCK_DGRAM) return std::nullopt;
    return Row(pid, fd, std::nullopt, 0, AF_UNIX, std::nullopt, path);
  }
  return std::nullopt;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  for (const pid_t pid : Pids()) {
    if (env.stopped()) break;
    for (const proc_fdinfo& fd : Descriptors(pid)) {
      if (fd.proc_fdtype != PROX_FDTYPE_SOCKET) continue;
      std::optional<std::vector<Value>> row = SocketRow(pid, fd.proc_fd);
      if (row && !rows.Add(std::move(*row))) return "";
    }
  }
  return "";
}

}  // namespace

TableDef ListeningPortsTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"listening_ports",
                  "Listening TCP, bound UDP and listening unix sockets, with their process.",
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

}  // namespace outpost::platform::macos_tables
