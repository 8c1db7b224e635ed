// Parsing outpost.toml and the texts made from its schema (example, reference, show).
#include "config/config_loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/config_schema.h"
#include "outpost/platform/file_security.h"

namespace outpost {

using config_internal::ReadConfigDocument;
using config_internal::ReadContext;
using config_internal::TableReader;
using config_internal::TomlQuote;

namespace {

constexpr uint64_t kMaxConfigBytes = 1 << 20;

ConfigDiagnostic FileError(const std::string& file, std::string message, std::string hint = {}) {
  ConfigDiagnostic d;
  d.file = file;
  d.message = std::move(message);
  d.hint = std::move(hint);
  return d;
}

void SortDiagnostics(std::vector<ConfigDiagnostic>& diags) {
  std::stable_sort(diags.begin(), diags.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
}

bool IsBareKey(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string TomlKey(std::string_view k) { return IsBareKey(k) ? std::string(k) : TomlQuote(k); }

std::string TomlValue(const ConfigValue& v) {
  switch (v.kind) {
    case ConfigValue::Kind::kString:
      return (v.secret && !v.text.empty()) ? "\"***\"" : TomlQuote(v.text);
    case ConfigValue::Kind::kInt:
      return std::to_string(v.number);
    case ConfigValue::Kind::kBool:
      return v.flag ? "true" : "false";
    case ConfigValue::Kind::kStringList: {
      std::string s = "[";
      for (size_t i = 0; i < v.list.size(); ++i) s += (i ? ", " : "") + TomlQuote(v.list[i]);
      return s + "]";
    }
    case ConfigValue::Kind::kStringMap: {
      if (v.map.empty()) return "{}";
      std::string s = "{ ";
      bool first = true;
      for (const auto& [k, val] : v.map) {
        s += (first ? "" : ", ") + TomlKey(k) + " = " + TomlQuote(val);
        first = false;
      }
      return s + " }";
    }
  }
  return "\"\"";
}

// Word-wraps `text` into "# " comment lines of at most `width` columns.
void AppendComment(std::string& out, std::string_view text, std::string_view indent = "") {
  constexpr size_t kWidth = 88;
  std::istringstream words{std::string(text)};
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && indent.size() + 2 + line.size() + 1 + word.size() > kWidth) {
      out += std::string(indent) + "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += std::string(indent) + "# " + line + "\n";
}

// Text safe inside Markdown (and a table cell): no HTML tags, emphasis or cell breaks.
std::string MarkdownText(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '|':
        out += "\\|";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '*':
        out += "\\*";
        break;
      case '_':
        out += "\\_";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::vector<ConfigKeyDoc> Describe(const ConfigParseOptions& options) {
  ReadContext ctx;
  ctx.describe = true;
  TableReader root(ctx, nullptr, "");
  Config cfg;
  ReadConfigDocument(root, cfg, options);
  return std::move(ctx.docs);
}

}  // namespace

std::string ConfigDiagnostic::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += is_error() ? ": error: " : ": warning: ";
  s += message;
  if (!hint.empty()) s += " (" + hint + ")";
  return s;
}

bool ConfigParseResult::ok() const { return error_count() == 0; }

size_t ConfigParseResult::error_count() const {
  return static_cast<size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                           [](const auto& d) { return d.is_error(); }));
}

ConfigParseResult ParseConfig(std::string_view text, const std::string& file_name,
                              const ConfigParseOptions& options) {
  ConfigParseResult result;
  result.config.agent.state_dir = options.default_state_dir;
  ReadContext ctx;
  ctx.file = file_name;
  ctx.base_dir = options.base_dir;
  toml::table doc;
  try {
    doc = config_internal::ParseToml(text, file_name);
  } catch (const toml::parse_error& e) {
    ConfigDiagnostic d;
    d.file = file_name;
    d.line = static_cast<int>(e.source().begin.line);
    d.column = static_cast<int>(e.source().begin.column);
    d.message = "invalid TOML: " + std::string(e.description());
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  TableReader root(ctx, &doc, "");
  ReadConfigDocument(root, result.config, options);
  root.Finish();
  SortDiagnostics(ctx.diagnostics);
  result.diagnostics = std::move(ctx.diagnostics);
  result.effective = std::move(ctx.effective);
  result.holds_secret = ctx.holds_secret;
  return result;
}

ConfigParseResult LoadConfigFile(const std::filesystem::path& path,
                                 const ConfigParseOptions& options) {
  const std::string name = path.string();
  ConfigParseResult failed;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    failed.diagnostics.push_back(FileError(
        name, "cannot read config file: " + (ec ? ec.message() : std::string("no such file")),
        "write one with 'outpost config init " + name + "', or pass --config FILE"));
    return failed;
  }
  if (!std::filesystem::is_regular_file(status)) {
    failed.diagnostics.push_back(FileError(name, "config path is not a regular file"));
    return failed;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxConfigBytes) {
    failed.diagnostics.push_back(FileError(
        name, "config file is " + FormatSize(size) + ", more than the 1MiB a config may be"));
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
    failed.diagnostics.push_back(FileError(name, "cannot read config file (permission denied?)"));
    return failed;
  }

  ConfigParseOptions opts = options;
  if (opts.base_dir.empty()) opts.base_dir = std::filesystem::absolute(path, ec).parent_path();
  ConfigParseResult result = ParseConfig(text, name, opts);
  result.config.source_file = path;
  if (result.holds_secret) {
    const platform::FilePrivacy p = platform::CheckFilePrivacy(path);
    if (!p.supported) {
      result.diagnostics.insert(result.diagnostics.begin(),
                                ConfigDiagnostic{ConfigDiagnostic::Severity::kWarning, name, 0, 0,
                                                 "", "file holds a secret and " + p.detail, ""});
    } else if (p.exposed) {
      result.diagnostics.insert(
          result.diagnostics.begin(),
          FileError(name, "file holds a secret (a token, passphrase or password) but " + p.detail,
                    "fix: " + p.fix));
    }
  }
  return result;
}

std::vector<ConfigKeyDoc> DescribeConfig(const ConfigParseOptions& options) {
  return Describe(options);
}

std::string ExampleConfig(const ConfigParseOptions& options) {
  std::string out =
      "# outpost.toml: configuration of the outpost agent.\n"
      "# Written by `outpost config init`. Every key is listed, commented out, with its\n"
      "# default; uncomment to change it. Reference: docs/config.md or `outpost config schema`.\n"
      "# Durations: \"500ms\", \"30s\", \"5m\", \"1h30m\", \"7d\". Sizes: \"512KiB\", \"256MiB\", "
      "\"1GB\".\n";
  // Sections left commented out: [output] (its presence turns shipping on) and the
  // sub-tables that have required keys.
  auto active_table = [](const std::string& t) {
    return t == "agent" || t == "buffer" || t == "source.file" || t == "checks" || t == "update";
  };
  bool after_header = true;
  for (const ConfigKeyDoc& d : Describe(options)) {
    if (d.key.empty()) {
      if (d.table == "source") continue;
      const bool active = active_table(d.table);
      out += "\n";
      AppendComment(out, d.doc);
      const std::string header = d.array_of_tables ? "[[" + d.table + "]]" : "[" + d.table + "]";
      out += (active ? "" : "# ") + header + "\n";
      after_header = true;
      continue;
    }
    const bool active = active_table(d.table);
    if (!after_header) out += "\n";  // a blank line between keys
    after_header = false;
    AppendComment(out, d.doc, "");
    if (active && d.table == "source.file" && d.key == "paths") {
      out += "paths = [" + TomlQuote(options.example_log_glob) + "]\n";
    } else if (active && d.table == "source.file" && d.key == "name") {
      out += "name = \"system-logs\"\n";
    } else {
      out += "# " + d.key + " = " + d.default_text + "\n";
    }
  }
  return out;
}

std::string RenderConfigToml(const std::vector<ConfigValue>& values) {
  // Values come in schema order: a table's own keys before its sub-tables.
  std::string out;
  std::string cur_table;
  int cur_index = -2;
  for (const ConfigValue& v : values) {
    if (v.table != cur_table || v.index != cur_index) {
      if (!out.empty()) out += "\n";
      out += v.array_element ? "[[" + v.table + "]]\n" : "[" + v.table + "]\n";
      cur_table = v.table;
      cur_index = v.index;
    }
    out += TomlKey(v.key) + " = " + TomlValue(v) + "\n";
  }
  return out;
}

std::string ConfigReferenceMarkdown() {
  std::string out;
  ConfigParseOptions opts;
  for (const ConfigKeyDoc& d : Describe(opts)) {
    if (d.key.empty()) {
      if (!out.empty()) out += "\n";
      out += d.array_of_tables ? "### `[[" + d.table + "]]`\n\n" : "### `[" + d.table + "]`\n\n";
      out += MarkdownText(d.doc) + "\n";
      if (d.table != "source") {
        out += "\n| key | type | default | description |\n|---|---|---|---|\n";
      }
      continue;
    }
    std::string desc = MarkdownText(d.doc);
    if (d.required) desc = "**Required.** " + desc;
    if (d.secret) desc += " *Secret: shown as `***`.*";
    std::string def = d.default_text;
    for (size_t pos = 0; (pos = def.find('|', pos)) != std::string::npos; pos += 2)
      def.replace(pos, 1, "\\|");
    out += "| `" + d.key + "` | " + MarkdownText(d.type) + " | `" + def + "` | " + desc + " |\n";
  }
  return out;
}

}  // namespace outpost
