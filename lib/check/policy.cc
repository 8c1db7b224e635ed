#include "check/policy.h"

#include "config/toml_reader.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <tuple>

#include <toml++/toml.h>

#include "util/text.h"

namespace outpost {
namespace {

constexpr uintmax_t kMaxPolicyBytes = 4 * 1024 * 1024;
constexpr size_t kMaxIdLength = 128;

constexpr std::array<std::string_view, 5> kSeverities = {"info", "low", "medium", "high",
                                                         "critical"};
const std::vector<std::string> kPlatforms = {"linux", "windows", "macos", "posix", "all"};
const std::vector<std::string> kKeys = {"id",        "title",    "description", "severity",
                                        "platforms", "interval", "query",       "remediation"};

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::vector<std::string> Quoted(const std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(Quote(s));
  return out;
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Reads one [[check]] table; reports into `errors` tagged with the check's name.
class CheckReader {
 public:
  CheckReader(const std::string& file, const toml::table& table, int index,
              std::vector<PolicyError>& errors)
      : file_(file), table_(table), errors_(errors), name_("#" + std::to_string(index + 1)) {}

  void Error(const toml::source_region& at, std::string message, std::string hint = {}) {
    PolicyError e;
    e.file = file_;
    e.line = static_cast<int>(at.begin.line);
    e.column = static_cast<int>(at.begin.column);
    e.check = name_;
    e.message = std::move(message);
    e.hint = std::move(hint);
    errors_.push_back(std::move(e));
    ++count_;
  }

  // A string key; `required` ones must be present and not blank.
  std::string String(std::string_view key, bool required, std::string_view example) {
    const toml::node* n = table_.get(key);
    if (n == nullptr) {
      if (required)
        Error(table_.source(), "missing required key '" + std::string(key) + "'",
              "add " + std::string(key) + " = " + std::string(example));
      return {};
    }
    const auto* s = n->as_string();
    if (s == nullptr) {
      Error(
          n->source(),
          "'" + std::string(key) + "' must be a string, found " + config_internal::TomlTypeName(*n),
          "write " + std::string(key) + " = " + std::string(example));
      return {};
    }
    if (required && s->get().find_first_not_of(" \t\r\n") == std::string::npos)
      Error(n->source(), "'" + std::string(key) + "' must not be empty",
            "write " + std::string(key) + " = " + std::string(example));
    return s->get();
  }

  void set_name(std::string id) { name_ = std::move(id); }
  int count() const { return count_; }
  const toml::table& table() const { return table_; }

 private:
  const std::string& file_;
  const toml::table& table_;
  std::vector<PolicyError>& errors_;
  std::string name_;
  int count_ = 0;
};

// Parses one [[check]] table into `out`; false when it has errors (reported).
bool ReadCheck(CheckReader& r, const PolicyOptions& options, Check& out) {
  const toml::table& t = r.table();
  out.line = static_cast<int>(t.source().begin.line);

  out.id = r.String("id", true, "\"ssh-root-login-disabled\"");
  if (!out.id.empty()) {
    if (ValidId(out.id)) {
      r.set_name(out.id);
    } else {
      r.Error(t.get("id")->source(),
              "id " + Quote(out.id) + " may only use letters, digits, '.', '_' and '-' (at most " +
                  std::to_string(kMaxIdLength) + ")",
              "e.g. id = \"ssh-root-login-disabled\"");
    }
  }
  out.title = r.String("title", true, "\"What the check makes sure of\"");
  out.description = r.String("description", false, "\"Why it matters\"");
  out.query = r.String("query", true, "\"SELECT 1 FROM users WHERE username = 'root'\"");
  out.remediation = r.String("remediation", true, "\"How to fix a failure\"");

  if (const toml::node* n = t.get("severity")) {
    const auto* s = n->as_string();
    const auto it =
        s ? std::find(kSeverities.begin(), kSeverities.end(), s->get()) : kSeverities.end();
    if (it != kSeverities.end()) {
      out.severity = static_cast<CheckSeverity>(it - kSeverities.begin());
    } else {
      const std::vector<std::string> names(kSeverities.begin(), kSeverities.end());
      const std::string near = s ? NearestWord(s->get(), names) : "";
      r.Error(n->source(),
              "'severity' is " + (s ? Quote(s->get()) : config_internal::TomlTypeName(*n)) +
                  ", expected " + JoinOr(Quoted(names)),
              near.empty() ? "write severity = \"medium\""
                           : "did you mean severity = " + Quote(near) + "?");
    }
  } else {
    r.Error(t.source(), "missing required key 'severity'",
            "add severity = \"medium\" (info, low, medium, high or critical)");
  }

  out.interval = options.default_interval;
  if (const toml::node* n = t.get("interval")) {
    if (const auto* s = n->as_string()) {
      Result<Duration> d = ParseDuration(s->get());
      if (!d.ok())
        r.Error(n->source(), "'interval': " + d.status().message(), "e.g. interval = \"1h\"");
      else if (*d < std::chrono::seconds(1))
        r.Error(n->source(), "'interval' must be at least 1s", "e.g. interval = \"1h\"");
      else
        out.interval = *d;
    } else {
      r.Error(n->source(),
              "'interval' must be a duration string, found " + config_internal::TomlTypeName(*n),
              "write it with a unit, e.g. interval = \"1h\"");
    }
  }

  if (const toml::node* n = t.get("platforms")) {
    const auto* a = n->as_array();
    if (a == nullptr) {
      r.Error(n->source(),
              "'platforms' must be an array of strings, found " + config_internal::TomlTypeName(*n),
              n->is_string() ? "write platforms = [" + Quote(n->as_string()->get()) + "]"
                             : "e.g. platforms = [\"linux\"]");
    } else if (a->empty()) {
      r.Error(n->source(), "'platforms' must not be empty",
              "leave it out for every OS, or name them, e.g. platforms = [\"linux\"]");
    } else {
      out.platforms.clear();
      for (const toml::node& el : *a) {
        const auto* s = el.as_string();
        if (s != nullptr &&
            std::find(kPlatforms.begin(), kPlatforms.end(), s->get()) != kPlatforms.end()) {
          out.platforms.push_back(s->get());
          continue;
        }
        const std::string near = s ? NearestWord(s->get(), kPlatforms) : "";
        r.Error(el.source(),
                "'platforms' has " + (s ? Quote(s->get()) : config_internal::TomlTypeName(el)) +
                    ", expected " + JoinOr(Quoted(kPlatforms)),
                near.empty() ? "" : "did you mean " + Quote(near) + "?");
      }
    }
  }

  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end()) continue;
    const std::string near = NearestWord(key, kKeys);
    r.Error(k.source(), "unknown key '" + key + "' in [[check]]",
            near.empty() ? "the keys are " + JoinOr(kKeys) : "did you mean '" + near + "'?");
  }
  return r.count() == 0;
}

PolicyError FileError(const std::string& file, std::string message, std::string hint = {}) {
  PolicyError e;
  e.file = file;
  e.message = std::move(message);
  e.hint = std::move(hint);
  return e;
}

bool ErrorBefore(const PolicyError& a, const PolicyError& b) {
  return std::tie(a.line, a.column) < std::tie(b.line, b.column);
}

}  // namespace

std::string_view CheckSeverityName(CheckSeverity severity) {
  const auto i = static_cast<size_t>(severity);
  return i < kSeverities.size() ? kSeverities[i] : "unknown";
}

bool CheckAppliesTo(const Check& check, std::string_view os) {
  return PlatformsInclude(check.platforms, os);
}

bool PlatformsInclude(const std::vector<std::string>& platforms, std::string_view os) {
  if (platforms.empty()) return true;
  for (const std::string& p : platforms) {
    if (p == "all" || p == os) return true;
    if (p == "posix" && (os == "linux" || os == "macos")) return true;
  }
  return false;
}

std::string PolicyError::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!check.empty()) s += "check '" + check + "': ";
  s += message;
  if (!hint.empty()) s += " (" + hint + ")";
  return s;
}

PolicyParseResult ParsePolicy(std::string_view text, const std::string& file_name,
                              const PolicyOptions& options) {
  PolicyParseResult result;
  toml::table doc;
  try {
    doc = config_internal::ParseToml(text, file_name);
  } catch (const toml::parse_error& e) {
    PolicyError err = FileError(file_name, "not valid TOML: " + std::string(e.description()),
                                "a policy is TOML: [[check]] entries of key = \"value\" lines");
    err.line = static_cast<int>(e.source().begin.line);
    err.column = static_cast<int>(e.source().begin.column);
    result.errors.push_back(std::move(err));
    return result;
  } catch (const std::exception& e) {
    result.errors.push_back(FileError(file_name, std::string("cannot parse: ") + e.what()));
    return result;
  }

  for (const auto& [k, v] : doc) {
    if (k.str() == "check") continue;
    PolicyError e =
        FileError(file_name, "unknown top-level key '" + std::string(k.str()) + "'",
                  NearestWord(k.str(), {"check"}).empty() ? "a policy holds only [[check]] entries"
                                                          : "did you mean [[check]]?");
    e.line = static_cast<int>(k.source().begin.line);
    e.column = static_cast<int>(k.source().begin.column);
    result.errors.push_back(std::move(e));
  }

  const toml::node* checks = doc.get("check");
  const toml::array* array = checks ? checks->as_array() : nullptr;
  if (checks != nullptr && array == nullptr) {
    PolicyError e = FileError(
        file_name,
        "'check' must be an array of tables, found " + config_internal::TomlTypeName(*checks),
        checks->is_table() ? "write [[check]] (two brackets), one per check"
                           : "write each check as a [[check]] table");
    e.line = static_cast<int>(checks->source().begin.line);
    e.column = static_cast<int>(checks->source().begin.column);
    result.errors.push_back(std::move(e));
  } else if (array == nullptr || array->empty()) {
    result.errors.push_back(FileError(file_name, "the policy has no [[check]] entries",
                                      "add at least one [[check]] with id, title, severity, "
                                      "query and remediation"));
  }

  std::map<std::string, int> seen;  // id -> line
  if (array != nullptr) {
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& el = *array->get(i);
      const toml::table* t = el.as_table();
      if (t == nullptr) {
        PolicyError e = FileError(
            file_name,
            "each 'check' entry must be a table, found " + config_internal::TomlTypeName(el),
            "write each check as a [[check]] table");
        e.line = static_cast<int>(el.source().begin.line);
        result.errors.push_back(std::move(e));
        continue;
      }
      CheckReader reader(file_name, *t, static_cast<int>(i), result.errors);
      Check check;
      check.policy_file = file_name;
      if (!ReadCheck(reader, options, check)) continue;
      const auto [it, inserted] = seen.emplace(check.id, check.line);
      if (!inserted) {
        reader.Error(t->get("id")->source(),
                     "id is already used by the check at line " + std::to_string(it->second),
                     "ids must be unique across all policies: rename one of them");
        continue;
      }
      result.checks.push_back(std::move(check));
    }
  }
  std::stable_sort(result.errors.begin(), result.errors.end(), ErrorBefore);
  if (!result.errors.empty()) result.checks.clear();
  return result;
}

PolicyParseResult LoadPolicyFile(const std::filesystem::path& path, const PolicyOptions& options) {
  const std::string name = path.string();
  PolicyParseResult failed;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    failed.errors.push_back(FileError(
        name,
        "cannot read policy file: " +
            (!std::filesystem::exists(status) ? std::string("no such file") : ec.message()),
        "check the path given to --policy or in checks.policies"));
    return failed;
  }
  if (!std::filesystem::is_regular_file(status)) {
    failed.errors.push_back(FileError(name, "policy path is not a regular file"));
    return failed;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxPolicyBytes) {
    failed.errors.push_back(FileError(
        name, "policy file is " + FormatSize(size) + ", more than the 4MiB a policy may be",
        "split it into several files"));
    return failed;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) {
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  if (!in) {
    failed.errors.push_back(FileError(name, "cannot read policy file (permission denied?)"));
    return failed;
  }
  return ParsePolicy(text, name, options);
}

PolicyParseResult LoadPolicies(const std::vector<std::filesystem::path>& paths,
                               const PolicyOptions& options) {
  PolicyParseResult all;
  std::map<std::string, const Check*> seen;
  std::vector<PolicyParseResult> loaded;
  loaded.reserve(paths.size());
  for (const auto& path : paths) {
    loaded.push_back(LoadPolicyFile(path, options));
    PolicyParseResult& r = loaded.back();
    for (auto& e : r.errors) all.errors.push_back(std::move(e));
    for (const Check& c : r.checks) {
      const auto [it, inserted] = seen.emplace(c.id, &c);
      if (inserted) continue;
      PolicyError e;
      e.file = c.policy_file;
      e.line = c.line;
      e.check = c.id;
      e.message = "id is already used by the check at " + it->second->policy_file + ":" +
                  std::to_string(it->second->line);
      e.hint = "ids must be unique across all policies: rename one of them";
      all.errors.push_back(std::move(e));
    }
  }
  if (!all.errors.empty()) return all;
  for (auto& r : loaded)
    for (auto& c : r.checks) all.checks.push_back(std::move(c));
  return all;
}

}  // namespace outpost
