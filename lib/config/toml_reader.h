// TableReader: reads one TOML table against the schema that the calls themselves
// declare (internal to lib/config; the only other file that sees toml++).
//
// Each getter names a key, its default and its documentation. In parse mode it looks
// the key up, checks its type and range, records a diagnostic on a problem (and keeps
// the default), and records the effective value for `config show`. In describe mode
// (no table) it only records the key's documentation. Finish() reports the keys of the
// table that no getter asked for, with the nearest known key as a hint.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/config_loader.h"

namespace outpost::config_internal {

// toml::parse, made safe for any input: toml++ 3.3 (Debian 12) reaches
// __builtin_unreachable(), undefined behaviour, when a non-ASCII character stands where
// it skips whitespace (upstream issues #190 and #295; found by tests/fuzz). TOML allows
// non-ASCII only in strings and comments, so this first looks for one anywhere else,
// or right after a line-ending backslash of a multi-line string, and throws
// toml::parse_error for it as toml++ would for any other syntax error.
toml::table ParseToml(std::string_view text, const std::string& file_name);

// "a string", "an integer", "a table", ...: a TOML value's kind, for error messages.
std::string TomlTypeName(const toml::node& node);

// Collects diagnostics, effective values and key docs for one document.
struct ReadContext {
  std::string file;
  std::filesystem::path base_dir;  // relative paths in the file are resolved against it
  bool describe = false;
  std::vector<ConfigDiagnostic> diagnostics;
  std::vector<ConfigValue> effective;
  std::vector<ConfigKeyDoc> docs;
  bool holds_secret = false;

  void Error(const toml::source_region& at, std::string key, std::string message,
             std::string hint = {});
  void Warning(const toml::source_region& at, std::string key, std::string message,
               std::string hint = {});
};

// A TOML basic string literal: "C:\\x" for C:\x.
std::string TomlQuote(std::string_view s);

struct KeyOptions {
  bool secret = false;
  bool required = false;
};

class TableReader {
 public:
  // `table` null means describe mode or an absent table: every getter returns its
  // default. `path` is the dotted table name ("buffer", "source.file").
  TableReader(ReadContext& ctx, const toml::table* table, std::string path, int index = -1,
              bool array_of_tables = false);

  std::string String(std::string_view key, std::string def, std::string_view doc,
                     KeyOptions opts = {});
  bool Bool(std::string_view key, bool def, std::string_view doc);
  int64_t Int(std::string_view key, int64_t def, int64_t min, int64_t max, std::string_view doc);
  Duration Dur(std::string_view key, Duration def, std::string_view doc,
               Duration min = Duration(0));
  uint64_t Size(std::string_view key, uint64_t def, std::string_view doc, uint64_t min = 0);
  // Returns the index of the chosen name in `choices`.
  size_t Enum(std::string_view key, size_t def, const std::vector<std::string>& choices,
              std::string_view doc);
  // A path; a relative one is resolved against the config file's directory.
  std::filesystem::path Path(std::string_view key, const std::filesystem::path& def,
                             std::string_view doc);
  // An array of paths, each resolved like Path().
  std::vector<std::filesystem::path> PathList(std::string_view key, std::string_view doc);
  std::vector<std::string> StringList(std::string_view key, std::string_view doc,
                                      KeyOptions opts = {});
  std::map<std::string, std::string> StringMap(std::string_view key, std::string_view doc);

  // A sub-table ("[buffer]" under the root). The callback reads it; `present` tells
  // whether the file has it.
  void Table(std::string_view key, std::string_view doc,
             const std::function<void(TableReader&, bool present)>& read);
  // An array of tables ("[[source.file]]"); the callback runs once per element (once
  // with no table in describe mode).
  void ArrayOfTables(std::string_view key, std::string_view doc,
                     const std::function<void(TableReader&, int index)>& read);

  // Reports keys that no getter asked for. Call after all getters.
  void Finish();

  bool describe() const { return ctx_.describe; }
  bool has(std::string_view key) const;
  // Position of the key's value, or of the table when the key is absent.
  toml::source_region where(std::string_view key) const;
  std::string KeyPath(std::string_view key) const;
  ReadContext& context() { return ctx_; }
  // A relative path made absolute against the config file's directory.
  std::filesystem::path Resolve(std::filesystem::path p) const;

 private:
  const toml::node* Lookup(std::string_view key);
  // The strings of an array key, with type and `required` errors reported.
  std::vector<std::string> ReadStrings(std::string_view key, KeyOptions opts);
  void Document(std::string_view key, std::string type, std::string def, std::string_view doc,
                KeyOptions opts = {});
  void Record(std::string_view key, ConfigValue v);
  void WrongType(std::string_view key, const toml::node& node, std::string_view expected);

  ReadContext& ctx_;
  const toml::table* table_;
  std::string path_;        // schema table name: "source.file.multiline"
  std::string key_prefix_;  // where its keys live: "source.file[0].multiline"
  int index_;
  bool array_of_tables_;
  std::vector<std::string> known_;
};

}  // namespace outpost::config_internal
