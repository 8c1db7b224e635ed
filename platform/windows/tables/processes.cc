// processes: one row per process of a Toolhelp snapshot (CreateToolhelp32Snapshot),
// with what OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION) lets a process read about
// another. osquery's columns; the Linux/macOS-only ones are hidden and NULL here.
//
//   pid, parent, threads, name   from the snapshot (always there)
//   path, on_disk                QueryFullProcessImageName; on_disk 1/0 whether that file
//                                exists, -1 when the path is unreadable
//   uid, gid                     the relative ids of the token's user and primary group
//                                (NULL without access); euid/egid/suid/sgid the same
//                                (Windows has no separate ones), as osquery
//   nice                         the snapshot's base priority
//   user_time, system_time       GetProcessTimes, ms; start_time epoch seconds (-1 when
//                                unreadable); elapsed_time seconds since then
//   resident_size, total_size    working set and private bytes (GetProcessMemoryInfo)
//   handle_count, elevated_token GetProcessHandleCount, TokenElevation
//   cmdline, cwd                 NULL: reading them needs another process's PEB, which
//                                outpost does not do (docs/windows-tables.md)
//
// `pid = N` (or IN) opens only those processes. A process that exits between the
// snapshot and the open still gets its snapshot columns.
// win_util.h first: it includes <windows.h>, which the system headers below need.
#include "windows/tables/win_util.h"

#include <psapi.h>
#include <tlhelp32.h>

#include <set>

#include "windows/tables/tables.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr size_t kPid = 0;

int64_t Ms(const FILETIME& ft) {
  const uint64_t ticks = (uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;
  return static_cast<int64_t>(ticks / 10000);
}

struct Handle {
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  HANDLE h = nullptr;
  ~Handle() {
    if (h != nullptr && h != INVALID_HANDLE_VALUE) CloseHandle(h);
  }
};

// Token facts: user and group rids, elevation.
struct TokenFacts {
  std::optional<int64_t> uid, gid, elevated;
};

TokenFacts ReadToken(HANDLE process) {
  TokenFacts out;
  Handle token;
  if (!OpenProcessToken(process, TOKEN_QUERY, &token.h)) return out;
  BYTE buf[512];
  DWORD len = 0;
  if (GetTokenInformation(token.h, TokenUser, buf, sizeof buf, &len)) {
    if (auto sid = SidInfo(reinterpret_cast<TOKEN_USER*>(buf)->User.Sid)) out.uid = sid->rid;
  }
  if (GetTokenInformation(token.h, TokenPrimaryGroup, buf, sizeof buf, &len)) {
    if (auto sid = SidInfo(reinterpret_cast<TOKEN_PRIMARY_GROUP*>(buf)->PrimaryGroup))
      out.gid = sid->rid;
  }
  TOKEN_ELEVATION elevation{};
  if (GetTokenInformation(token.h, TokenElevation, &elevation, sizeof elevation, &len))
    out.elevated = elevation.TokenIsElevated != 0 ? 1 : 0;
  return out;
}

std::vector<Value> Row(const PROCESSENTRY32W& e) {
  const int64_t pid = e.th32ProcessID;
  Value path, on_disk = Value(int64_t{-1}), uid, gid, user_ms, system_ms,
              start = Value(int64_t{-1});
  Value resident, total, handles, elevated, elapsed;
  Handle p;
  p.h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, e.th32ProcessID);
  if (p.h != nullptr) {
    wchar_t image[MAX_PATH * 4];
    DWORD len = static_cast<DWORD>(std::size(image));
    if (QueryFullProcessImageNameW(p.h, 0, image, &len)) {
      path = Text(Utf8(image, static_cast<int>(len)));
      on_disk = Value(int64_t{GetFileAttributesW(image) != INVALID_FILE_ATTRIBUTES ? 1 : 0});
    }
    FILETIME created{}, exited{}, kernel{}, user{};
    if (GetProcessTimes(p.h, &created, &exited, &kernel, &user)) {
      user_ms = Value(Ms(user));
      system_ms = Value(Ms(kernel));
      const int64_t started = UnixTime(created);
      if (started > 0) {
        start = Value(started);
        FILETIME now{};
        GetSystemTimeAsFileTime(&now);
        elapsed = Value(std::max<int64_t>(0, UnixTime(now) - started));
      }
    }
    PROCESS_MEMORY_COUNTERS_EX mem{};
    if (GetProcessMemoryInfo(p.h, reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&mem), sizeof mem)) {
      resident = Value(static_cast<int64_t>(mem.WorkingSetSize));
      total = Value(static_cast<int64_t>(mem.PrivateUsage));
    }
    DWORD count = 0;
    if (GetProcessHandleCount(p.h, &count)) handles = Value(static_cast<int64_t>(count));
    const TokenFacts t = ReadToken(p.h);
    uid = Int(t.uid);
    gid = Int(t.gid);
    elevated = Int(t.elevated);
  }
  // pid name path cmdline state cwd root uid gid euid egid suid sgid on_disk wired
  // resident total user system read written start parent pgroup threads nice, then the
  // Windows columns.
  return {Value(pid),
          Text(Utf8(e.szExeFile)),
          path,
          Value(),
          Value(),
          Value(),
          Value(),
          uid,
          gid,
          uid,
          gid,
          uid,
          gid,
          on_disk,
          Value(),
          resident,
          total,
          user_ms,
          system_ms,
          Value(),
          Value(),
          start,
          Value(static_cast<int64_t>(e.th32ParentProcessID)),
          Value(),
          Value(static_cast<int64_t>(e.cntThreads)),
          Value(static_cast<int64_t>(e.pcPriClassBase)),
          elevated,
          Value(),
          Value(),
          Value(),
          elapsed,
          handles,
          Value()};
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  std::set<int64_t> wanted;
  const bool filtered = query.Has(kPid);
  for (const std::string& t : query.Texts(kPid)) {
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (end != t.c_str() && *end == '\0') wanted.insert(v);
  }
  Handle snap;
  snap.h = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap.h == INVALID_HANDLE_VALUE)
    return "processes: CreateToolhelp32Snapshot failed: " + ErrorText(GetLastError());
  PROCESSENTRY32W e{};
  e.dwSize = sizeof e;
  for (BOOL ok = Process32FirstW(snap.h, &e); ok; ok = Process32NextW(snap.h, &e)) {
    if (env.stopped()) break;
    if (filtered && wanted.count(static_cast<int64_t>(e.th32ProcessID)) == 0) continue;
    if (!rows.Add(Row(e))) break;
  }
  return "";
}

}  // namespace

TableDef ProcessesTable() {
  using T = ColumnType;
  constexpr bool kIndex = true, kHidden = true;
  return TableDef{"processes",
                  "Running processes (Toolhelp snapshot).",
                  {{"pid", T::kBigInt, false, kIndex},
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
                   {"elevated_token", T::kInteger},
                   {"secure_process", T::kInteger},
                   {"protection_type", T::kText},
                   {"virtual_process", T::kInteger},
                   {"elapsed_time", T::kBigInt},
                   {"handle_count", T::kBigInt},
                   {"percent_processor_time", T::kBigInt},
                   {"upid", T::kBigInt, false, false, kHidden},
                   {"uppid", T::kBigInt, false, false, kHidden},
                   {"cpu_type", T::kInteger, false, false, kHidden},
                   {"cpu_subtype", T::kInteger, false, false, kHidden},
                   {"translated", T::kInteger, false, false, kHidden},
                   {"cgroup_path", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
