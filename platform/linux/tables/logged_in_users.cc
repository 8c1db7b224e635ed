// logged_in_users: the sessions recorded in utmp (/var/run/utmp, else /run/utmp), read
// as raw records instead of through getutxent so the file comes from TableEnv::root.
//
// Record layout: glibc's struct utmp on Linux for x86_64 and aarch64, 384 bytes, little
// endian, 32-bit times (the same on both, for compatibility with 32-bit programs):
//   offset size  field
//        0    2  ut_type    (short; then 2 bytes of padding)
//        4    4  ut_pid     (int32)
//        8   32  ut_line    tty, NUL-padded (not always NUL-terminated)
//       40    4  ut_id
//       44   32  ut_user
//       76  256  ut_host
//      332    4  ut_exit    (two shorts)
//      336    4  ut_session (int32)
//      340    8  ut_tv      (int32 tv_sec, int32 tv_usec)
//      348   16  ut_addr_v6
//      364   20  reserved
// A cut last record is ignored. Like osquery, records of pid 1 are skipped, and
// ut_type is named empty/runlevel/boot_time/new_time/old_time/init/login/user/dead/
// accounting ("unknown" otherwise).
#include <cstring>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr size_t kRecordSize = 384;
constexpr size_t kMaxBytes = kRecordSize * 20000;

int32_t Le32(const unsigned char* p) {
  return static_cast<int32_t>(static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                              static_cast<uint32_t>(p[2]) << 16 |
                              static_cast<uint32_t>(p[3]) << 24);
}

int16_t Le16(const unsigned char* p) {
  return static_cast<int16_t>(static_cast<uint16_t>(p[0] | p[1] << 8));
}

// A fixed-size char field up to its first NUL.
std::string Field(const unsigned char* p, size_t size) {
  const void* nul = std::memchr(p, 0, size);
  const size_t n = nul ? static_cast<size_t>(static_cast<const unsigned char*>(nul) - p) : size;
  return std::string(reinterpret_cast<const char*>(p), n);
}

std::string_view TypeName(int16_t type) {
  static constexpr std::string_view kNames[] = {"empty",    "runlevel",  "boot_time", "new_time",
                                                "old_time", "init",      "login",     "user",
                                                "dead",     "accounting"};
  return type >= 0 && type < 10 ? kNames[type] : "unknown";
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  std::optional<std::string> data = ReadFile(env.Path("/var/run/utmp"), kMaxBytes);
  if (!data) data = ReadFile(env.Path("/run/utmp"), kMaxBytes);
  if (!data) return "";
  const auto* bytes = reinterpret_cast<const unsigned char*>(data->data());
  for (size_t off = 0; off + kRecordSize <= data->size(); off += kRecordSize) {
    const unsigned char* r = bytes + off;
    const int32_t pid = Le32(r + 4);
    if (pid == 1) continue;
    if (!rows.Add({Text(TypeName(Le16(r))), Text(Field(r + 44, 32)), Text(Field(r + 8, 32)),
                   Text(Field(r + 76, 256)), Value(int64_t{Le32(r + 340)}), Value(int64_t{pid}),
                   Value(), Value()}))
      break;
  }
  return "";
}

}  // namespace

TableDef LoggedInUsersTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"logged_in_users",
                  "Login sessions recorded in utmp.",
                  {{"type", T::kText},
                   {"user", T::kText},
                   {"tty", T::kText},
                   {"host", T::kText},
                   {"time", T::kBigInt},
                   {"pid", T::kInteger},
                   {"sid", T::kText, false, false, kHidden},
                   {"registry_hive", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
