// file: stat() metadata of the paths named by `path =`, `path LIKE` or `directory =`
// (named_paths.h); path or directory is required, so it never walks the disk on its own.
// osquery's columns; Windows/macOS-only ones are hidden and NULL here.
//
// A symlink is followed inside the root (symlink = 1, symlink_target_path = where it
// ends, the other columns describe the target); a dangling one is described itself,
// type "symlink". mode is the permission bits in octal text ("0644"); btime is the
// birth time from statx, 0 where the file system does not keep it.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>

#include "linux/tables/named_paths.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string_view TypeName(mode_t mode) {
  if (S_ISREG(mode)) return "regular";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISBLK(mode)) return "block";
  if (S_ISCHR(mode)) return "character";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  return "unknown";
}

std::string FileName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int64_t BirthTime(const std::filesystem::path& p) {
  struct statx stx;
  if (::statx(AT_FDCWD, p.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) != 0) return 0;
  return (stx.stx_mask & STATX_BTIME) ? static_cast<int64_t>(stx.stx_btime.tv_sec) : 0;
}

std::optional<std::vector<Value>> FileRow(const TableEnv& env, const std::string& path,
                                          const std::string& directory) {
  std::filesystem::path real = env.Path(path);
  struct stat st;
  if (::lstat(real.c_str(), &st) != 0) return std::nullopt;
  const bool is_link = S_ISLNK(st.st_mode);
  Value target;
  if (is_link) {
    if (const std::optional<std::string> resolved = ResolveUnderRoot(env, path)) {
      struct stat target_st;
      if (::lstat(env.Path(*resolved).c_str(), &target_st) == 0) {
        st = target_st;
        real = env.Path(*resolved);
        target = Text(*resolved);
      }
    }
  }
  char mode[16];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  std::vector<Value> row = {
      Text(path),
      Text(directory),
      Text(FileName(path)),
      Value(static_cast<int64_t>(st.st_ino)),
      Value(static_cast<int64_t>(st.st_uid)),
      Value(static_cast<int64_t>(st.st_gid)),
      Text(mode),
      Value(static_cast<int64_t>(st.st_rdev)),
      Value(static_cast<int64_t>(st.st_size)),
      Value(static_cast<int64_t>(st.st_blksize)),
      Value(static_cast<int64_t>(st.st_atim.tv_sec)),
      Value(static_cast<int64_t>(st.st_mtim.tv_sec)),
      Value(static_cast<int64_t>(st.st_ctim.tv_sec)),
      Value(BirthTime(real)),
      Value(static_cast<int64_t>(st.st_nlink)),
      Value(int64_t{is_link ? 1 : 0}),
      Text(TypeName(st.st_mode)),
      target,
  };
  return row;  // the Windows/macOS and namespace columns: NULL (padded)
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  ForEachNamedPath(env, query, 0, 1, [&](const std::string& path, const std::string& dir) {
    std::optional<std::vector<Value>> row = FileRow(env, path, dir);
    return !row || rows.Add(std::move(*row));
  });
  return "";
}

}  // namespace

TableDef FileTable() {
  using T = ColumnType;
  constexpr bool kReq = true, kIdx = true, kHidden = true;
  return TableDef{"file",
                  "File metadata (stat) of the paths named by path or directory.",
                  {{"path", T::kText, kReq, kIdx},
                   {"directory", T::kText, kReq},
                   {"filename", T::kText},
                   {"inode", T::kBigInt},
                   {"uid", T::kBigInt},
                   {"gid", T::kBigInt},
                   {"mode", T::kText},
                   {"device", T::kBigInt},
                   {"size", T::kBigInt},
                   {"block_size", T::kInteger},
                   {"atime", T::kBigInt},
                   {"mtime", T::kBigInt},
                   {"ctime", T::kBigInt},
                   {"btime", T::kBigInt},
                   {"hard_links", T::kInteger},
                   {"symlink", T::kInteger},
                   {"type", T::kText},
                   {"symlink_target_path", T::kText},
                   {"attributes", T::kText, false, false, kHidden},
                   {"volume_serial", T::kText, false, false, kHidden},
                   {"file_id", T::kText, false, false, kHidden},
                   {"file_version", T::kText, false, false, kHidden},
                   {"product_version", T::kText, false, false, kHidden},
                   {"original_filename", T::kText, false, false, kHidden},
                   {"shortcut_target_path", T::kText, false, false, kHidden},
                   {"shortcut_target_type", T::kText, false, false, kHidden},
                   {"shortcut_target_location", T::kText, false, false, kHidden},
                   {"shortcut_start_in", T::kText, false, false, kHidden},
                   {"shortcut_run", T::kText, false, false, kHidden},
                   {"shortcut_comment", T::kText, false, false, kHidden},
                   {"bsd_flags", T::kText, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
