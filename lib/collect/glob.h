// Globs for [[source.file]] paths and exclude: matching and expansion.
//
// Patterns use '/' (and on Windows also '\') as separator. '*' and '?' never cross a
// separator; "**" as a whole path component matches zero or more directories;
// "[abc]", "[a-z]" and "[!a]" match one character. A relative pattern starting with
// "**" ("**/*.gz") matches below any root, absolute paths included. Matching is byte-wise and
// case-sensitive. Expansion walks only below the pattern's literal root, never follows
// a symlinked directory during "**" recursion (a symlink loop cannot trap it), and
// reports unreadable directories instead of failing. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

// True when `path` (a full path, generic or native separators) matches `pattern`.
bool GlobMatch(std::string_view pattern, std::string_view path);

// True when the pattern holds any of * ? [ .
bool HasGlobMeta(std::string_view pattern);

// The longest leading directory of `pattern` without glob characters:
// "/var/log/**/*.log" -> "/var/log"; "/var/log/syslog" -> "/var/log".
std::filesystem::path GlobRoot(std::string_view pattern);

struct GlobExpansion {
  std::vector<std::filesystem::path> matches;      // entries matching, sorted, of any kind
  std::vector<std::filesystem::path> directories;  // directories walked (to watch)
  std::vector<std::string> errors;                 // "cannot read /x: Permission denied"
  bool limited = false;                            // stopped at max_matches
};

// Expands `pattern`, leaving out entries matching any of `exclude`. A pattern without
// glob characters yields itself if it exists (of any kind, so the caller can report
// "is a directory"). Stops after `max_matches` matches.
GlobExpansion ExpandGlob(std::string_view pattern, const std::vector<std::string>& exclude,
                         size_t max_matches = 100000);

}  // namespace outpost
