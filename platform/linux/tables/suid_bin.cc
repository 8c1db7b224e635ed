// suid_bin: setuid and setgid regular files in the directories that hold programs, as
// osquery's table (same columns). The directories, under the root: /bin, /sbin,
// /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin, /usr/libexec and /usr/lib;
// each is walked to a depth of 4 (osquery also walks /tmp; we do not), without
// following symbolic links, at most 200000 entries in all, stopping when the query's
// time is up. A directory that is a link to another in the list (/bin -> usr/bin on
// merged-/usr systems) is walked once, under its real name.
//
//   path         host path of the file
//   username     owner, from /etc/passwd under the root; the uid in decimal when absent
//   groupname    group, from /etc/group; the gid in decimal when absent
//   permissions  "S" (setuid), "G" (setgid) or "SG", as osquery
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "linux/tables/named_paths.h"
#include "linux/tables/passwd_file.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 4;
constexpr size_t kMaxEntries = 200000;

class Walk {
 public:
  Walk(const TableEnv& env, RowSink& rows) : env_(env), rows_(rows) {
    for (const PasswdEntry& u : ReadPasswd(env)) users_.emplace(u.uid, u.username);
    for (const GroupEntry& g : ReadGroups(env)) groups_.emplace(g.gid, g.groupname);
  }

  // The files below host directory `dir`; false to stop.
  bool Directory(const std::string& dir, int depth) {
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(env_.Path(dir), ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (++seen_ > kMaxEntries || env_.stopped()) return false;
      names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path = dir + "/" + name;
      struct stat st;
      if (::lstat(env_.Path(path).c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (depth < kMaxDepth && !Directory(path, depth + 1)) return false;
      } else if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))) {
        std::string perms;
        if (st.st_mode & S_ISUID) perms += 'S';
        if (st.st_mode & S_ISGID) perms += 'G';
        if (!rows_.Add({Text(path), Text(Name(users_, st.st_uid)), Text(Name(groups_, st.st_gid)),
                        Text(perms), Value()}))
          return false;
      }
    }
    return true;
  }

 private:
  static std::string Name(const std::map<int64_t, std::string>& names, int64_t id) {
    const auto it = names.find(id);
    return it == names.end() ? std::to_string(id) : it->second;
  }

  const TableEnv& env_;
  RowSink& rows_;
  std::map<int64_t, std::string> users_;
  std::map<int64_t, std::string> groups_;
  size_t seen_ = 0;
};

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  Walk walk(env, rows);
  std::set<std::string> walked;  // real paths
  for (const char* dir : {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin",
                          "/usr/local/sbin", "/usr/libexec", "/usr/lib"}) {
    const std::optional<std::string> real = ResolveUnderRoot(env, dir);
    if (!real || !walked.insert(*real).second) continue;
    std::error_code ec;
    if (!fs::is_directory(env.Path(*real), ec)) continue;
    if (!walk.Directory(*real, 1)) break;
  }
  return "";
}

}  // namespace

TableDef SuidBinTable() {
  using T = ColumnType;
  return TableDef{"suid_bin",
                  "setuid and setgid programs in the usual binary directories.",
                  {{"path", T::kText},
                   {"username", T::kText},
                   {"groupname", T::kText},
                   {"permissions", T::kText},
                   {"pid_with_namespace", T::kInteger, false, false, true}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
