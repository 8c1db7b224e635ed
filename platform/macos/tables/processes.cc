// processes (macOS): one row per process, from libproc (proc_listpids, proc_pidinfo,
// proc_pidpath, proc_pid_rusage) and sysctl (KERN_PROCARGS2 for the command line,
// KERN_PROC_PID for the Rosetta flag). osquery's columns and units: user_time and
// system_time in milliseconds (task times are Mach absolute time, converted with
// mach_timebase_info), start_time in seconds since the epoch, sizes in bytes. uid, gid
// are the real ids, euid, egid the effective ones, suid, sgid the saved ones.
//
// As root (the service) every process is read. Another user's process read without
// root gives what proc_pidinfo still answers (PROC_PIDT_SHORTBSDINFO: ids, name,
// parent); the rest is NULL. The processes are those of the running system: the table's
// root does not apply. `pid = N` (or IN) reads only those processes.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include <libproc.h>
#include <mach/mach_time.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <sys/resource.h>
#include <sys/sysctl.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "macos/tables/mac_util.h"
#include "macos/tables/tables.h"

namespace outpost::platform::macos_tables {
namespace {

// Every pid of the system, sorted.
std::vector<int64_t> AllPids() {
  std::vector<int64_t> out;
  const int bytes = proc_listpids(PROC_ALL_PIDS, 0, nullptr, 0);
  if (bytes <= 0) return out;
  // Room for processes started between the two calls.
  std::vector<pid_t> pids(static_cast<size_t>(bytes) / sizeof(pid_t) + 64);
  const int got =
      proc_listpids(PROC_ALL_PIDS, 0, pids.data(), static_cast<int>(pids.size() * sizeof(pid_t)));
  if (got <= 0) return out;
  const size_t n = std::min(pids.size(), static_cast<size_t>(got) / sizeof(pid_t));
  for (size_t i = 0; i < n; ++i)
    if (pids[i] >= 0) out.push_back(pids[i]);  // pid 0 (kernel_task) is a process too
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// KERN_PROCARGS2: argc (int), the executable path, NUL padding, then argc arguments,
// each NUL-terminated (then the environment, which is not read). The arguments joined
// with spaces, or nullopt when the buffer cannot be read (another user's process).
std::optional<std::string> CommandLine(pid_t pid) {
  int argmax = 0;
  size_t size = sizeof argmax;
  int mib_max[2] = {CTL_KERN, KERN_ARGMAX};
  if (sysctl(mib_max, 2, &argmax, &size, nullptr, 0) != 0 || argmax <= 0) return std::nullopt;
  std::vector<char> buf(static_cast<size_t>(argmax));
  int mib[3] = {CTL_KERN, KERN_PROCARGS2, pid};
  size = buf.size();
  if (sysctl(mib, 3, buf.data(), &size, nullptr, 0) != 0 || size < sizeof(int)) return std::nullopt;
  int argc = 0;
  std::memcpy(&argc, buf.data(), sizeof argc);
  size_t at = sizeof argc;
  while (at < size && buf[at] != '\0') ++at;  // the executable path
  while (at < size && buf[at] == '\0') ++at;  // padding
  std::string out;
  for (int i = 0; i < argc && at < size; ++i) {
    const size_t start = at;
    while (at < size && buf[at] != '\0') ++at;
    if (!out.empty()) out += ' ';
    out.append(buf.data() + start, at - start);
    ++at;
  }
  return out;
}

std::optional<std::string> ExecutablePath(pid_t pid) {
  char path[PROC_PIDPATHINFO_MAXSIZE];
  const int n = proc_pidpath(pid, path, sizeof path);
  if (n <= 0) return std::nullopt;
  return std::string(path, static_cast<size_t>(n));
}

// P_TRANSLATED: an x86_64 process running under Rosetta 2. nullopt when unknown.
std::optional<int64_t> Translated(pid_t pid) {
  struct kinfo_proc info {};
  size_t size = sizeof info;
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, pid};
  if (sysctl(mib, 4, &info, &size, nullptr, 0) != 0 || size != sizeof info) return std::nullopt;
  return (info.kp_proc.p_flag & P_TRANSLATED) != 0 ? 1 : 0;
}

// The process states of pbi_status (SIDL ... SZOMB) as ps shows them.
const char* State(uint32_t status) {
  switch (status) {
    case SIDL:
      return "I";
    case SRUN:
      return "R";
    case SSLEEP:
      return "S";
    case SSTOP:
      return "T";
    case SZOMB:
      return "Z";
    default:
      return "";
  }
}

int64_t MachToMs(uint64_t ticks, const mach_timebase_info_data_t& tb) {
  if (tb.denom == 0) return 0;
  // ticks * numer / denom nanoseconds, without overflowing for long-lived processes.
  const long double ns = static_cast<long double>(ticks) * tb.numer / tb.denom;
  return static_cast<int64_t>(ns / 1e6L);
}

std::optional<std::vector<Value>> ProcessRow(pid_t pid, const mach_timebase_info_data_t& tb) {
  struct proc_taskallinfo all {};
  const bool have_all =
      proc_pidinfo(pid, PROC_PIDTASKALLINFO, 0, &all, sizeof all) == static_cast<int>(sizeof all);
  struct proc_bsdshortinfo shortinfo {};
  if (!have_all && proc_pidinfo(pid, PROC_PIDT_SHORTBSDINFO, 0, &shortinfo, sizeof shortinfo) !=
                       static_cast<int>(sizeof shortinfo))
    return std::nullopt;  // gone, or not visible at all

  const std::optional<std::string> path = ExecutablePath(pid);
  int64_t on_disk = -1;
  if (path) {
    std::error_code ec;
    on_disk = std::filesystem::exists(*path, ec) ? 1 : 0;
  }
  std::optional<std::string> cwd, root;
  struct proc_vnodepathinfo vp {};
  if (proc_pidinfo(pid, PROC_PIDVNODEPATHINFO, 0, &vp, sizeof vp) == static_cast<int>(sizeof vp)) {
    cwd = std::string(vp.pvi_cdir.vip_path, strnlen(vp.pvi_cdir.vip_path, MAXPATHLEN));
    root = std::string(vp.pvi_rdir.vip_path, strnlen(vp.pvi_rdir.vip_path, MAXPATHLEN));
  }
  Value wired, read_bytes, written_bytes;
  struct rusage_info_v2 ru {};
  if (proc_pid_rusage(pid, RUSAGE_INFO_V2, reinterpret_cast<rusage_info_t*>(&ru)) == 0) {
    wired = static_cast<int64_t>(ru.ri_wired_size);
    read_bytes = static_cast<int64_t>(ru.ri_diskio_bytesread);
    written_bytes = static_cast<int64_t>(ru.ri_diskio_byteswritten);
  }
  const std::optional<std::string> cmdline = CommandLine(pid);

  std::vector<Value> row;
  if (have_all) {
    const proc_bsdinfo& b = all.pbsd;
    const proc_taskinfo& t = all.ptinfo;
    const std::string name = b.pbi_name[0] != '\0'
                                 ? std::string(b.pbi_name, strnlen(b.pbi_name, sizeof b.pbi_name))
                                 : std::string(b.pbi_comm, strnlen(b.pbi_comm, sizeof b.pbi_comm));
    row = {Value(int64_t{pid}),
           Text(name),
           Text(path.value_or("")),
           cmdline ? Text(*cmdline) : Value(),
           Text(State(b.pbi_status)),
           Text(cwd.value_or("")),
           Text(root.value_or("")),
           Value(int64_t{b.pbi_ruid}),
           Value(int64_t{b.pbi_rgid}),
           Value(int64_t{b.pbi_uid}),
           Value(int64_t{b.pbi_gid}),
           Value(int64_t{b.pbi_svuid}),
           Value(int64_t{b.pbi_svgid}),
           Value(on_disk),
           wired,
           Value(static_cast<int64_t>(t.pti_resident_size)),
           Value(static_cast<int64_t>(t.pti_virtual_size)),
           Value(MachToMs(t.pti_total_user, tb)),
           Value(MachToMs(t.pti_total_system, tb)),
           read_bytes,
           written_bytes,
           Value(static_cast<int64_t>(b.pbi_start_tvsec)),
           Value(int64_t{b.pbi_ppid}),
           Value(int64_t{b.pbi_pgid}),
           Value(int64_t{t.pti_threadnum}),
           Value(int64_t{b.pbi_nice})};
  } else {
    const proc_bsdshortinfo& s = shortinfo;
    row = {Value(int64_t{pid}),
           Text(std::string(s.pbsi_comm, strnlen(s.pbsi_comm, sizeof s.pbsi_comm))),
           Text(path.value_or("")),
           cmdline ? Text(*cmdline) : Value(),
           Text(State(s.pbsi_status)),
           Text(cwd.value_or("")),
           Text(root.value_or("")),
           Value(int64_t{s.pbsi_ruid}),
           Value(int64_t{s.pbsi_rgid}),
           Value(int64_t{s.pbsi_uid}),
           Value(int64_t{s.pbsi_gid}),
           Value(int64_t{s.pbsi_svuid}),
           Value(int64_t{s.pbsi_svgid}),
           Value(on_disk),
           wired,
           Value(),
           Value(),
           Value(),
           Value(),
           read_bytes,
           written_bytes,
           Value(int64_t{-1}),
           Value(int64_t{s.pbsi_ppid}),
           Value(int64_t{s.pbsi_pgid}),
           Value(),
           Value()};
  }
  row.resize(row.size() + 9);  // the Windows columns, upid, uppid
  row.push_back(Value());      // cpu_type (not read)
  row.push_back(Value());      // cpu_subtype
  const std::optional<int64_t> translated = Translated(pid);
  row.push_back(Int(translated));
  row.push_back(Value());  // cgroup_path: Linux only
  return row;
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  std::vector<int64_t> pids;
  if (query.Has(0)) {
    for (const std::string& text : query.Texts(0)) {
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (end != text.c_str() && *end == '\0' && v >= 0 && v <= INT32_MAX) pids.push_back(v);
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  } else {
    pids = AllPids();
  }
  mach_timebase_info_data_t tb{};
  if (mach_timebase_info(&tb) != KERN_SUCCESS) tb = {1, 1};
  for (const int64_t pid : pids) {
    if (env.stopped()) break;
    std::optional<std::vector<Value>> row = ProcessRow(static_cast<pid_t>(pid), tb);
    if (row && !rows.Add(std::move(*row))) break;
  }
  return "";
}

}  // namespace

TableDef ProcessesTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"processes",
                  "Running processes, from libproc.",
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
                   {"translated", T::kInteger},
                   {"cgroup_path", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::macos_tables
