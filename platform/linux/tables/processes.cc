// processes: one row per /proc/<pid> directory, from its stat, status, cmdline, io and
// cgroup files and its exe, cwd and root links. osquery's columns; Windows/macOS-only
// ones are hidden and NULL here.
//
// Units follow osquery: user_time and system_time in milliseconds, start_time in
// seconds since the epoch (/proc/stat btime plus the stat start tick; -1 when either is
// unknown), sizes in bytes. Ticks are converted at USER_HZ = 100, the value the kernel
// exports on every architecture outpost builds for (a fixed constant, so a fixture tree
// reads the same on any machine). `pid = N` (or IN) reads only /proc/N.
#include <algorithm>
#include <system_error>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr int64_t kTicksPerSecond = 100;  // USER_HZ

// The fields of /proc/<pid>/stat that the row uses; nullopt where the line was cut.
struct ProcStat {
  std::string name;
  std::string state;
  std::optional<int64_t> ppid, pgrp, utime, stime, nice, threads, start_ticks;
};

// "1 (systemd) S 0 1 ...": the name is between the first '(' and the LAST ')', since a
// process may put spaces and ')' in its own name. nullopt without a parenthesised name.
std::optional<ProcStat> ParseStat(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  ProcStat s;
  s.name = std::string(text.substr(open + 1, close - open - 1));
  // After the name, field 3 (state) is rest[0]: field N is rest[N - 3].
  const std::vector<std::string_view> rest = Fields(text.substr(close + 1), " \t\n");
  auto field = [&](size_t n) -> std::optional<int64_t> {
    return n - 3 < rest.size() ? ToInt(rest[n - 3]) : std::nullopt;
  };
  if (!rest.empty()) s.state = std::string(rest[0]);
  s.ppid = field(4);
  s.pgrp = field(5);
  s.utime = field(14);
  s.stime = field(15);
  s.nice = field(19);
  s.threads = field(20);
  s.start_ticks = field(22);
  return s;
}

std::optional<int64_t> TicksToMs(std::optional<int64_t> ticks) {
  const std::optional<int64_t> ms = MulChecked(ticks, 1000);
  return ms ? std::optional<int64_t>(*ms / kTicksPerSecond) : std::nullopt;
}

// "Uid:\t0\t0\t0\t0" -> the n-th number (0 real, 1 effective, 2 saved).
std::optional<int64_t> StatusId(const std::map<std::string, std::string>& status, const char* key,
                                size_t n) {
  const auto it = status.find(key);
  if (it == status.end()) return std::nullopt;
  const std::vector<std::string_view> f = Fields(it->second);
  return n < f.size() ? ToInt(f[n]) : std::nullopt;
}

// "VmRSS:\t  1234 kB" -> bytes.
std::optional<int64_t> StatusBytes(const std::map<std::string, std::string>& status,
                                   const char* key) {
  const auto it = status.find(key);
  if (it == status.end()) return std::nullopt;
  const std::vector<std::string_view> f = Fields(it->second);
  if (f.empty()) return std::nullopt;
  return MulChecked(ToInt(f[0]), 1024);
}

// "Key:\tvalue" lines (status, io).
std::map<std::string, std::string> ColonValues(std::string_view text) {
  std::map<std::string, std::string> out;
  for (std::string_view line : Lines(text)) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out[std::string(Trim(line.substr(0, colon)))] = std::string(Trim(line.substr(colon + 1)));
  }
  return out;
}

// The target of a symlink in the tree (a /proc magic link on a live system); nullopt
// when it cannot be read (another user's process, a kernel thread's exe).
std::optional<std::string> ReadLink(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::path target = std::filesystem::read_symlink(p, ec);
  if (ec) return std::nullopt;
  return target.string();
}

// cmdline: arguments separated (and ended) by NUL -> joined with spaces.
std::string CommandLine(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string out(raw);
  std::replace(out.begin(), out.end(), '\0', ' ');
  return out;
}

// The unified (cgroup v2, "0::/path") hierarchy's path, else the first line's.
std::optional<std::string> CgroupPath(std::string_view text) {
  std::optional<std::string> first;
  for (std::string_view line : Lines(text)) {
    const std::vector<std::string_view> parts = Split(line, ':');
    if (parts.size() < 3) continue;
    const size_t path_at = parts[0].size() + parts[1].size() + 2;
    std::string path(line.substr(path_at));
    if (parts[0] == "0" && parts[1].empty()) return path;
    if (!first) first = path;
  }
  return first;
}

std::optional<int64_t> BootTime(const TableEnv& env) {
  const std::optional<std::string> stat = ReadFile(env.Path("/proc/stat"), 1 << 20);
  if (!stat) return std::nullopt;
  for (std::string_view line : Lines(*stat)) {
    const std::vector<std::string_view> f = Fields(line);
    if (f.size() == 2 && f[0] == "btime") return ToInt(f[1]);
  }
  return std::nullopt;
}

// One process's row; nullopt when its stat file is missing or has no name.
std::optional<std::vector<Value>> ProcessRow(const TableEnv& env, int64_t pid,
                                             std::optional<int64_t> boot_time) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::optional<std::string> stat_text = ReadFile(env.Path(dir + "/stat"), 64 << 10);
  if (!stat_text) return std::nullopt;
  const std::optional<ProcStat> st = ParseStat(*stat_text);
  if (!st) return std::nullopt;

  const std::map<std::string, std::string> status =
      ColonValues(ReadFile(env.Path(dir + "/status"), 64 << 10).value_or(""));
  const std::optional<std::string> io_text = ReadFile(env.Path(dir + "/io"), 16 << 10);
  const std::map<std::string, std::string> io = ColonValues(io_text.value_or(""));
  auto io_value = [&](const char* key) -> std::optional<int64_t> {
    const auto it = io.find(key);
    return it == io.end() ? std::nullopt : ToInt(it->second);
  };
  const std::optional<std::string> cmdline = ReadFile(env.Path(dir + "/cmdline"), 1 << 20);
  const std::optional<std::string> cgroup = ReadFile(env.Path(dir + "/cgroup"), 64 << 10);

  // on_disk: 1 when the executable still exists under the root, 0 when it was deleted
  // (the kernel appends " (deleted)") or is gone, -1 when the link cannot be read.
  const std::optional<std::string> exe = ReadLink(env.Path(dir + "/exe"));
  int64_t on_disk = -1;
  std::string path;
  if (exe) {
    path = *exe;
    constexpr std::string_view kDeleted = " (deleted)";
    std::error_code ec;
    if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) {
      path.resize(path.size() - kDeleted.size());
      on_disk = 0;
    } else {
      on_disk = !path.empty() && path.front() == '/' && std::filesystem::exists(env.Path(path), ec)
                    ? 1
                    : 0;
    }
  }

  std::optional<int64_t> start_time = -1;
  if (boot_time && st->start_ticks)
    start_time = AddChecked(boot_time, *st->start_ticks / kTicksPerSecond).value_or(-1);

  std::vector<Value> row = {
      Value(pid),
      Text(st->name),
      Text(path),
      cmdline ? Text(CommandLine(*cmdline)) : Value(),
      Text(st->state),
      Text(ReadLink(env.Path(dir + "/cwd")).value_or("")),
      Text(ReadLink(env.Path(dir + "/root")).value_or("")),
      Int(StatusId(status, "Uid", 0)),
      Int(StatusId(status, "Gid", 0)),
      Int(StatusId(status, "Uid", 1)),
      Int(StatusId(status, "Gid", 1)),
      Int(StatusId(status, "Uid", 2)),
      Int(StatusId(status, "Gid", 2)),
      Value(on_disk),
      Value(int64_t{0}),  // wired_size: Linux has no such counter (osquery: 0)
      Int(StatusBytes(status, "VmRSS")),
      Int(StatusBytes(status, "VmSize")),
      Int(TicksToMs(st->utime)),
      Int(TicksToMs(st->stime)),
      Int(io_value("read_bytes")),
      Int(io_value("write_bytes")),
      Int(start_time),
      Int(st->ppid),
      Int(st->pgrp),
      Int(st->threads),
      Int(st->nice),
  };
  row.resize(row.size() + 12);  // the Windows and macOS columns
  const std::optional<std::string> cgroup_path = cgroup ? CgroupPath(*cgroup) : std::nullopt;
  row.push_back(cgroup_path ? Text(*cgroup_path) : Value());
  return row;
}

// The pids to read: those of `pid =` / IN constraints, else every numeric /proc entry.
std::vector<int64_t> Pids(const TableEnv& env, const TableQuery& query) {
  std::vector<int64_t> pids;
  if (query.Has(0)) {
    for (const std::string& text : query.Texts(0))
      if (const std::optional<int64_t> pid = ToInt(text); pid && *pid >= 0) pids.push_back(*pid);
  } else {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(env.Path("/proc"), ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      if (const std::optional<int64_t> pid = ToInt(name)) pids.push_back(*pid);
    }
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  const std::optional<int64_t> boot_time = BootTime(env);
  for (const int64_t pid : Pids(env, query)) {
    if (env.stopped()) break;
    std::optional<std::vector<Value>> row = ProcessRow(env, pid, boot_time);
    if (row && !rows.Add(std::move(*row))) break;
  }
  return "";
}

}  // namespace

TableDef ProcessesTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"processes",
                  "Running processes, from /proc.",
                  {{"pid", T::kBigInt, false, true},
                   {"name", T::kText},
                   {"path", T::kText},
                   {"cmdline", T::kText},
                   {"state", T::kText},
                   {"cwd", T::kText},
                   {"root", T::kText},
                   {"uid", T::kBigInt},
                   {"gid", T::kBigInt},
                   {"euid", T::kBigInt},
                   {"egid", T::kBigInt},
                   {"suid", T::kBigInt},
                   {"sgid", T::kBigInt},
                   {"on_disk", T::kInteger},
                   {"wired_size", T::kBigInt},
                   {"resident_size", T::kBigInt},
                   {"total_size", T::kBigInt},
                   {"user_time", T::kBigInt},
                   {"system_time", T::kBigInt},
                   {"disk_bytes_read", T::kBigInt},
                   {"disk_bytes_written", T::kBigInt},
                   {"start_time", T::kBigInt},
                   {"parent", T::kBigInt},
                   {"pgroup", T::kBigInt},
                   {"threads", T::kInteger},
                   {"nice", T::kInteger},
                   {"elevated_token", T::kInteger, false, false, kHidden},
                   {"secure_process", T::kInteger, false, false, kHidden},
                   {"protection_type", T::kText, false, false, kHidden},
                   {"virtual_process", T::kInteger, false, false, kHidden},
                   {"elapsed_time", T::kBigInt, false, false, kHidden},
                   {"handle_count", T::kBigInt, false, false, kHidden},
                   {"percent_processor_time", T::kBigInt, false, false, kHidden},
                   {"upid", T::kBigInt, false, false, kHidden},
                   {"uppid", T::kBigInt, false, false, kHidden},
                   {"cpu_type", T::kInteger, false, false, kHidden},
                   {"cpu_subtype", T::kInteger, false, false, kHidden},
                   {"translated", T::kInteger, false, false, kHidden},
                   {"cgroup_path", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
