// See passwd_file.h.
#include "linux/tables/passwd_file.h"

#include "linux/tables/table_util.h"

namespace outpost::platform::linux_tables {
namespace {

// A name is printable text: a line with NUL or other control bytes is garbage.
bool PlainText(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// An id is a decimal in [0, 2^32).
std::optional<int64_t> Id(std::string_view s) {
  const std::optional<int64_t> v = ToInt(s);
  if (!v || *v < 0 || *v > 0xffffffffLL || s.empty() || s.front() == '+') return std::nullopt;
  return v;
}

}  // namespace

std::vector<PasswdEntry> ReadPasswd(const TableEnv& env) {
  std::vector<PasswdEntry> out;
  const std::optional<std::string> text = ReadFile(env.Path("/etc/passwd"));
  if (!text) return out;
  for (const std::string_view line : Lines(*text)) {
    if (line.empty() || line.front() == '#' || !PlainText(line)) continue;
    const std::vector<std::string_view> f = Split(line, ':');
    if (f.size() != 7 || f[0].empty()) continue;
    const std::optional<int64_t> uid = Id(f[2]);
    const std::optional<int64_t> gid = Id(f[3]);
    if (!uid || !gid) continue;
    out.push_back(
        {std::string(f[0]), *uid, *gid, std::string(f[4]), std::string(f[5]), std::string(f[6])});
  }
  return out;
}

std::vector<GroupEntry> ReadGroups(const TableEnv& env) {
  std::vector<GroupEntry> out;
  const std::optional<std::string> text = ReadFile(env.Path("/etc/group"));
  if (!text) return out;
  for (const std::string_view line : Lines(*text)) {
    if (line.empty() || line.front() == '#' || !PlainText(line)) continue;
    const std::vector<std::string_view> f = Split(line, ':');
    if (f.size() != 4 || f[0].empty()) continue;
    const std::optional<int64_t> gid = Id(f[2]);
    if (!gid) continue;
    out.push_back({std::string(f[0]), *gid});
  }
  return out;
}

int64_t SignedId(int64_t id) { return static_cast<int32_t>(static_cast<uint32_t>(id)); }

}  // namespace outpost::platform::linux_tables
