// mounts: mounted file systems from /proc/mounts, one row per line
//   "/dev/sda1 / ext4 rw,relatime 0 0"   device path type flags dump pass
// with the octal escapes of mount names (\040 space, \011 tab, \012 newline, \134
// backslash) decoded, as getmntent does for osquery.
//
// The block and inode numbers come from statvfs(path) and device_alias from
// realpath(device), which only mean something for the live system: when TableEnv::root
// is not "/" (a fixture tree) they are NULL and device_alias is the device as written.
#include <sys/statvfs.h>

#include <climits>
#include <cstdlib>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string_view oct = s.substr(i + 1, 3);
      if (oct[0] >= '0' && oct[0] <= '3' && oct[1] >= '0' && oct[1] <= '7' && oct[2] >= '0' &&
          oct[2] <= '7') {
        out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Only a path is resolved: "proc" or "tmpfs" would otherwise resolve against the
// current directory.
std::string RealPath(const std::string& device) {
  if (device.empty() || device.front() != '/') return device;
  char buf[PATH_MAX + 1] = {};
  return ::realpath(device.c_str(), buf) != nullptr ? std::string(buf) : device;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/mounts"));
  if (!text) return "";
  const bool live = env.root.lexically_normal() == "/";
  for (const std::string_view line : Lines(*text)) {
    if (env.stopped()) break;
    const std::vector<std::string_view> f = Fields(line, " \t");
    if (f.size() < 4) continue;
    const std::string device = Unescape(f[0]);
    const std::string path = Unescape(f[1]);
    if (device.find('\0') != std::string::npos || path.find('\0') != std::string::npos) continue;
    std::vector<Value> row = {Text(device), Text(live ? RealPath(device) : device), Text(path),
                              Text(Unescape(f[2]))};
    struct statvfs st {};
    if (live && ::statvfs(path.c_str(), &st) == 0) {
      for (const unsigned long long v : {static_cast<unsigned long long>(st.f_bsize),
                                         static_cast<unsigned long long>(st.f_blocks),
                                         static_cast<unsigned long long>(st.f_bfree),
                                         static_cast<unsigned long long>(st.f_bavail),
                                         static_cast<unsigned long long>(st.f_files),
                                         static_cast<unsigned long long>(st.f_ffree)})
        row.emplace_back(static_cast<int64_t>(v));
    } else {
      row.resize(row.size() + 6);
    }
    row.push_back(Text(Unescape(f[3])));
    if (!rows.Add(std::move(row))) break;
  }
  return "";
}

}  // namespace

TableDef MountsTable() {
  using T = ColumnType;
  return TableDef{"mounts",
                  "Mounted file systems from /proc/mounts, with block and inode counts.",
                  {{"device", T::kText},
                   {"device_alias", T::kText},
                   {"path", T::kText},
                   {"type", T::kText},
                   {"blocks_size", T::kBigInt},
                   {"blocks", T::kBigInt},
                   {"blocks_free", T::kBigInt},
                   {"blocks_available", T::kBigInt},
                   {"inodes", T::kBigInt},
                   {"inodes_free", T::kBigInt},
                   {"flags", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
