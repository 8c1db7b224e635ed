// systemd_units: the unit files on disk, read without D-Bus (the agent is a static
// binary with no sd-bus, and tables read under TableEnv::root). osquery's columns.
//
// Units are the files (and symbolic links) with a unit suffix (.service, .socket,
// .target, .timer, ...) directly in /etc/systemd/system, /lib/systemd/system and
// /usr/lib/systemd/system, in that order of precedence: an id found in an earlier
// directory hides the same id in a later one (on merged-/usr systems /lib is
// /usr/lib). Drop-in directories (<id>.d/*.conf) are not read. Rows come sorted by id.
//
//   id              the unit file's name ("ssh.service", templates as "getty@.service")
//   description     Description= of [Unit] (the last one set)
//   load_state      "loaded" when the file could be read, "masked" when masked, else NULL
//   active_state,   NULL: the runtime state lives in the systemd process and would need
//   sub_state,      D-Bus, as would following, job_id, job_type and job_path (NULL too)
//   unit_file_state "masked" when /etc/systemd/system/<id> is a symbolic link to
//                   /dev/null; "enabled" when a link named <id> (or, for a template,
//                   any instance <name>@<instance>.<type>) is in some *.wants/ or
//                   *.requires/ directory of /etc/systemd/system; "alias" when the id is
//                   a link to a unit file of another name; "static" when [Install] has
//                   no WantedBy=, RequiredBy=, UpheldBy=, Alias= or Also=; else "disabled"
//   object_path     the unit's D-Bus object path, computed from the id as systemd does
//                   ("/org/freedesktop/systemd1/unit/ssh_2eservice")
//   fragment_path   the host path of the unit file; for an id that is a symbolic link,
//                   where the link leads inside the root ("" for a masked unit)
//   user            User= of [Service], "" when not set
//   source_path     "" (set by systemd for generated units only)
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "linux/tables/named_paths.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

namespace fs = std::filesystem;

constexpr const char* kEtcDir = "/etc/systemd/system";
constexpr const char* kUnitDirs[] = {kEtcDir, "/lib/systemd/system", "/usr/lib/systemd/system"};
constexpr size_t kMaxEntries = 20000;  // per directory
constexpr size_t kMaxUnitBytes = 1 << 20;

bool IsUnitName(std::string_view name) {
  static constexpr std::string_view kSuffixes[] = {".service", ".socket",    ".target", ".timer",
                                                   ".mount",   ".automount", ".path",   ".swap",
                                                   ".slice",   ".scope",     ".device"};
  if (name.empty() || name.front() == '.') return false;
  return std::any_of(std::begin(kSuffixes), std::end(kSuffixes), [&](std::string_view s) {
    return name.size() > s.size() && name.ends_with(s);
  });
}

// "getty@tty1.service" -> "getty@.service"; other names unchanged.
std::string TemplateOf(std::string_view id) {
  const size_t at = id.find('@');
  const size_t dot = id.find_last_of('.');
  if (at == std::string_view::npos || dot == std::string_view::npos || dot < at)
    return std::string(id);
  return std::string(id.substr(0, at + 1)) + std::string(id.substr(dot));
}

// systemd's bus_label_escape: letters and digits kept, any other byte as _xx.
std::string ObjectPath(std::string_view id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "/org/freedesktop/systemd1/unit/";
  for (const char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += c;
    } else {
      out += '_';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

struct UnitFile {
  std::string description;
  std::string user;
  bool installable = false;  // [Install] names something to link
};

UnitFile ParseUnit(std::string_view text) {
  UnitFile unit;
  std::string section;
  for (std::string_view line : Lines(text)) {
    line = Trim(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      section = close == std::string_view::npos ? "" : std::string(line.substr(1, close - 1));
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (section == "Unit" && key == "Description") unit.description = std::string(value);
    if (section == "Service" && key == "User") unit.user = std::string(value);
    if (section == "Install" && !value.empty() &&
        (key == "WantedBy" || key == "RequiredBy" || key == "UpheldBy" || key == "Alias" ||
         key == "Also"))
      unit.installable = true;
  }
  return unit;
}

// The names of the links in /etc/systemd/system/*.wants/ and *.requires/.
std::set<std::string> EnabledNames(const TableEnv& env) {
  std::set<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(env.Path(kEtcDir), ec);
  for (size_t n = 0; !ec && it != fs::directory_iterator() && n < kMaxEntries;
       it.increment(ec), ++n) {
    const std::string dir = it->path().filename().string();
    if (!dir.ends_with(".wants") && !dir.ends_with(".requires")) continue;
    std::error_code ec2;
    fs::directory_iterator links(it->path(), ec2);
    for (size_t m = 0; !ec2 && links != fs::directory_iterator() && m < kMaxEntries;
         links.increment(ec2), ++m) {
      const std::string name = links->path().filename().string();
      if (IsUnitName(name)) names.insert(TemplateOf(name));
    }
  }
  return names;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  // id -> the host path where it was found first.
  std::map<std::string, std::string> units;
  for (const char* dir : kUnitDirs) {
    std::error_code ec;
    fs::directory_iterator it(env.Path(dir), ec);
    for (size_t n = 0; !ec && it != fs::directory_iterator() && n < kMaxEntries;
         it.increment(ec), ++n) {
      if (env.stopped()) return "";
      const std::string name = it->path().filename().string();
      if (!IsUnitName(name)) continue;
      const fs::file_status st = it->symlink_status(ec);
      if (ec) break;
      if (fs::is_regular_file(st) || fs::is_symlink(st))
        units.emplace(name, std::string(dir) + "/" + name);
    }
  }
  const std::set<std::string> enabled = EnabledNames(env);
  for (const auto& [id, path] : units) {
    if (env.stopped()) break;
    std::error_code ec;
    const fs::path host = env.Path(path);
    std::string state;
    std::optional<std::string> fragment;
    const bool link = fs::is_symlink(fs::symlink_status(host, ec));
    if (link) {
      const fs::path target = fs::read_symlink(host, ec);
      if (!ec && target == "/dev/null") state = "masked";
    }
    std::optional<UnitFile> unit;
    if (state.empty()) {
      const std::optional<std::string> real = ResolveUnderRoot(env, path);
      if (!real) continue;  // dangling link or a loop: no unit
      // A unit file is reported where it was found (/lib/systemd/system/ssh.service even
      // where /lib links to /usr/lib), a linked unit where its link leads.
      fragment = link ? *real : path;
      if (const std::optional<std::string> text = ReadFile(env.Path(*real), kMaxUnitBytes))
        unit = ParseUnit(*text);
      const std::string target_name = real->substr(real->find_last_of('/') + 1);
      if (target_name != id)
        state = "alias";
      else if (enabled.count(id))
        state = "enabled";
      else if (unit && !unit->installable)
        state = "static";
      else
        state = "disabled";
    }
    const Value load_state = state == "masked" ? Text("masked") : unit ? Text("loaded") : Value();
    if (!rows.Add({Text(id), Text(unit ? unit->description : ""), load_state, Value(), Value(),
                   Text(state), Value(), Text(ObjectPath(id)), Value(), Value(), Value(),
                   Text(fragment.value_or("")), Text(unit ? unit->user : ""), Text("")}))
      break;
  }
  return "";
}

}  // namespace

TableDef SystemdUnitsTable() {
  using T = ColumnType;
  return TableDef{"systemd_units",
                  "systemd unit files with their enablement state (read from disk, no D-Bus).",
                  {{"id", T::kText},
                   {"description", T::kText},
                   {"load_state", T::kText},
                   {"active_state", T::kText},
                   {"sub_state", T::kText},
                   {"unit_file_state", T::kText},
                   {"following", T::kText},
                   {"object_path", T::kText},
                   {"job_id", T::kBigInt},
                   {"job_type", T::kText},
                   {"job_path", T::kText},
                   {"fragment_path", T::kText},
                   {"user", T::kText},
                   {"source_path", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
