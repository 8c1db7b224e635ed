// Glob matching and expansion for [[source.file]] paths (see glob.h).
//
// Parts: splitting a path into components (both separators, rooted or not);
// MatchComponent, the wildcard match of one component ('*', '?', '[...]');
// MatchComponents, the same greedy-with-backtrack match one level up, where "**" plays
// the part of '*' over whole components; and the Walker, which expands a pattern by
// running the pattern's components as a set of states over a directory tree, so each
// directory is listed once and every file name is matched component-wise (no regex).
#include "collect/glob.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "util/text.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

// Directories nested deeper than this below the root are reported, not walked: a
// guard against bind-mount loops, which "no symlinks during **" cannot see.
constexpr int kMaxWalkDepth = 256;

// How a path is rooted, after '\' has become '/': "x/y", "/x/y", or "//host/share".
enum class Rooting { kRelative, kRoot, kNetwork };

struct SplitPath {
  Rooting rooting = Rooting::kRelative;
  std::vector<std::string_view> parts;  // views into the normalized string; no empties
};

std::string Normalize(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\\', '/');
  return out;
}

// Splits a normalized path. Repeated and trailing separators are ignored.
SplitPath Split(std::string_view normalized) {
  SplitPath out;
  if (normalized.substr(0, 2) == "//") {
    out.rooting = Rooting::kNetwork;
  } else if (!normalized.empty() && normalized[0] == '/') {
    out.rooting = Rooting::kRoot;
  }
  size_t i = 0;
  while (i < normalized.size()) {
    const size_t slash = normalized.find('/', i);
    const size_t end = slash == std::string_view::npos ? normalized.size() : slash;
    if (end > i) out.parts.push_back(normalized.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

bool IsMeta(char c) { return c == '*' || c == '?' || c == '['; }

bool IsDoubleStar(std::string_view part) { return part == "**"; }

// Matches `c` against the bracket expression at pattern[open] == '['. On a well-formed
// expression sets *next to the index after its ']' and returns whether `c` is in the
// set; returns false with *next = npos when there is no closing ']' (then '[' is an
// ordinary character). A ']' right after "[", "[!" or "[^" is a member, not the end.
bool MatchBracket(std::string_view pattern, size_t open, unsigned char c, size_t* next) {
  size_t i = open + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < pattern.size()) {
    if (pattern[i] == ']' && !first) {
      *next = i + 1;
      return found != negate;
    }
    first = false;
    const auto lo = static_cast<unsigned char>(pattern[i]);
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      const auto hi = static_cast<unsigned char>(pattern[i + 2]);
      if (lo <= c && c <= hi) found = true;
      i += 3;
    } else {
      if (c == lo) found = true;
      ++i;
    }
  }
  *next = std::string_view::npos;
  return false;
}

// Wildcard match of one path component. '*' can only stretch; on a mismatch the last
// '*' takes one more character, which makes this linear-times-backtracks, not
// exponential.
bool MatchComponent(std::string_view pattern, std::string_view name) {
  size_t p = 0;
  size_t n = 0;
  size_t star_p = std::string_view::npos;
  size_t star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        star_p = ++p;
        star_n = n;
        continue;
      }
      if (c == '?') {
        ++p;
        ++n;
        continue;
      }
      bool literal = true;
      if (c == '[') {
        size_t next = 0;
        const bool in = MatchBracket(pattern, p, static_cast<unsigned char>(name[n]), &next);
        if (next != std::string_view::npos) {
          literal = false;
          if (in) {
            p = next;
            ++n;
            continue;
          }
        }
      }
      if (literal && c == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The same algorithm over components: "**" matches zero or more whole components.
bool MatchComponents(const std::vector<std::string_view>& pattern,
                     const std::vector<std::string_view>& path) {
  size_t p = 0;
  size_t n = 0;
  size_t star_p = std::string_view::npos;
  size_t star_n = 0;
  while (n < path.size()) {
    if (p < pattern.size() && IsDoubleStar(pattern[p])) {
      star_p = ++p;
      star_n = n;
      continue;
    }
    if (p < pattern.size() && MatchComponent(pattern[p], path[n])) {
      ++p;
      ++n;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && IsDoubleStar(pattern[p])) ++p;
  return p == pattern.size();
}

// The literal leading directory of a split pattern: its first `count` parts, rooted as
// the pattern is. "C:" alone would mean "the current directory of drive C", so a
// drive keeps its separator.
std::string RootString(const SplitPath& split, size_t count) {
  std::string out;
  if (split.rooting == Rooting::kNetwork) out = "//";
  if (split.rooting == Rooting::kRoot) out = "/";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += '/';
    out += split.parts[i];
  }
  if (split.rooting == Rooting::kRelative && count == 1 && out.size() == 2 && out[1] == ':') {
    out += '/';
  }
  return out;
}

// Number of leading parts, never the last one, without glob characters.
size_t LiteralPrefixLength(const SplitPath& split) {
  size_t count = 0;
  while (count + 1 < split.parts.size() && !HasGlobMeta(split.parts[count])) ++count;
  return count;
}

// A pattern compiled once, for matching many paths.
class CompiledGlob {
 public:
  explicit CompiledGlob(std::string_view pattern)
      : text_(Normalize(pattern)), split_(Split(text_)) {}
  CompiledGlob(const CompiledGlob&) = delete;  // split_ points into text_
  CompiledGlob& operator=(const CompiledGlob&) = delete;

  bool Matches(std::string_view path) const {
    const std::string normalized = Normalize(path);
    const SplitPath other = Split(normalized);
    // A relative pattern that starts with "**" matches below any root ("**/*.gz").
    const bool any_root = split_.rooting == Rooting::kRelative && !split_.parts.empty() &&
                          IsDoubleStar(split_.parts[0]);
    return (any_root || other.rooting == split_.rooting) &&
           MatchComponents(split_.parts, other.parts);
  }
  const SplitPath& split() const { return split_; }

 private:
  std::string text_;
  SplitPath split_;
};

// States are indexes into the pattern's parts: "the entries below this directory must
// match parts[i..]". Index == parts.size() means "this entry itself matches".
using States = std::vector<size_t>;

class Walker {
 public:
  Walker(const CompiledGlob& pattern, const std::vector<std::string>& exclude, size_t max,
         GlobExpansion& out)
      : parts_(pattern.split().parts), max_(max), out_(out) {
    excludes_.reserve(exclude.size());
    for (const auto& e : exclude) excludes_.push_back(std::make_unique<CompiledGlob>(e));
  }

  void Run(const std::string& root, size_t literal_parts) {
    States start;
    AddWithClosure(literal_parts, start);
    const fs::path root_path = PathFromUtf8(root);
    // "/a/**" matches "/a" itself, as GlobMatch says.
    if (!root.empty() && Contains(start, parts_.size())) {
      std::error_code ec;
      if (fs::exists(fs::symlink_status(root_path, ec))) AddMatch(root_path);
    }
    Walk(root_path, start, 0);
  }

 private:
  static bool Contains(const States& s, size_t i) {
    return std::find(s.begin(), s.end(), i) != s.end();
  }

  bool HasMore(const States& s) const {
    return std::any_of(s.begin(), s.end(), [&](size_t i) { return i < parts_.size(); });
  }

  // Adds state i and, since "**" may match nothing, every state right after a "**".
  void AddWithClosure(size_t i, States& s) const {
    for (;;) {
      if (!Contains(s, i)) s.push_back(i);
      if (i >= parts_.size() || !IsDoubleStar(parts_[i])) return;
      ++i;
    }
  }

  // The states after consuming one entry called `name`. Without `through_double` a
  // "**" may not consume it: used for symlinked directories, so a loop of links can
  // only be entered by a part that consumes pattern, never by "**".
  void Advance(const States& in, std::string_view name, bool through_double, States& out) const {
    out.clear();
    for (size_t i : in) {
      if (i >= parts_.size()) continue;
      if (IsDoubleStar(parts_[i])) {
        if (through_double) AddWithClosure(i, out);
      } else if (MatchComponent(parts_[i], name)) {
        AddWithClosure(i + 1, out);
      }
    }
  }

  bool Excluded(const fs::path& p) const {
    if (excludes_.empty()) return false;
    const std::string text = Utf8FromPath(p);
    return std::any_of(excludes_.begin(), excludes_.end(),
                       [&](const auto& e) { return e->Matches(text); });
  }

  void AddMatch(const fs::path& p) {
    if (Excluded(p)) return;
    if (out_.matches.size() >= max_) {
      out_.limited = true;
      stopped_ = true;
      return;
    }
    out_.matches.push_back(p);
  }

  struct Entry {
    std::string name;
    fs::directory_entry entry;
  };

  // Lists `dir` completely (and closes it) before anything below it is opened, so
  // the walk holds one directory handle at a time. Sorted by name so that a limited
  // expansion is the same on every run.
  bool List(const fs::path& dir, std::vector<Entry>& entries) {
    const fs::path open_as = dir.empty() ? fs::path(".") : dir;
    std::error_code ec;
    fs::directory_iterator it(open_as, fs::directory_options::none, ec);
    if (ec) {
      // A directory that does not exist (yet) is not an error: the file may appear.
      if (ec != std::errc::no_such_file_or_directory) {
        out_.errors.push_back("cannot read " + Utf8FromPath(open_as) + ": " + ec.message());
      }
      return false;
    }
    out_.directories.push_back(open_as);
    while (it != fs::directory_iterator()) {
      entries.push_back(Entry{Utf8FromPath(it->path().filename()), *it});
      it.increment(ec);
      if (ec) {
        out_.errors.push_back("cannot read " + Utf8FromPath(open_as) + ": " + ec.message());
        break;
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return true;
  }

  void Walk(const fs::path& dir, const States& states, int depth) {
    if (depth > kMaxWalkDepth) {
      out_.errors.push_back("not walking " + Utf8FromPath(dir) + ": more than " +
                            std::to_string(kMaxWalkDepth) + " directories deep");
      return;
    }
    std::vector<Entry> entries;
    if (!List(dir, entries)) return;
    States next;
    States next_strict;
    for (const Entry& e : entries) {
      Advance(states, e.name, true, next);
      if (next.empty()) continue;
      // A relative pattern walks "." but its matches are spelled without "./".
      const fs::path child = dir.empty() ? e.entry.path().filename() : e.entry.path();
      if (Contains(next, parts_.size())) AddMatch(child);
      if (stopped_) return;
      if (!HasMore(next)) continue;
      std::error_code ec;
      if (!e.entry.is_directory(ec)) continue;  // follows a symlink to see its target
      if (e.entry.is_symlink(ec)) {
        Advance(states, e.name, false, next_strict);
        if (HasMore(next_strict)) Walk(child, next_strict, depth + 1);
      } else {
        Walk(child, next, depth + 1);
      }
      if (stopped_) return;
    }
  }

  const std::vector<std::string_view>& parts_;
  std::vector<std::unique_ptr<CompiledGlob>> excludes_;
  size_t max_;
  GlobExpansion& out_;
  bool stopped_ = false;
};

void SortUnique(std::vector<fs::path>& v) {
  for (auto& p : v) p.make_preferred();
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void ExpandLiteral(const CompiledGlob& pattern, const std::vector<std::string>& exclude,
                   size_t max_matches, GlobExpansion& out) {
  const SplitPath& split = pattern.split();
  const std::string root = RootString(split, split.parts.empty() ? 0 : split.parts.size() - 1);
  const fs::path dir = root.empty() ? fs::path(".") : PathFromUtf8(root);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) out.directories.push_back(dir);
  if (split.parts.empty()) return;
  const fs::path path = PathFromUtf8(RootString(split, split.parts.size()));
  if (!fs::exists(fs::symlink_status(path, ec))) return;
  for (const auto& e : exclude) {
    if (GlobMatch(e, Utf8FromPath(path))) return;
  }
  if (max_matches == 0) {
    out.limited = true;
    return;
  }
  out.matches.push_back(path);
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  return CompiledGlob(pattern).Matches(path);
}

bool HasGlobMeta(std::string_view pattern) {
  return std::any_of(pattern.begin(), pattern.end(), IsMeta);
}

std::filesystem::path GlobRoot(std::string_view pattern) {
  const std::string normalized = Normalize(pattern);
  const SplitPath split = Split(normalized);
  const std::string root = RootString(split, LiteralPrefixLength(split));
  if (root.empty()) return fs::path(".");
  return PathFromUtf8(root).make_preferred();
}

GlobExpansion ExpandGlob(std::string_view pattern, const std::vector<std::string>& exclude,
                         size_t max_matches) {
  GlobExpansion out;
  // Fault barrier: the error_code overloads do not throw for file system errors, but
  // allocation and path conversion still can; one bad pattern must not stop a source.
  try {
    const CompiledGlob compiled(pattern);
    if (!HasGlobMeta(pattern)) {
      ExpandLiteral(compiled, exclude, max_matches, out);
    } else {
      const size_t literal = LiteralPrefixLength(compiled.split());
      Walker walker(compiled, exclude, max_matches, out);
      walker.Run(RootString(compiled.split(), literal), literal);
    }
  } catch (const std::exception& e) {
    out.errors.push_back(std::string("cannot expand ") + std::string(pattern) + ": " + e.what());
  } catch (...) {
    out.errors.push_back("cannot expand " + std::string(pattern) + ": unknown error");
  }
  SortUnique(out.matches);
  SortUnique(out.directories);
  return out;
}

}  // namespace outpost
