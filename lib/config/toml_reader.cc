#include "config/toml_reader.h"

#include <algorithm>
#include <cstdint>

#include "util/text.h"

namespace outpost::config_internal {
namespace {

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// Where toml++ would meet a non-ASCII character outside a string or comment (or just
// after a multi-line string's line-ending backslash), else npos.
size_t FindUnsafeNonAscii(std::string_view t) {
  enum class In { kNothing, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  In in = In::kNothing;
  size_t i = t.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // a byte-order mark, which toml++ skips
  auto at = [&](size_t k, std::string_view s) { return t.substr(k, s.size()) == s; };
  while (i < t.size()) {
    const char c = t[i];
    switch (in) {
      case In::kNothing:
        if (!IsAscii(c)) return i;
        if (c == '#') {
          in = In::kComment;
        } else if (at(i, "\"\"\"")) {
          in = In::kMultiBasic;
          i += 2;
        } else if (at(i, "'''")) {
          in = In::kMultiLiteral;
          i += 2;
        } else if (c == '"') {
          in = In::kBasic;
        } else if (c == '\'') {
          in = In::kLiteral;
        }
        break;
      case In::kComment:
      case In::kLiteral:
        if (c == '\n' || (in == In::kLiteral && c == '\'')) in = In::kNothing;
        break;
      case In::kBasic:
        if (c == '\\') {
          ++i;  // the escaped character, whatever it is
        } else if (c == '"' || c == '\n') {
          in = In::kNothing;
        }
        break;
      case In::kMultiBasic:
        if (c == '\\') {
          // A line-ending backslash: toml++ skips the whitespace and newlines after it.
          size_t k = i + 1;
          while (k < t.size() && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r')) ++k;
          if (k < t.size() && t[k] == '\n') {
            while (k < t.size() && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r' || t[k] == '\n'))
              ++k;
            if (k < t.size() && !IsAscii(t[k])) return k;
            i = k;
            continue;
          }
          ++i;  // an escape
        } else if (at(i, "\"\"\"")) {
          while (i + 1 < t.size() && t[i + 1] == '"') ++i;  // up to two quotes belong to the text
          in = In::kNothing;
        }
        break;
      case In::kMultiLiteral:
        if (at(i, "'''")) {
          while (i + 1 < t.size() && t[i + 1] == '\'') ++i;
          in = In::kNothing;
        }
        break;
    }
    ++i;
  }
  return std::string_view::npos;
}

// True for the code points that toml++ 3.3's is_non_ascii_horizontal_whitespace()
// has no answer for (its switch falls to TOML_UNREACHABLE); the same test as its
// generated code. None of them is whitespace.
bool TomlCannotClassify(char32_t c) {
  if (c < 0xA0 || c > 0xFEFF || c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
  const uint64_t index = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
  return ((uint64_t{1} << index) & 0x7FFFFFFFFFFFF75Eull) == 0 && index != 5 && index != 7;
}

// `text` with every such code point replaced by U+4E00, which toml++ classifies (as
// not whitespace, like them): the same syntax, the same lines and columns.
std::string WithClassifiableCodePoints(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    const size_t len = b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : 1;
    char32_t c = len == 2 ? (b0 & 0x1Fu) : (b0 & 0x0Fu);
    bool whole = len > 1 && i + len <= text.size();
    for (size_t k = 1; whole && k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      whole = (b & 0xC0) == 0x80;
      c = (c << 6) | (b & 0x3Fu);
    }
    if (whole && TomlCannotClassify(c)) {
      out += "\xE4\xB8\x80";
      i += len;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// The UTF-8 character at a 1-based line and column (columns count characters).
std::string CharacterAt(std::string_view text, const toml::source_position& pos) {
  size_t i = 0;
  for (toml::source_index line = 1; line < pos.line && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  for (toml::source_index col = 1; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (col++ == pos.column) break;
  }
  size_t end = i + 1;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
  return i < text.size() ? std::string(text.substr(i, end - i)) : std::string();
}

}  // namespace

toml::table ParseToml(std::string_view text, const std::string& file_name) {
  // First the text with nothing toml++ cannot classify: a syntax error there is the
  // same error at the same place in `text`. A document without one is valid TOML, where
  // toml++ classifies a non-ASCII character only after a multi-line string's
  // line-ending backslash: that case is refused below.
  const std::string safe = WithClassifiableCodePoints(text);
  if (safe != text) {
    try {
      (void)toml::parse(safe, file_name);
    } catch (const toml::parse_error& e) {
      // The message quotes the character at the error: the original, not the stand-in.
      std::string description(e.description());
      const std::string original = CharacterAt(text, e.source().begin);
      if (const size_t at = description.find("'\xE4\xB8\x80'");
          at != std::string::npos && !original.empty())
        description.replace(at + 1, 3, original);
      throw toml::parse_error(description.c_str(), e.source());
    }
  }
  if (const size_t bad = FindUnsafeNonAscii(text); bad != std::string_view::npos) {
    toml::source_position pos{1, 1};
    for (size_t i = 0; i < bad; ++i) {
      if (text[i] == '\n') {
        ++pos.line;
        pos.column = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++pos.column;  // columns count characters, as toml++'s do
      }
    }
    throw toml::parse_error(
        "a non-ASCII character outside a string or comment (or right after a line-ending "
        "backslash)",
        pos, std::make_shared<const std::string>(file_name));
  }
  return toml::parse(text, file_name);
}
namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::string TomlTypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string TomlQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

namespace {

ConfigDiagnostic MakeDiag(ConfigDiagnostic::Severity sev, const std::string& file,
                          const toml::source_region& at, std::string key, std::string message,
                          std::string hint) {
  ConfigDiagnostic d;
  d.severity = sev;
  d.file = file;
  d.line = static_cast<int>(at.begin.line);
  d.column = static_cast<int>(at.begin.column);
  d.key = std::move(key);
  d.message = std::move(message);
  d.hint = std::move(hint);
  return d;
}

}  // namespace

void ReadContext::Error(const toml::source_region& at, std::string key, std::string message,
                        std::string hint) {
  diagnostics.push_back(MakeDiag(ConfigDiagnostic::Severity::kError, file, at, std::move(key),
                                 std::move(message), std::move(hint)));
}

void ReadContext::Warning(const toml::source_region& at, std::string key, std::string message,
                          std::string hint) {
  diagnostics.push_back(MakeDiag(ConfigDiagnostic::Severity::kWarning, file, at, std::move(key),
                                 std::move(message), std::move(hint)));
}

TableReader::TableReader(ReadContext& ctx, const toml::table* table, std::string path, int index,
                         bool array_of_tables)
    : ctx_(ctx),
      table_(table),
      path_(std::move(path)),
      key_prefix_(array_of_tables && index >= 0 ? path_ + "[" + std::to_string(index) + "]"
                                                : path_),
      index_(index),
      array_of_tables_(array_of_tables) {}

std::string TableReader::KeyPath(std::string_view key) const {
  return key_prefix_.empty() ? std::string(key) : key_prefix_ + "." + std::string(key);
}

bool TableReader::has(std::string_view key) const {
  return table_ != nullptr && table_->get(key) != nullptr;
}

toml::source_region TableReader::where(std::string_view key) const {
  if (table_ == nullptr) return {};
  if (const toml::node* n = table_->get(key)) return n->source();
  return table_->source();
}

const toml::node* TableReader::Lookup(std::string_view key) {
  known_.emplace_back(key);
  return table_ ? table_->get(key) : nullptr;
}

void TableReader::Document(std::string_view key, std::string type, std::string def,
                           std::string_view doc, KeyOptions opts) {
  if (!ctx_.describe) return;
  ConfigKeyDoc d;
  d.table = path_;
  d.array_of_tables = array_of_tables_;
  d.key = std::string(key);
  d.type = std::move(type);
  d.default_text = std::move(def);
  d.doc = std::string(doc);
  d.secret = opts.secret;
  d.required = opts.required;
  ctx_.docs.push_back(std::move(d));
}

void TableReader::Record(std::string_view key, ConfigValue v) {
  if (ctx_.describe) return;
  v.table = path_;
  v.index = index_;
  v.array_element = array_of_tables_;
  v.key = std::string(key);
  ctx_.effective.push_back(std::move(v));
}

void TableReader::WrongType(std::string_view key, const toml::node& node,
                            std::string_view expected) {
  ctx_.Error(
      node.source(), KeyPath(key),
      "'" + KeyPath(key) + "' must be " + std::string(expected) + ", found " + TomlTypeName(node));
}

std::string TableReader::String(std::string_view key, std::string def, std::string_view doc,
                                KeyOptions opts) {
  Document(key, "string", TomlQuote(def), doc, opts);
  std::string out = std::move(def);
  if (const toml::node* n = Lookup(key)) {
    if (const auto* s = n->as_string()) {
      out = s->get();
      if (opts.secret && !out.empty()) ctx_.holds_secret = true;
    } else {
      WrongType(key, *n, "a string");
    }
  } else if (opts.required && table_ != nullptr) {
    ctx_.Error(table_->source(), KeyPath(key), "missing required key '" + KeyPath(key) + "'");
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kString;
  v.text = out;
  v.secret = opts.secret;
  Record(key, std::move(v));
  return out;
}

bool TableReader::Bool(std::string_view key, bool def, std::string_view doc) {
  Document(key, "boolean", def ? "true" : "false", doc);
  bool out = def;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* b = n->as_boolean())
      out = b->get();
    else
      WrongType(key, *n, "true or false");
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kBool;
  v.flag = out;
  Record(key, std::move(v));
  return out;
}

int64_t TableReader::Int(std::string_view key, int64_t def, int64_t min, int64_t max,
                         std::string_view doc) {
  const std::string range = std::to_string(min) + " to " + std::to_string(max);
  Document(key, "integer (" + range + ")", std::to_string(def), doc);
  int64_t out = def;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* i = n->as_integer()) {
      if (i->get() < min || i->get() > max) {
        ctx_.Error(n->source(), KeyPath(key),
                   "'" + KeyPath(key) + "' is " + std::to_string(i->get()) +
                       ", outside the allowed range " + range);
      } else {
        out = i->get();
      }
    } else {
      WrongType(key, *n, "an integer from " + range);
    }
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kInt;
  v.number = out;
  Record(key, std::move(v));
  return out;
}

Duration TableReader::Dur(std::string_view key, Duration def, std::string_view doc, Duration min) {
  Document(key, "duration", TomlQuote(FormatDuration(def)), doc);
  Duration out = def;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* s = n->as_string()) {
      Result<Duration> d = ParseDuration(s->get());
      if (!d.ok()) {
        ctx_.Error(n->source(), KeyPath(key), "'" + KeyPath(key) + "': " + d.status().message());
      } else if (*d < min) {
        ctx_.Error(n->source(), KeyPath(key),
                   "'" + KeyPath(key) + "' must be at least " + FormatDuration(min));
      } else {
        out = *d;
      }
    } else if (n->is_integer() || n->is_floating_point()) {
      ctx_.Error(n->source(), KeyPath(key),
                 "'" + KeyPath(key) + "' must be a duration string, found " + TomlTypeName(*n),
                 "write it with a unit, e.g. \"30s\" or \"5m\"");
    } else {
      WrongType(key, *n, "a duration string such as \"30s\"");
    }
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kString;
  v.text = FormatDuration(out);
  Record(key, std::move(v));
  return out;
}

uint64_t TableReader::Size(std::string_view key, uint64_t def, std::string_view doc, uint64_t min) {
  Document(key, "size", TomlQuote(FormatSize(def)), doc);
  uint64_t out = def;
  const toml::node* n = Lookup(key);
  if (n != nullptr && !n->is_string() && !n->is_integer()) {
    WrongType(key, *n, "a size such as \"256MiB\" or a number of bytes");
  } else if (n != nullptr) {
    Result<uint64_t> parsed =
        n->is_string() ? ParseSize(n->as_string()->get())
        : n->as_integer()->get() < 0
            ? Result<uint64_t>(InvalidArgument(
                  "negative size " + std::to_string(n->as_integer()->get()) + " is not allowed"))
            : Result<uint64_t>(static_cast<uint64_t>(n->as_integer()->get()));
    if (!parsed.ok()) {
      ctx_.Error(n->source(), KeyPath(key), "'" + KeyPath(key) + "': " + parsed.status().message());
    } else if (*parsed < min) {
      ctx_.Error(n->source(), KeyPath(key),
                 "'" + KeyPath(key) + "' must be at least " + FormatSize(min));
    } else {
      out = *parsed;
    }
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kString;
  v.text = FormatSize(out);
  Record(key, std::move(v));
  return out;
}

size_t TableReader::Enum(std::string_view key, size_t def, const std::vector<std::string>& choices,
                         std::string_view doc) {
  std::vector<std::string> quoted;
  for (const auto& c : choices) quoted.push_back(Quote(c));
  Document(key, "one of " + JoinOr(quoted), TomlQuote(choices[def]), doc);
  size_t out = def;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* s = n->as_string()) {
      const auto it = std::find(choices.begin(), choices.end(), s->get());
      if (it != choices.end()) {
        out = static_cast<size_t>(it - choices.begin());
      } else {
        const std::string near = NearestWord(s->get(), choices);
        ctx_.Error(n->source(), KeyPath(key),
                   "'" + KeyPath(key) + "' is " + Quote(s->get()) + ", expected " + JoinOr(quoted),
                   near.empty() ? "" : "did you mean " + Quote(near) + "?");
      }
    } else {
      WrongType(key, *n, JoinOr(quoted));
    }
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kString;
  v.text = choices[out];
  Record(key, std::move(v));
  return out;
}

std::filesystem::path TableReader::Path(std::string_view key, const std::filesystem::path& def,
                                        std::string_view doc) {
  Document(key, "path", TomlQuote(def.string()), doc);
  std::filesystem::path out = def;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* s = n->as_string()) {
      out = Resolve(s->get());
    } else {
      WrongType(key, *n, "a path string");
    }
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kString;
  v.text = out.string();
  Record(key, std::move(v));
  return out;
}

std::filesystem::path TableReader::Resolve(std::filesystem::path p) const {
  if (!p.empty() && p.is_relative() && !ctx_.base_dir.empty()) p = ctx_.base_dir / p;
  return p;
}

std::vector<std::string> TableReader::ReadStrings(std::string_view key, KeyOptions opts) {
  std::vector<std::string> out;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* a = n->as_array()) {
      for (size_t i = 0; i < a->size(); ++i) {
        const toml::node& el = *a->get(i);
        if (const auto* s = el.as_string())
          out.push_back(s->get());
        else
          ctx_.Error(el.source(), KeyPath(key),
                     "'" + KeyPath(key) + "' element " + std::to_string(i + 1) +
                         " must be a string, found " + TomlTypeName(el));
      }
    } else if (const auto* s = n->as_string()) {
      ctx_.Error(n->source(), KeyPath(key),
                 "'" + KeyPath(key) + "' must be an array of strings, found a string",
                 "write [" + Quote(s->get()) + "]");
    } else {
      WrongType(key, *n, "an array of strings");
    }
  }
  if (opts.required && table_ != nullptr) {
    const toml::node* n = table_->get(key);
    if (n == nullptr)
      ctx_.Error(table_->source(), KeyPath(key), "missing required key '" + KeyPath(key) + "'");
    else if (n->is_array() && n->as_array()->empty())
      ctx_.Error(n->source(), KeyPath(key), "'" + KeyPath(key) + "' must not be empty");
  }
  return out;
}

std::vector<std::string> TableReader::StringList(std::string_view key, std::string_view doc,
                                                 KeyOptions opts) {
  Document(key, "array of strings", "[]", doc, opts);
  std::vector<std::string> out = ReadStrings(key, opts);
  ConfigValue v;
  v.kind = ConfigValue::Kind::kStringList;
  v.list = out;
  Record(key, std::move(v));
  return out;
}

std::vector<std::filesystem::path> TableReader::PathList(std::string_view key,
                                                         std::string_view doc) {
  Document(key, "array of strings", "[]", doc);
  ConfigValue v;
  v.kind = ConfigValue::Kind::kStringList;
  std::vector<std::filesystem::path> out;
  for (const std::string& text : ReadStrings(key, {})) {
    out.push_back(Resolve(text));
    v.list.push_back(out.back().string());  // `config show` prints the resolved paths
  }
  Record(key, std::move(v));
  return out;
}

std::map<std::string, std::string> TableReader::StringMap(std::string_view key,
                                                          std::string_view doc) {
  Document(key, "table of strings", "{}", doc);
  std::map<std::string, std::string> out;
  if (const toml::node* n = Lookup(key)) {
    if (const auto* t = n->as_table()) {
      for (const auto& [k, val] : *t) {
        if (const auto* s = val.as_string())
          out[std::string(k.str())] = s->get();
        else
          ctx_.Error(val.source(), KeyPath(key) + "." + std::string(k.str()),
                     "'" + KeyPath(key) + "." + std::string(k.str()) +
                         "' must be a string, found " + TomlTypeName(val));
      }
    } else {
      WrongType(key, *n, "a table of strings, e.g. { env = \"prod\" }");
    }
  }
  ConfigValue v;
  v.kind = ConfigValue::Kind::kStringMap;
  v.map = out;
  Record(key, std::move(v));
  return out;
}

void TableReader::Table(std::string_view key, std::string_view doc,
                        const std::function<void(TableReader&, bool)>& read) {
  const toml::node* n = Lookup(key);
  const toml::table* t = nullptr;
  if (n != nullptr) {
    t = n->as_table();
    if (t == nullptr) WrongType(key, *n, "a table ([" + KeyPath(key) + "])");
  }
  std::string sub_path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  TableReader sub(ctx_, t, sub_path, index_, false);
  sub.key_prefix_ = KeyPath(key);
  sub.Document("", "table", "", doc);
  read(sub, t != nullptr);
  sub.Finish();
}

void TableReader::ArrayOfTables(std::string_view key, std::string_view doc,
                                const std::function<void(TableReader&, int)>& read) {
  const std::string sub_path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  const toml::node* n = Lookup(key);
  if (ctx_.describe) {
    TableReader sub(ctx_, nullptr, sub_path, -1, true);
    sub.Document("", "array of tables", "", doc);
    read(sub, 0);
    return;
  }
  if (n == nullptr) return;
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    ctx_.Error(n->source(), KeyPath(key),
               "'" + sub_path + "' must be an array of tables, found " + TomlTypeName(*n),
               n->is_table() ? "write [[" + sub_path + "]] (two brackets), one per entry" : "");
    return;
  }
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& el = *a->get(i);
    const toml::table* t = el.as_table();
    if (t == nullptr) {
      ctx_.Error(el.source(), sub_path,
                 "each '" + sub_path + "' entry must be a table, found " + TomlTypeName(el));
      continue;
    }
    TableReader sub(ctx_, t, sub_path, static_cast<int>(i), true);
    read(sub, static_cast<int>(i));
    sub.Finish();
  }
}

void TableReader::Finish() {
  if (table_ == nullptr || ctx_.describe) return;
  for (const auto& [k, v] : *table_) {
    const std::string name(k.str());
    if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
    const std::string near = NearestWord(name, known_);
    std::string where = path_.empty() ? "at the top level" : "in [" + path_ + "]";
    if (array_of_tables_) where = "in [[" + path_ + "]]";
    ctx_.Error(k.source(), KeyPath(name), "unknown key '" + name + "' " + where,
               near.empty() ? "" : "did you mean '" + near + "'?");
  }
}

}  // namespace outpost::config_internal
