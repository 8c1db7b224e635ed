// /etc/passwd and /etc/group parsed directly (never getpwent: the static binary has no
// NSS, and the file is read below TableEnv::root). Shared by users, groups and
// authorized_keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "outpost/platform/table.h"

namespace outpost::platform::linux_tables {

struct PasswdEntry {
  std::string username;
  int64_t uid = 0;  // as written: 4294967294 stays positive (uid_signed says -2)
  int64_t gid = 0;
  std::string gecos;
  std::string directory;
  std::string shell;
};

struct GroupEntry {
  std::string groupname;
  int64_t gid = 0;
};

// The well-formed entries of root/etc/passwd (7 fields, numeric uid and gid, no NUL or
// other control bytes in the name); the rest are skipped. Empty when the file is missing.
std::vector<PasswdEntry> ReadPasswd(const TableEnv& env);

// The well-formed entries of root/etc/group (4 fields, numeric gid).
std::vector<GroupEntry> ReadGroups(const TableEnv& env);

// A uid/gid as the signed 32-bit value osquery's *_signed columns show (4294967294 -> -2).
int64_t SignedId(int64_t id);

}  // namespace outpost::platform::linux_tables
