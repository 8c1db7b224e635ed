// deb_packages: the installed dpkg packages, parsed from the status file of dpkg's
// administrative directory (/var/lib/dpkg/status under the root; `admindir = '...'`
// reads <admindir>/status instead). osquery's columns:
//
//   name, version (as written, epoch and revision included: "1:2.36-9+deb12u4"), source
//   (the Source field as written, "" when absent), size (Installed-Size, KiB), arch,
//   revision (the Debian revision: the part of the version after its last '-', "" for
//   a native package), status (the Status field), maintainer, section, priority,
//   admindir.
//
// A package is listed when its Status says it is on the system: the third word is a
// dpkg state other than "not-installed" and "config-files" (so "install ok installed"
// and "hold ok installed" are, a removed package whose configuration remains is not),
// as osquery does through libdpkg. A stanza without Package or Status is skipped; a stanza cut
// short (the file truncated) yields the fields it has.
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr size_t kAdmindir = 10;  // column index, for constraints
constexpr const char* kDefaultAdmindir = "/var/lib/dpkg";
constexpr size_t kMaxStatusBytes = 256u << 20;

using Stanza = std::map<std::string, std::string>;

bool Installed(std::string_view status) {
  const std::vector<std::string_view> words = Fields(status);
  if (words.size() != 3) return false;
  for (const char* state : {"installed", "half-installed", "unpacked", "half-configured",
                            "triggers-awaited", "triggers-pending"})
    if (words[2] == state) return true;
  return false;  // not-installed, config-files, or not a dpkg state (a cut line)
}

bool Emit(const Stanza& s, const std::string& admindir, RowSink& rows) {
  auto get = [&](const char* key) {
    const auto it = s.find(key);
    return it == s.end() ? std::string() : it->second;
  };
  const std::string name = get("Package");
  const std::string status = get("Status");
  if (name.empty() || !Installed(status)) return true;
  const std::string version = get("Version");
  const size_t dash = version.find_last_of('-');
  const std::string revision = dash == std::string::npos ? "" : version.substr(dash + 1);
  const std::optional<int64_t> size = ToInt(get("Installed-Size"));
  return rows.Add({Text(name), Text(version), Text(get("Source")), Int(size),
                   Text(get("Architecture")), Text(revision), Text(status), Text(get("Maintainer")),
                   Text(get("Section")), Text(get("Priority")), Text(admindir), Value(), Value()});
}

// Every stanza of `text`; false when the sink stopped it.
bool ParseStatus(std::string_view text, const std::string& admindir, RowSink& rows) {
  Stanza stanza;
  for (std::string_view line : Lines(text)) {
    if (Trim(line).empty()) {
      if (!stanza.empty() && !Emit(stanza, admindir, rows)) return false;
      stanza.clear();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') continue;  // continuation line
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    stanza.emplace(std::string(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
  }
  return stanza.empty() || Emit(stanza, admindir, rows);
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  std::vector<std::string> dirs = query.Texts(kAdmindir);
  if (dirs.empty()) dirs.push_back(kDefaultAdmindir);
  for (std::string dir : dirs) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (dir.empty() || dir.front() != '/') continue;  // relative paths name nothing
    const std::optional<std::string> text = ReadFile(env.Path(dir + "/status"), kMaxStatusBytes);
    if (text && !ParseStatus(*text, dir, rows)) break;
  }
  return "";
}

}  // namespace

TableDef DebPackagesTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  constexpr bool kHidden = true;
  return TableDef{"deb_packages",
                  "Installed Debian packages, from dpkg's status file.",
                  {{"name", T::kText},
                   {"version", T::kText},
                   {"source", T::kText},
                   {"size", T::kBigInt},
                   {"arch", T::kText},
                   {"revision", T::kText},
                   {"status", T::kText},
                   {"maintainer", T::kText},
                   {"section", T::kText},
                   {"priority", T::kText},
                   {"admindir", T::kText, false, kIndex},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
