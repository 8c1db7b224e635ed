// Checks that a file holding a secret (a token, a key passphrase) is private to its
// owner. On POSIX: no group or other permission bits. On Windows: no allow entry in its
// ACL that lets an account other than SYSTEM, Administrators or the owner read or
// change it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace outpost::platform {

struct FilePrivacy {
  bool supported = true;  // false: this OS cannot check yet (detail says so)
  bool checked = false;   // false: not supported, or the file could not be read (detail)
  bool exposed = false;   // true: readable by group or others
  std::string detail;     // "mode 0644 lets group and others read it"
  std::string fix;        // "chmod 600 /etc/outpost/outpost.toml"
};

FilePrivacy CheckFilePrivacy(const std::filesystem::path& path);

// Creates (or truncates) `path` readable and writable by its owner only, and writes
// `contents`. Returns an empty string on success, else a description of the error.
std::string WritePrivateFile(const std::filesystem::path& path, std::string_view contents);

// Creates `path` (and missing parents) when it does not exist, the last part private:
// mode 0700 on POSIX; on Windows a protected ACL for SYSTEM, Administrators and this
// process's user, inherited by what is created inside. An existing directory is left as
// it is. Returns an empty string on success, else the error.
std::string CreatePrivateDirectory(const std::filesystem::path& path);

}  // namespace outpost::platform
