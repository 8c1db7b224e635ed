// The paths that the `file` and `hash` tables report: those named by their required
// path/directory constraints, expanded under TableEnv::root.
//
//   path = '/etc/passwd'     that path (if it exists)
//   path LIKE '/etc/%.conf'  '%' and '_' match within one path component, so one level
//   path LIKE '/var/log/%%'  a final '%%' component: everything below, recursively
//                            (symlinked directories are not followed; depth <= 32)
//   directory = '/etc'       the entries of /etc, not recursing
//
// Paths are the absolute paths as the query spelt them (not prefixed by the root);
// relative paths name nothing. Entries come sorted by name. The walk stops when
// env.stopped() or when `visit` returns false.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "outpost/platform/table.h"

namespace outpost::platform::linux_tables {

// visit(path, directory): `directory` is the path's parent ("/etc" for "/etc/passwd"),
// or the directory constraint's text as given. Returns false when visit stopped it.
bool ForEachNamedPath(
    const TableEnv& env, const TableQuery& query, size_t path_column, size_t directory_column,
    const std::function<bool(const std::string& path, const std::string& directory)>& visit);

// SQL LIKE on one name: '%' any run, '_' one character, ASCII letters case-insensitive.
bool LikeMatch(std::string_view name, std::string_view pattern);

// Follows every symlink of the absolute `path` inside the root (an absolute link target
// is taken relative to the root, ".." never climbs above it), at most 40 links; the
// resulting absolute path, or nullopt when a component is missing or links loop.
std::optional<std::string> ResolveUnderRoot(const TableEnv& env, std::string_view path);

}  // namespace outpost::platform::linux_tables
