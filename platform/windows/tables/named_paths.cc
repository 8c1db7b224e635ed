// Expansion of the file/hash path constraints on Windows; see named_paths.h.
#include "windows/tables/named_paths.h"

#include <vector>

#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr int kMaxDepth = 32;

using Visit = std::function<bool(const std::string&, const std::string&)>;

bool IsSeparator(char c) { return c == '\\' || c == '/'; }

std::string Join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && IsSeparator(dir.back())) return dir + name;
  return dir + "\\" + name;
}

std::string Parent(const std::string& path) {
  size_t end = path.size();
  while (end > 0 && IsSeparator(path[end - 1])) --end;
  size_t cut = end;
  while (cut > 0 && !IsSeparator(path[cut - 1])) --cut;
  if (cut == 0) return "";
  // "C:\x" -> "C:\" (the root keeps its separator); "C:\a\b" -> "C:\a".
  if (cut <= 3 && cut >= 2 && path[1] == ':') return path.substr(0, cut);
  return path.substr(0, cut - 1);
}

// "C:", "C:\x", "\\server\share\x": absolute. "x", "\x" (drive-relative): not.
bool IsAbsolute(const std::string& p) {
  if (p.size() >= 3 && p[1] == ':' && IsSeparator(p[2])) return true;
  return p.size() >= 2 && IsSeparator(p[0]) && IsSeparator(p[1]);
}

bool HasWildcard(const std::string& s) { return s.find_first_of("%_") != std::string::npos; }

bool Exists(const std::string& path) {
  return GetFileAttributesW(Wide(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

struct Entry {
  std::string name;
  bool directory = false;
  bool reparse = false;
};

std::vector<Entry> List(const std::string& dir) {
  std::vector<Entry> out;
  WIN32_FIND_DATAW fd;
  HANDLE h = FindFirstFileW(Wide(Join(dir, "*")).c_str(), &fd);
  if (h == INVALID_HANDLE_VALUE) return out;
  do {
    const std::wstring n = fd.cFileName;
    if (n == L"." || n == L"..") continue;
    out.push_back({Utf8(n), (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0,
                   (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0});
  } while (FindNextFileW(h, &fd));
  FindClose(h);
  return out;
}

class Expander {
 public:
  Expander(const TableEnv& env, const Visit& visit) : env_(env), visit_(visit) {}

  bool Pattern(const std::string& pattern) {
    if (!IsAbsolute(pattern)) return true;
    // The fixed head (drive or \\server\share) is the first one or three components.
    std::vector<std::string> parts;
    std::string cur;
    for (char c : pattern) {
      if (IsSeparator(c)) {
        if (!cur.empty()) parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) parts.push_back(cur);
    if (parts.empty()) return true;
    const bool unc = IsSeparator(pattern[0]);
    const size_t head_parts = unc ? 2 : 1;
    if (parts.size() < head_parts) return true;
    std::string head = unc ? "\\\\" + parts[0] + "\\" + parts[1] : parts[0] + "\\";
    if (HasWildcard(parts[0]) || (unc && HasWildcard(parts[1]))) return true;
    return Step(head, parts, head_parts, 0);
  }

  bool Directory(const std::string& dir) {
    if (!IsAbsolute(dir)) return true;
    for (const Entry& e : List(dir))
      if (!Emit(Join(dir, e.name), dir)) return false;
    return true;
  }

 private:
  bool Emit(const std::string& path, const std::string& dir) {
    if (env_.stopped()) return false;
    return visit_(path, dir);
  }

  bool Step(const std::string& dir, const std::vector<std::string>& parts, size_t i, int depth) {
    if (env_.stopped()) return false;
    if (i == parts.size()) return Exists(dir) ? Emit(dir, Parent(dir)) : true;
    const std::string& part = parts[i];
    if (part == "%%" && i + 1 == parts.size()) return Recurse(dir, depth);
    if (!HasWildcard(part)) return Step(Join(dir, part), parts, i + 1, depth);
    for (const Entry& e : List(dir)) {
      if (!LikeMatch(e.name, part)) continue;
      const std::string child = Join(dir, e.name);
      if (i + 1 == parts.size()) {
        if (!Emit(child, dir)) return false;
      } else if (e.directory && !e.reparse && depth < kMaxDepth) {
        if (!Step(child, parts, i + 1, depth + 1)) return false;
      }
    }
    return true;
  }

  bool Recurse(const std::string& dir, int depth) {
    if (depth >= kMaxDepth) return true;
    for (const Entry& e : List(dir)) {
      const std::string child = Join(dir, e.name);
      if (!Emit(child, dir)) return false;
      if (e.directory && !e.reparse && !Recurse(child, depth + 1)) return false;
    }
    return true;
  }

  const TableEnv& env_;
  const Visit& visit_;
};

}  // namespace

bool ForEachNamedPath(const TableEnv& env, const TableQuery& query, size_t path_column,
                      size_t directory_column, const Visit& visit) {
  Expander expand(env, visit);
  for (const std::string& p : query.Texts(path_column)) {
    if (!IsAbsolute(p) || !Exists(p)) continue;
    if (env.stopped() || !visit(p, Parent(p))) return false;
  }
  for (const std::string& p : query.Texts(path_column, ConstraintOp::kLike))
    if (!expand.Pattern(p)) return false;
  for (const std::string& d : query.Texts(directory_column))
    if (!expand.Directory(d)) return false;
  return true;
}

}  // namespace outpost::platform::windows_tables
