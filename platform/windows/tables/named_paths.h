// The paths that the `file` and `hash` tables report on Windows: those named by their
// required path/directory constraints.
//
//   path = 'C:\Windows\win.ini'      that path (if it exists)
//   path LIKE 'C:\Windows\%.ini'     '%' and '_' match within one path component
//   path LIKE 'C:\Users\%%'          a final '%%' component: everything below,
//                                    recursively (reparse points are not followed;
//                                    depth <= 32)
//   directory = 'C:\Windows'         the entries of that directory, not recursing
//
// '\' and '/' both separate components; paths are reported as the query spelt them
// (joined with '\' below a pattern or directory). A relative path names nothing.
// Entries come in the order the file system lists them. The walk stops when
// env.stopped() or when `visit` returns false.
#pragma once

#include <functional>
#include <string>

#include "outpost/platform/table.h"

namespace outpost::platform::windows_tables {

// visit(path, directory): `directory` is the path's parent, or the directory
// constraint's text as given. Returns false when visit stopped it.
bool ForEachNamedPath(
    const TableEnv& env, const TableQuery& query, size_t path_column, size_t directory_column,
    const std::function<bool(const std::string& path, const std::string& directory)>& visit);

}  // namespace outpost::platform::windows_tables
