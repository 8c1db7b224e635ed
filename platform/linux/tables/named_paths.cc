// Expansion of the file/hash path constraints; see named_paths.h.
#include "linux/tables/named_paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <system_error>
#include <vector>

#include "linux/tables/table_util.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr int kMaxDepth = 32;
constexpr int kMaxLinks = 40;

using Visit = std::function<bool(const std::string&, const std::string&)>;

std::string Join(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string Parent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

bool HasWildcard(std::string_view s) { return s.find_first_of("%_") != std::string_view::npos; }

bool Exists(const TableEnv& env, const std::string& path) {
  struct stat st;
  return ::lstat(env.Path(path).c_str(), &st) == 0;
}

// Sorted names of a directory's entries; empty when it cannot be listed.
std::vector<std::string> List(const TableEnv& env, const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(env.Path(dir), ec), end; !ec && it != end;
       it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class Expander {
 public:
  Expander(const TableEnv& env, const Visit& visit) : env_(env), visit_(visit) {}

  // Returns false once stopped.
  bool Pattern(const std::string& pattern) {
    std::vector<std::string> parts;
    for (std::string_view p : Split(pattern, '/'))
      if (!p.empty() && p != ".") parts.emplace_back(p);
    return Step("/", parts, 0);
  }

  bool Directory(const std::string& dir) {
    for (const std::string& name : List(env_, dir))
      if (!Emit(Join(dir, name), dir)) return false;
    return true;
  }

 private:
  bool Emit(const std::string& path, const std::string& dir) {
    if (env_.stopped()) return false;
    return visit_(path, dir);
  }

  bool Step(const std::string& dir, const std::vector<std::string>& parts, size_t i) {
    if (env_.stopped()) return false;
    if (i == parts.size()) return dir == "/" ? true : Emit(dir, Parent(dir));
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (last && part == "%%") return Recurse(dir, 0);
    if (!HasWildcard(part)) {
      const std::string next = Join(dir, part);
      if (last) return Exists(env_, next) ? Emit(next, dir) : true;
      return Step(next, parts, i + 1);
    }
    for (const std::string& name : List(env_, dir)) {
      if (!LikeMatch(name, part)) continue;
      const std::string next = Join(dir, name);
      if (last) {
        if (!Emit(next, dir)) return false;
      } else {
        std::error_code ec;
        if (std::filesystem::is_directory(env_.Path(next), ec) && !Step(next, parts, i + 1))
          return false;
      }
    }
    return true;
  }

  // Every entry below `dir`, depth first; symlinked directories are listed, not entered.
  bool Recurse(const std::string& dir, int depth) {
    if (depth > kMaxDepth) return true;
    for (const std::string& name : List(env_, dir)) {
      const std::string next = Join(dir, name);
      if (!Emit(next, dir)) return false;
      struct stat st;
      if (::lstat(env_.Path(next).c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
          !Recurse(next, depth + 1))
        return false;
    }
    return true;
  }

  const TableEnv& env_;
  const Visit& visit_;
};

}  // namespace

bool LikeMatch(std::string_view name, std::string_view pattern) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  size_t n = 0, p = 0;
  size_t star_p = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_n = n;
    } else if (p < pattern.size() && (pattern[p] == '_' || lower(pattern[p]) == lower(name[n]))) {
      ++p;
      ++n;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

std::optional<std::string> ResolveUnderRoot(const TableEnv& env, std::string_view path) {
  std::deque<std::string> pending;
  for (std::string_view p : Split(path, '/'))
    if (!p.empty()) pending.emplace_back(p);
  std::vector<std::string> done;
  auto joined = [&] {
    std::string out;
    for (const std::string& c : done) out += "/" + c;
    return out.empty() ? std::string("/") : out;
  };
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    const std::string here = joined();
    struct stat st;
    if (::lstat(env.Path(here).c_str(), &st) != 0) return std::nullopt;
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > kMaxLinks) return std::nullopt;
    char buf[4096];
    const ssize_t len = ::readlink(env.Path(here).c_str(), buf, sizeof buf);
    if (len <= 0) return std::nullopt;
    const std::string_view target(buf, static_cast<size_t>(len));
    done.pop_back();
    if (target.front() == '/') done.clear();
    const std::vector<std::string_view> parts = Split(target, '/');
    for (auto it = parts.rbegin(); it != parts.rend(); ++it)
      if (!it->empty()) pending.emplace_front(*it);
  }
  return joined();
}

bool ForEachNamedPath(const TableEnv& env, const TableQuery& query, size_t path_column,
                      size_t directory_column, const Visit& visit) {
  Expander expand(env, visit);
  for (const std::string& path : query.Texts(path_column)) {
    if (path.empty() || path.front() != '/' || !Exists(env, path)) continue;
    if (env.stopped() || !visit(path, Parent(path))) return false;
  }
  for (const std::string& pattern : query.Texts(path_column, ConstraintOp::kLike)) {
    if (pattern.empty() || pattern.front() != '/') continue;
    if (!expand.Pattern(pattern)) return false;
  }
  for (const std::string& dir : query.Texts(directory_column)) {
    if (dir.empty() || dir.front() != '/') continue;
    if (!expand.Directory(dir)) return false;
  }
  return true;
}

}  // namespace outpost::platform::linux_tables
