// system_controls: kernel parameters (sysctl) from the files under /proc/sys, one row
// per file: name "kernel.randomize_va_space" for /proc/sys/kernel/randomize_va_space,
// subsystem its first part, current_value the trimmed contents (NULL when the file
// cannot be read or has no read permission, e.g. vm.compact_memory), type "string" and oid
// NULL (Linux has no numeric MIB), as in osquery.
//
// config_value is the value set for the name in the sysctl.d(5) files: *.conf in
// /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and
// /lib/sysctl.d (a name in an earlier directory hides the same file name in a later
// one; files are applied in file-name order), then /etc/sysctl.conf last, so the value
// that wins is the one systemd-sysctl applies.
//
// `name = '...'` (or IN) reads just those files; `subsystem = '...'` walks just that
// directory. Otherwise the walk covers /proc/sys, bounded in depth and entries, never
// follows symbolic links, and stops when the query's time is up.
#include <algorithm>
#include <map>
#include <system_error>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

namespace fs = std::filesystem;

constexpr size_t kName = 0;  // column indexes, for constraints
constexpr size_t kSubsystem = 2;
constexpr int kMaxDepth = 12;
constexpr size_t kMaxEntries = 100000;
constexpr size_t kMaxValueBytes = 64 << 10;

using Config = std::map<std::string, std::string>;

void ParseConfigFile(const fs::path& path, Config& config) {
  const std::optional<std::string> text = ReadFile(path, 1 << 20);
  if (!text) return;
  for (std::string_view line : Lines(*text)) {
    line = Trim(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '-') line.remove_prefix(1);  // "-key = v": ignore failures
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(Trim(line.substr(0, eq)));
    if (key.empty()) continue;
    std::replace(key.begin(), key.end(), '/', '.');  // "kernel/domainname" is allowed too
    config[key] = std::string(Trim(line.substr(eq + 1)));
  }
}

Config ReadConfig(const TableEnv& env) {
  // file name -> the path that wins for it (the first directory that has it).
  std::map<std::string, fs::path> files;
  for (const char* dir : {"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                          "/usr/lib/sysctl.d", "/lib/sysctl.d"}) {
    std::error_code ec;
    fs::directory_iterator it(env.Path(dir), ec);
    size_t n = 0;
    for (; !ec && it != fs::directory_iterator() && n < 1000; it.increment(ec), ++n) {
      const std::string file = it->path().filename().string();
      if (file.ends_with(".conf")) files.emplace(file, it->path());
    }
  }
  Config config;
  for (const auto& [name, path] : files) ParseConfigFile(path, config);
  ParseConfigFile(env.Path("/etc/sysctl.conf"), config);
  return config;
}

class Walk {
 public:
  Walk(const TableEnv& env, const Config& config, RowSink& rows)
      : env_(env), config_(config), rows_(rows) {}

  // One row for the file `name` ("kernel.ostype") at `path`; false to stop.
  bool Emit(const std::string& name, const fs::path& path) {
    const std::string subsystem = name.substr(0, name.find('.'));
    const auto it = config_.find(name);
    Value current;
    // Write-only controls (vm.compact_memory, net.ipv4.route.flush) are not opened even
    // though root could: their value is NULL.
    std::error_code ec;
    const fs::perms mode = fs::status(path, ec).permissions();
    constexpr fs::perms kReadable =
        fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    if (!ec && (mode & kReadable) != fs::perms::none)
      if (const std::optional<std::string> v = ReadFile(path, kMaxValueBytes))
        current = Text(Trim(*v));
    return rows_.Add({Text(name), Value(), Text(subsystem), current,
                      it == config_.end() ? Value() : Text(it->second), Text("string"), Value()});
  }

  // Every file below `dir` (whose sysctl name is `prefix`); false to stop.
  bool Directory(const fs::path& dir, const std::string& prefix, int depth) {
    if (depth > kMaxDepth) return true;
    std::vector<fs::directory_entry> entries;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (++seen_ > kMaxEntries || env_.stopped()) return false;
      entries.push_back(*it);
    }
    std::sort(entries.begin(), entries.end());
    for (const fs::directory_entry& e : entries) {
      const std::string name = prefix + e.path().filename().string();
      const fs::file_status st = e.symlink_status(ec);
      if (ec || fs::is_symlink(st)) continue;
      const bool ok = fs::is_directory(st) ? Directory(e.path(), name + ".", depth + 1)
                                           : !fs::is_regular_file(st) || Emit(name, e.path());
      if (!ok) return false;
    }
    return true;
  }

 private:
  const TableEnv& env_;
  const Config& config_;
  RowSink& rows_;
  size_t seen_ = 0;
};

// "net.ipv4.ip_forward" -> "net/ipv4/ip_forward"; nullopt for a name that is not a
// plain dotted name (empty parts, '/', NUL), so a constraint never leaves /proc/sys.
std::optional<std::string> NameToPath(std::string_view name) {
  if (name.empty() || name.size() > 512) return std::nullopt;
  std::string path;
  for (const std::string_view part : Split(name, '.')) {
    if (part.empty() || part.find('/') != std::string_view::npos ||
        part.find('\0') != std::string_view::npos)
      return std::nullopt;
    if (!path.empty()) path += '/';
    path += part;
  }
  return path;
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  const Config config = ReadConfig(env);
  Walk walk(env, config, rows);
  const fs::path base = env.Path("/proc/sys");
  const std::vector<std::string> names = query.Texts(kName);
  if (!names.empty()) {
    for (const std::string& name : names) {
      const std::optional<std::string> rel = NameToPath(name);
      if (!rel) continue;
      const fs::path path = base / *rel;
      std::error_code ec;
      if (!fs::is_regular_file(fs::symlink_status(path, ec))) continue;
      if (!walk.Emit(name, path)) break;
    }
    return "";
  }
  const std::vector<std::string> subsystems = query.Texts(kSubsystem);
  if (!subsystems.empty()) {
    for (const std::string& s : subsystems) {
      const std::optional<std::string> rel = NameToPath(s);
      if (!rel || rel->find('/') != std::string::npos) continue;
      std::error_code ec;
      if (!fs::is_directory(fs::symlink_status(base / *rel, ec))) continue;
      if (!walk.Directory(base / *rel, s + ".", 1)) break;
    }
    return "";
  }
  walk.Directory(base, "", 0);
  return "";
}

}  // namespace

TableDef SystemControlsTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  constexpr bool kHidden = true;
  return TableDef{"system_controls",
                  "Kernel parameters (sysctl) from /proc/sys, with their configured values.",
                  {{"name", T::kText, false, kIndex},
                   {"oid", T::kText},
                   {"subsystem", T::kText, false, kIndex},
                   {"current_value", T::kText},
                   {"config_value", T::kText},
                   {"type", T::kText},
                   {"field_name", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
