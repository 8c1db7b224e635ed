// sshd_config (outpost's own table; osquery has none): the effective global settings of
// the OpenSSH server, read from /etc/ssh/sshd_config under the root.
//
// One row per keyword: keyword lower-cased ("permitrootlogin"), value as written (the
// rest of the line after the keyword and an optional '=', trailing " # comment"
// removed), file = the host path of the file that set it, line = its line number.
//
//   - As in sshd, the FIRST value of a keyword wins; later ones are ignored. Keywords
//     that sshd accumulates (hostkey, listenaddress, port, acceptenv, allowusers,
//     denyusers, allowgroups, denygroups, subsystem, setenv, hostcertificate) give one
//     row per occurrence, in reading order.
//   - `Include` is followed where it appears: each argument is a path (relative ones
//     are taken relative to /etc/ssh) whose file-name part may hold glob characters
//     (* ? [...]); matches are read in name order. Symbolic links are resolved inside
//     the root. Nesting is bounded (depth 16, 256 files) and a file already being read
//     is never read again, so an Include loop terminates. Include is not a row itself.
//   - Lines after a `Match` line, up to the end of that file, are conditional, not
//     global: they are skipped (Includes among them too). sshd -T with connection
//     parameters would be needed to evaluate them.
//   - Keywords this table's checks need that the files leave unset get a row with their
//     OpenSSH 9.2 (Debian 12) compiled-in default, file "(default)" and line 0:
//     permitrootlogin prohibit-password, passwordauthentication yes,
//     permitemptypasswords no, x11forwarding no, maxauthtries 6, pubkeyauthentication
//     yes, ignorerhosts yes, hostbasedauthentication no, loglevel INFO,
//     clientaliveinterval 0, logingracetime 120, usepam no, allowtcpforwarding yes,
//     permituserenvironment no.
//
// No /etc/ssh/sshd_config: no rows (no defaults either: sshd is not configured here).
// Lines that are not text (NUL or other control bytes) or whose keyword is not plain
// letters and digits are skipped, and so are keywords without a value.
#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "linux/tables/named_paths.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 16;
constexpr size_t kMaxFiles = 256;
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr const char* kMainFile = "/etc/ssh/sshd_config";

bool Repeatable(std::string_view keyword) {
  static const std::set<std::string_view> kRepeatable = {
      "hostkey",     "listenaddress", "port",      "acceptenv", "allowusers",     "denyusers",
      "allowgroups", "denygroups",    "subsystem", "setenv",    "hostcertificate"};
  return kRepeatable.count(keyword) != 0;
}

struct Default {
  const char* keyword;
  const char* value;
};
constexpr Default kDefaults[] = {{"permitrootlogin", "prohibit-password"},
                                 {"passwordauthentication", "yes"},
                                 {"permitemptypasswords", "no"},
                                 {"x11forwarding", "no"},
                                 {"maxauthtries", "6"},
                                 {"pubkeyauthentication", "yes"},
                                 {"ignorerhosts", "yes"},
                                 {"hostbasedauthentication", "no"},
                                 {"loglevel", "INFO"},
                                 {"clientaliveinterval", "0"},
                                 {"logingracetime", "120"},
                                 {"usepam", "no"},
                                 {"allowtcpforwarding", "yes"},
                                 {"permituserenvironment", "no"}};

struct Setting {
  std::string keyword;
  std::string value;
  std::string file;
  int64_t line = 0;
};

bool IsText(std::string_view line) {
  return std::none_of(line.begin(), line.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// The value without a trailing comment: a '#' after whitespace, outside double quotes.
std::string_view StripComment(std::string_view value) {
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"') quoted = !quoted;
    if (value[i] == '#' && !quoted && i > 0 && (value[i - 1] == ' ' || value[i - 1] == '\t'))
      return Trim(value.substr(0, i));
  }
  return value;
}

bool IsKeywordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool HasGlob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

class Reader {
 public:
  explicit Reader(const TableEnv& env) : env_(env) {}

  // Reads the host file `path` (absolute); false when it could not be read.
  bool File(const std::string& path, int depth) {
    if (depth > kMaxDepth || files_read_ >= kMaxFiles || env_.stopped()) return false;
    const std::optional<std::string> real = ResolveUnderRoot(env_, path);
    if (!real || open_.count(*real)) return false;
    const std::optional<std::string> text = ReadFile(env_.Path(*real), kMaxFileBytes);
    if (!text) return false;
    ++files_read_;
    open_.insert(*real);
    int64_t number = 0;
    for (std::string_view line : Lines(*text)) {
      ++number;
      line = Trim(line);
      if (line.empty() || line.front() == '#' || !IsText(line)) continue;
      const size_t end = line.find_first_of(" \t=");
      const std::string keyword = Lower(line.substr(0, end));
      std::string_view value;
      if (end != std::string_view::npos) {
        value = Trim(line.substr(end));
        if (!value.empty() && value.front() == '=') value = Trim(value.substr(1));
      }
      value = StripComment(value);
      if (keyword == "match") break;  // the rest of this file is conditional
      if (keyword == "include") {
        Include(value, depth);
        continue;
      }
      if (keyword.empty() || value.empty() ||
          !std::all_of(keyword.begin(), keyword.end(), IsKeywordChar))
        continue;
      if (!Repeatable(keyword) && !seen_.insert(keyword).second) continue;
      settings_.push_back({keyword, std::string(value), path, number});
    }
    open_.erase(*real);
    return true;
  }

  std::vector<Setting>& settings() { return settings_; }
  bool Seen(const std::string& keyword) const { return seen_.count(keyword) != 0; }

 private:
  void Include(std::string_view args, int depth) {
    for (std::string_view arg : Fields(args)) {
      std::string pattern(arg);
      if (pattern.size() >= 2 && pattern.front() == '"' && pattern.back() == '"')
        pattern = pattern.substr(1, pattern.size() - 2);
      if (pattern.empty()) continue;
      if (pattern.front() != '/') pattern = "/etc/ssh/" + pattern;
      const size_t slash = pattern.find_last_of('/');
      const std::string dir = slash == 0 ? "/" : pattern.substr(0, slash);
      const std::string name = pattern.substr(slash + 1);
      if (!HasGlob(name)) {
        File(pattern, depth + 1);
        continue;
      }
      if (HasGlob(dir)) continue;  // wildcards only in the file-name part
      const std::optional<std::string> real_dir = ResolveUnderRoot(env_, dir);
      if (!real_dir) continue;
      std::vector<std::string> matches;
      std::error_code ec;
      fs::directory_iterator it(env_.Path(*real_dir), ec);
      for (size_t n = 0; !ec && it != fs::directory_iterator() && n < 10000;
           it.increment(ec), ++n) {
        const std::string file = it->path().filename().string();
        if (file.front() == '.' && name.front() != '.') continue;  // as glob(3)
        if (::fnmatch(name.c_str(), file.c_str(), FNM_PERIOD) == 0) matches.push_back(file);
      }
      std::sort(matches.begin(), matches.end());
      for (const std::string& m : matches) File((dir == "/" ? "" : dir) + "/" + m, depth + 1);
    }
  }

  const TableEnv& env_;
  std::set<std::string> open_;  // real paths of the files being read (include stack)
  std::set<std::string> seen_;  // keywords set so far (first wins)
  std::vector<Setting> settings_;
  size_t files_read_ = 0;
};

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  Reader reader(env);
  if (!reader.File(kMainFile, 0)) return "";
  for (const Default& d : kDefaults)
    if (!reader.Seen(d.keyword)) reader.settings().push_back({d.keyword, d.value, "(default)", 0});
  for (const Setting& s : reader.settings())
    if (!rows.Add({Text(s.keyword), Text(s.value), Text(s.file), Value(s.line)})) break;
  return "";
}

}  // namespace

TableDef SshdConfigTable() {
  using T = ColumnType;
  return TableDef{
      "sshd_config",
      "Effective global settings of the OpenSSH server (sshd_config, with Includes "
      "followed and defaults for key settings).",
      {{"keyword", T::kText}, {"value", T::kText}, {"file", T::kText}, {"line", T::kInteger}},
      Generate};
}

}  // namespace outpost::platform::linux_tables
