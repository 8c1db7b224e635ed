// file: metadata of the paths named by `path =`, `path LIKE` or `directory =`
// (named_paths.h); path or directory is required, so it never walks the disk on its own.
// osquery's columns; the Linux/macOS-only ones are hidden and NULL here.
//
// Read through a handle opened for attributes only (FILE_FLAG_OPEN_REPARSE_POINT: a
// symlink or junction is described itself, symlink = 1, and not followed):
//
//   inode, file_id    the NTFS file index (decimal; hex in file_id); device and
//                     volume_serial the volume's serial (decimal; "XXXX-XXXX")
//   size, hard_links  GetFileInformationByHandle
//   atime, mtime, btime  last access, last write and creation time; ctime the change
//                     time of FILE_BASIC_INFO (metadata change), as osquery
//   type              "directory", "regular" or "symlink" (a reparse point)
//   attributes        the set FILE_ATTRIBUTE_* names, comma-separated ("ARCHIVE,HIDDEN")
//   file_version, product_version  the numeric FILEVERSION and PRODUCTVERSION of the
//                     file's version resource ("10.0.19041.1"; version.dll), NULL without
//                     one
//   symlink_target_path  for a reparse point, the final path the system resolves it to
//                     (GetFinalPathNameByHandle, without the "\\?\" prefix)
//
// NULL (docs/windows-tables.md): uid, gid and mode (osquery derives them from the
// owner and ACL), block_size, original_filename and the shortcut (.lnk) columns.
#include "windows/tables/win_util.h"  // first: <windows.h>, which winver.h needs

#include <winver.h>

#include <cstdio>

#include "windows/tables/named_paths.h"
#include "windows/tables/tables.h"

namespace outpost::platform::windows_tables {
namespace {

std::string Attributes(DWORD a) {
  static const std::pair<DWORD, const char*> kNames[] = {
      {FILE_ATTRIBUTE_READONLY, "READONLY"},
      {FILE_ATTRIBUTE_HIDDEN, "HIDDEN"},
      {FILE_ATTRIBUTE_SYSTEM, "SYSTEM"},
      {FILE_ATTRIBUTE_DIRECTORY, "DIRECTORY"},
      {FILE_ATTRIBUTE_ARCHIVE, "ARCHIVE"},
      {FILE_ATTRIBUTE_NORMAL, "NORMAL"},
      {FILE_ATTRIBUTE_TEMPORARY, "TEMPORARY"},
      {FILE_ATTRIBUTE_SPARSE_FILE, "SPARSE_FILE"},
      {FILE_ATTRIBUTE_REPARSE_POINT, "REPARSE_POINT"},
      {FILE_ATTRIBUTE_COMPRESSED, "COMPRESSED"},
      {FILE_ATTRIBUTE_OFFLINE, "OFFLINE"},
      {FILE_ATTRIBUTE_NOT_CONTENT_INDEXED, "NOT_CONTENT_INDEXED"},
      {FILE_ATTRIBUTE_ENCRYPTED, "ENCRYPTED"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((a & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string FileName(const std::string& path) {
  const size_t cut = path.find_last_of("\\/");
  return cut == std::string::npos ? path : path.substr(cut + 1);
}

struct Versions {
  Value file, product;
};

std::string VersionText(DWORD ms, DWORD ls) {
  return std::to_string(HIWORD(ms)) + "." + std::to_string(LOWORD(ms)) + "." +
         std::to_string(HIWORD(ls)) + "." + std::to_string(LOWORD(ls));
}

Versions ReadVersions(const std::wstring& path) {
  Versions out;
  DWORD ignored = 0;
  const DWORD size = GetFileVersionInfoSizeW(path.c_str(), &ignored);
  if (size == 0 || size > (16u << 20)) return out;
  std::vector<BYTE> data(size);
  if (!GetFileVersionInfoW(path.c_str(), 0, size, data.data())) return out;
  void* block = nullptr;
  UINT len = 0;
  if (!VerQueryValueW(data.data(), L"\\", &block, &len) || block == nullptr ||
      len < sizeof(VS_FIXEDFILEINFO))
    return out;
  const auto* fixed = static_cast<const VS_FIXEDFILEINFO*>(block);
  if (fixed->dwSignature != 0xFEEF04BD) return out;
  out.file = Text(VersionText(fixed->dwFileVersionMS, fixed->dwFileVersionLS));
  out.product = Text(VersionText(fixed->dwProductVersionMS, fixed->dwProductVersionLS));
  return out;
}

// Where a reparse point leads; NULL when it cannot be resolved (a dangling link).
Value FinalPath(const std::wstring& path) {
  HANDLE h = CreateFileW(path.c_str(), FILE_READ_ATTRIBUTES,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Value();
  std::wstring buf(1024, L'\0');
  const DWORD n = GetFinalPathNameByHandleW(h, buf.data(), static_cast<DWORD>(buf.size()), 0);
  CloseHandle(h);
  if (n == 0 || n >= buf.size()) return Value();
  buf.resize(n);
  if (buf.rfind(L"\\\\?\\", 0) == 0) buf.erase(0, 4);
  return Text(Utf8(buf));
}

std::optional<std::vector<Value>> FileRow(const std::string& path, const std::string& directory) {
  HANDLE h =
      CreateFileW(Wide(path).c_str(), FILE_READ_ATTRIBUTES,
                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                  FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE) return std::nullopt;
  BY_HANDLE_FILE_INFORMATION info{};
  FILE_BASIC_INFO basic{};
  const bool have_info = GetFileInformationByHandle(h, &info) != 0;
  const bool have_basic = GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic) != 0;
  CloseHandle(h);
  if (!have_info) return std::nullopt;
  const DWORD a = info.dwFileAttributes;
  const bool link = (a & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
  const uint64_t index = (uint64_t{info.nFileIndexHigh} << 32) | info.nFileIndexLow;
  const uint64_t size = (uint64_t{info.nFileSizeHigh} << 32) | info.nFileSizeLow;
  char serial[16], id[24];
  std::snprintf(serial, sizeof serial, "%04X-%04X",
                static_cast<unsigned>(info.dwVolumeSerialNumber >> 16),
                static_cast<unsigned>(info.dwVolumeSerialNumber & 0xffff));
  std::snprintf(id, sizeof id, "0x%016llx", static_cast<unsigned long long>(index));
  Value ctime;
  if (have_basic) {
    FILETIME ft;
    ft.dwLowDateTime = static_cast<DWORD>(basic.ChangeTime.QuadPart & 0xffffffff);
    ft.dwHighDateTime = static_cast<DWORD>(static_cast<uint64_t>(basic.ChangeTime.QuadPart) >> 32);
    ctime = Value(UnixTime(ft));
  }
  const char* type = link ? "symlink" : (a & FILE_ATTRIBUTE_DIRECTORY) ? "directory" : "regular";
  const Versions versions =
      (a & FILE_ATTRIBUTE_DIRECTORY) != 0 || link ? Versions{} : ReadVersions(Wide(path));
  return std::vector<Value>{
      Text(path),
      Text(directory),
      Text(FileName(path)),
      Value(static_cast<int64_t>(index)),
      Value(),
      Value(),
      Value(),
      Value(static_cast<int64_t>(info.dwVolumeSerialNumber)),
      Value(static_cast<int64_t>(size)),
      Value(),
      Value(UnixTime(info.ftLastAccessTime)),
      Value(UnixTime(info.ftLastWriteTime)),
      ctime,
      Value(UnixTime(info.ftCreationTime)),
      Value(static_cast<int64_t>(info.nNumberOfLinks)),
      Value(int64_t{link ? 1 : 0}),
      Text(type),
      link ? FinalPath(Wide(path)) : Value(),
      Text(Attributes(a)),
      Text(serial),
      Text(id),
      versions.file,
      versions.product,
  };  // original_filename, the shortcut and hidden columns: NULL (padded)
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  ForEachNamedPath(env, query, 0, 1, [&](const std::string& path, const std::string& dir) {
    std::optional<std::vector<Value>> row = FileRow(path, dir);
    return !row || rows.Add(std::move(*row));
  });
  return "";
}

}  // namespace

TableDef FileTable() {
  using T = ColumnType;
  constexpr bool kReq = true, kIdx = true, kHidden = true;
  return TableDef{"file",
                  "File metadata of the paths named by path or directory.",
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
                   {"attributes", T::kText},
                   {"volume_serial", T::kText},
                   {"file_id", T::kText},
                   {"file_version", T::kText},
                   {"product_version", T::kText},
                   {"original_filename", T::kText},
                   {"shortcut_target_path", T::kText},
                   {"shortcut_target_type", T::kText},
                   {"shortcut_target_location", T::kText},
                   {"shortcut_start_in", T::kText},
                   {"shortcut_run", T::kText},
                   {"shortcut_comment", T::kText},
                   {"bsd_flags", T::kText, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
