// Reading outpost.toml: parse, validate, report every problem with its position.
//
// ParseConfig never throws and never stops at the first semantic problem: it fills a
// Config with what is valid (defaults elsewhere) and returns every diagnostic, each
// with file:line:column, what was expected and, for unknown keys, the nearest known
// key. Only a TOML syntax error stops parsing (the rest of the file cannot be read).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace outpost {

struct ConfigDiagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;  // 1-based; 0 when the problem has no position (e.g. file mode)
  int column = 0;
  std::string key;      // dotted key path, e.g. "source.file[0].paths"
  std::string message;  // what is wrong and what was expected
  std::string hint;     // e.g. "did you mean 'max_bytes'?"; may be empty

  bool is_error() const { return severity == Severity::kError; }
  // "<file>:<line>:<col>: error: <message> (<hint>)"
  std::string ToString() const;
};

// One effective setting, as `config show` prints it.
struct ConfigValue {
  enum class Kind { kString, kInt, kBool, kStringList, kStringMap };
  std::string table;           // "buffer", "source.file", "source.file.multiline"
  int index = -1;              // element of an array of tables, or -1
  bool array_element = false;  // `table` is the array of tables itself ([[table]])
  std::string key;
  Kind kind = Kind::kString;
  std::string text;  // kString (durations and sizes in their canonical text form)
  int64_t number = 0;
  bool flag = false;
  std::vector<std::string> list;
  std::map<std::string, std::string> map;
  bool secret = false;  // printed as "***" (only when set)
};

// One key of the schema, as `config schema` and docs/config.md list it.
struct ConfigKeyDoc {
  std::string table;  // "buffer", "source.file" ([[source.file]])
  bool array_of_tables = false;
  std::string key;
  std::string type;  // "string", "duration", "size", "integer (1-22)", "one of: a, b"
  std::string default_text;
  std::string doc;
  bool secret = false;
  bool required = false;
};

struct ConfigParseOptions {
  std::filesystem::path default_state_dir;  // the OS default (platform/paths.h)
  std::filesystem::path base_dir;  // relative paths resolve here; LoadConfigFile: the file's dir
  std::string example_log_glob = "/var/log/*.log";  // for ExampleConfig
};

struct ConfigParseResult {
  Config config;
  std::vector<ConfigDiagnostic> diagnostics;
  std::vector<ConfigValue> effective;
  bool holds_secret = false;  // token, passphrase or proxy password set inline

  bool ok() const;
  size_t error_count() const;
};

// Parses TOML text; `file_name` is used in diagnostics only.
ConfigParseResult ParseConfig(std::string_view text, const std::string& file_name,
                              const ConfigParseOptions& options);

// Reads and parses a file (at most 1 MiB), then applies the file checks: a config
// that holds a secret must not be readable by group or others (POSIX); a token_file
// must exist and be private too.
ConfigParseResult LoadConfigFile(const std::filesystem::path& path,
                                 const ConfigParseOptions& options);

// The schema, in declaration order; defaults that depend on the OS come from `options`.
std::vector<ConfigKeyDoc> DescribeConfig(const ConfigParseOptions& options = {});

// A commented example config (`config init`): valid as written, every key shown.
std::string ExampleConfig(const ConfigParseOptions& options);

// The effective settings as TOML, secrets as "***".
std::string RenderConfigToml(const std::vector<ConfigValue>& values);

// The key reference of docs/config.md, generated from the schema. OS-independent: the
// OS-dependent defaults are left empty and described in the text.
std::string ConfigReferenceMarkdown();

}  // namespace outpost
