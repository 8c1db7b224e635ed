// Checks that a file holding a secret (a token, a key passphrase) is private to its
// owner. On POSIX: no group or other permission bits. On Windows the ACL check is
// not written yet, and the result says so instead of pretending.
#pragma once

#include <filesystem>
#include <string>

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

}  // namespace outpost::platform
