// listening_ports: sockets waiting for peers, from /proc/net/{tcp,tcp6,udp,udp6,unix},
// each with the process holding it (found through the "socket:[inode]" links in
// /proc/<pid>/fd). osquery's columns and numbers: protocol 6 (TCP) / 17 (UDP) / 0,
// family 2 (IPv4) / 10 (IPv6) / 1 (unix).
//
// Which sockets: TCP in state LISTEN; UDP bound with no remote peer (remote port 0);
// unix sockets with a path that accept connections (__SO_ACCEPTCON) and bound unix
// datagram sockets (osquery lists every unix socket with a path, which repeats a
// listening socket's path on each accepted connection). A socket no readable process
// holds gets pid -1 and fd -1 (another user's process when not root). net_namespace
// is the holding process's network namespace inode.
//
// Addresses in /proc/net are the kernel's words in host byte order, so the decoding
// (memcpy into in_addr / in6_addr) is right for the machine that wrote them.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <system_error>
#include <unordered_map>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr int64_t kAcceptConnections = 0x10000;  // __SO_ACCEPTCON in /proc/net/unix Flags
constexpr std::string_view kTcpListen = "0A";
constexpr std::string_view kUnixDatagram = "0002";

struct Holder {
  int64_t pid = -1;
  int64_t fd = -1;
  std::optional<std::string> net_namespace;
};

// "socket:[12345]" / "net:[4026531840]" -> the number; nullopt otherwise.
std::optional<int64_t> BracketNumber(std::string_view link, std::string_view prefix) {
  if (!link.starts_with(prefix) || !link.ends_with("]")) return std::nullopt;
  return ToInt(link.substr(prefix.size(), link.size() - prefix.size() - 1));
}

// inode -> the first (lowest pid, then lowest fd) process holding that socket.
std::unordered_map<int64_t, Holder> SocketHolders(const TableEnv& env) {
  std::unordered_map<int64_t, Holder> out;
  std::vector<int64_t> pids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(env.Path("/proc"), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (const std::optional<int64_t> pid = ToInt(name)) pids.push_back(*pid);
  }
  std::sort(pids.begin(), pids.end());
  for (const int64_t pid : pids) {
    if (env.stopped()) break;
    const std::string dir = "/proc/" + std::to_string(pid);
    std::optional<std::string> ns;
    std::error_code link_ec;
    const std::string ns_link =
        std::filesystem::read_symlink(env.Path(dir + "/ns/net"), link_ec).string();
    if (const std::optional<int64_t> n = BracketNumber(ns_link, "net:["); !link_ec && n)
      ns = std::to_string(*n);
    std::vector<std::pair<int64_t, int64_t>> fds;  // fd, inode
    std::error_code fd_ec;
    for (std::filesystem::directory_iterator it(env.Path(dir + "/fd"), fd_ec), end;
         !fd_ec && it != end; it.increment(fd_ec)) {
      const std::optional<int64_t> fd = ToInt(it->path().filename().string());
      std::error_code read_ec;
      const std::string target = std::filesystem::read_symlink(it->path(), read_ec).string();
      const std::optional<int64_t> inode = BracketNumber(target, "socket:[");
      if (fd && inode && !read_ec) fds.emplace_back(*fd, *inode);
    }
    std::sort(fds.begin(), fds.end());
    for (const auto& [fd, inode] : fds) out.try_emplace(inode, Holder{pid, fd, ns});
  }
  return out;
}

// "0100007F" (IPv4) or 32 hex digits (IPv6, four host-order words) -> text.
std::optional<std::string> DecodeAddress(std::string_view hex, int family) {
  const size_t words = family == AF_INET ? 1 : 4;
  if (hex.size() != words * 8) return std::nullopt;
  unsigned char bytes[16];
  for (size_t i = 0; i < words; ++i) {
    const std::optional<int64_t> word = ToInt(hex.substr(i * 8, 8), 16);
    if (!word) return std::nullopt;
    const uint32_t w = static_cast<uint32_t>(*word);
    std::memcpy(bytes + i * 4, &w, 4);
  }
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, bytes, text, sizeof text)) return std::nullopt;
  return std::string(text);
}

// "ADDR:PORT" -> address text and port.
std::optional<std::pair<std::string, int64_t>> Endpoint(std::string_view field, int family) {
  const size_t colon = field.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::optional<std::string> address = DecodeAddress(field.substr(0, colon), family);
  const std::optional<int64_t> port = ToInt(field.substr(colon + 1), 16);
  if (!address || !port || *port < 0 || *port > 65535) return std::nullopt;
  return std::make_pair(*address, *port);
}

std::vector<Value> Row(const Holder* h, std::optional<int64_t> port, int64_t protocol,
                       int64_t family, std::optional<std::string> address, int64_t inode,
                       std::optional<std::string> path) {
  return {Value(h ? h->pid : int64_t{-1}),
          Int(port),
          Value(protocol),
          Value(family),
          address ? Text(*address) : Value(),
          Value(h ? h->fd : int64_t{-1}),
          Value(inode),
          path ? Text(*path) : Value(),
          h && h->net_namespace ? Text(*h->net_namespace) : Value()};
}

// One /proc/net/{tcp,udp}[6] file; false when the sink wants no more rows.
bool InetFile(const TableEnv& env, const char* file, int64_t protocol, int family,
              const std::unordered_map<int64_t, Holder>& holders, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path(file));
  if (!text) return true;
  const std::vector<std::string_view> lines = Lines(*text);
  for (size_t i = 1; i < lines.size(); ++i) {  // line 0 is the header
    // sl local remote st tx:rx tr:when retrnsmt uid timeout inode ...
    const std::vector<std::string_view> f = Fields(lines[i]);
    if (f.size() < 10) continue;
    const auto local = Endpoint(f[1], family);
    const auto remote = Endpoint(f[2], family);
    const std::optional<int64_t> inode = ToInt(f[9]);
    if (!local || !remote || !inode) continue;
    if (protocol == IPPROTO_TCP ? f[3] != kTcpListen : remote->second != 0) continue;
    const auto it = holders.find(*inode);
    if (!rows.Add(Row(it == holders.end() ? nullptr : &it->second, local->second, protocol,
                      family == AF_INET ? 2 : 10, local->first, *inode, std::nullopt)))
      return false;
  }
  return true;
}

// /proc/net/unix: Num RefCount Protocol Flags Type St Inode [Path].
bool UnixFile(const TableEnv& env, const std::unordered_map<int64_t, Holder>& holders,
              RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/net/unix"));
  if (!text) return true;
  const std::vector<std::string_view> lines = Lines(*text);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string_view> f = Fields(lines[i]);
    if (f.size() < 8) continue;  // no path: anonymous
    const std::optional<int64_t> protocol = ToInt(f[2], 16);
    const std::optional<int64_t> flags = ToInt(f[3], 16);
    const std::optional<int64_t> inode = ToInt(f[6]);
    if (!protocol || !flags || !inode) continue;
    if (!(*flags & kAcceptConnections) && f[4] != kUnixDatagram) continue;
    // The path is the rest of the line (it may hold spaces).
    const std::string_view path =
        lines[i].substr(static_cast<size_t>(f[7].data() - lines[i].data()));
    const auto it = holders.find(*inode);
    if (!rows.Add(Row(it == holders.end() ? nullptr : &it->second, std::nullopt, *protocol, 1,
                      std::nullopt, *inode, std::string(path))))
      return false;
  }
  return true;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const std::unordered_map<int64_t, Holder> holders = SocketHolders(env);
  bool more = InetFile(env, "/proc/net/tcp", IPPROTO_TCP, AF_INET, holders, rows);
  more = more && InetFile(env, "/proc/net/tcp6", IPPROTO_TCP, AF_INET6, holders, rows);
  more = more && InetFile(env, "/proc/net/udp", IPPROTO_UDP, AF_INET, holders, rows);
  more = more && InetFile(env, "/proc/net/udp6", IPPROTO_UDP, AF_INET6, holders, rows);
  if (more) UnixFile(env, holders, rows);
  return "";
}

}  // namespace

TableDef ListeningPortsTable() {
  using T = ColumnType;
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
                   {"net_namespace", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
