// POSIX permission bits for files that hold secrets.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "outpost/platform/file_security.h"

namespace outpost::platform {

FilePrivacy CheckFilePrivacy(const std::filesystem::path& path) {
  FilePrivacy r;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    r.detail = std::strerror(errno);
    return r;
  }
  r.checked = true;
  const mode_t loose = st.st_mode & (S_IRWXG | S_IRWXO);
  if (loose == 0) return r;
  r.exposed = (st.st_mode & (S_IRGRP | S_IROTH)) != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (!r.exposed) return r;  // only execute bits: odd, but nobody can read the secret
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  const bool group = (st.st_mode & (S_IRGRP | S_IWGRP)) != 0;
  const bool other = (st.st_mode & (S_IROTH | S_IWOTH)) != 0;
  r.detail = std::string("mode ") + mode + " lets " +
             (group && other ? "group and others"
              : group        ? "its group"
                             : "others") +
             " read or change it";
  r.fix = "chmod 600 " + path.string();
  return r;
}

std::string WritePrivateFile(const std::filesystem::path& path, std::string_view contents) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  // An existing file keeps its mode on O_TRUNC; make it private either way.
  if (fchmod(fd, 0600) != 0) {
    const std::string err = std::strerror(errno);
    close(fd);
    return err;
  }
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      close(fd);
      return err;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (close(fd) != 0) return std::strerror(errno);
  return {};
}

std::string CreatePrivateDirectory(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return {};
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return ec.message();
  }
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return std::strerror(errno);
  return {};
}

}  // namespace outpost::platform
