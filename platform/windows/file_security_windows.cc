// Windows ACLs for files that hold secrets and for the state directory: the
// counterpart of POSIX mode 0600/0700. Private means a protected DACL (nothing
// inherited from the parent) that allows only SYSTEM, Administrators and the file's
// owner; a file any other account may read is "exposed".
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
// After windows.h:
#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "outpost/platform/file_security.h"
#include "windows/windows_error.h"

namespace outpost::platform {

namespace {

struct LocalFreer {
  void operator()(void* p) const {
    if (p != nullptr) LocalFree(p);
  }
};

std::string Narrow(const wchar_t* s) {
  if (s == nullptr || *s == 0) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return {};
  std::string out(static_cast<size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s, -1, out.data(), n, nullptr, nullptr);
  return out;
}

std::string SidString(PSID sid) {
  LPWSTR text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text)) return "an unknown account";
  std::unique_ptr<void, LocalFreer> hold(text);
  return Narrow(text);
}

// "BUILTIN\Users (S-1-5-32-545)", or the SID alone when it has no name here.
std::string AccountName(PSID sid) {
  wchar_t name[256], domain[256];
  DWORD name_len = 256, domain_len = 256;
  SID_NAME_USE use{};
  const std::string id = SidString(sid);
  if (!LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) return id;
  const std::string d = Narrow(domain);
  return (d.empty() ? "" : d + "\\") + Narrow(name) + " (" + id + ")";
}

bool IsWellKnown(PSID sid, WELL_KNOWN_SID_TYPE type) {
  BYTE buf[SECURITY_MAX_SID_SIZE];
  DWORD size = sizeof buf;
  return CreateWellKnownSid(type, nullptr, buf, &size) && EqualSid(sid, buf);
}

// This process's user, as SDDL text ("S-1-5-21-..."); empty when the token says nothing.
std::string CurrentUserSid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return {};
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<BYTE> buf(size);
  std::string sid;
  if (size > 0 && GetTokenInformation(token, TokenUser, buf.data(), size, &size))
    sid = SidString(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid);
  CloseHandle(token);
  return sid;
}

// A security descriptor with a protected DACL (nothing inherited from the parent):
// SYSTEM, Administrators and this process's user have full control; on a directory it
// is inherited by what is created inside (buffer.db, logs). Null with *error on failure.
std::unique_ptr<void, LocalFreer> PrivateDescriptor(bool directory, std::string* error) {
  const std::string inherit = directory ? "OICI" : "";
  std::string sddl = "D:P(A;" + inherit + ";FA;;;SY)(A;" + inherit + ";FA;;;BA)";
  const std::string user = CurrentUserSid();
  if (!user.empty()) sddl += "(A;" + inherit + ";FA;;;" + user + ")";
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl.c_str(), SDDL_REVISION_1, &sd,
                                                            nullptr)) {
    *error = "cannot build the ACL: " + WindowsErrorMessage(GetLastError());
    return nullptr;
  }
  return std::unique_ptr<void, LocalFreer>(sd);
}

}  // namespace

FilePrivacy CheckFilePrivacy(const std::filesystem::path& path) {
  FilePrivacy r;
  PSECURITY_DESCRIPTOR sd = nullptr;
  PACL dacl = nullptr;
  PSID owner = nullptr;
  std::wstring wide = path.wstring();
  const DWORD err = GetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT,
                                          OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                                          &owner, nullptr, &dacl, nullptr, &sd);
  if (err != ERROR_SUCCESS) {
    r.detail = WindowsErrorMessage(err);
    return r;
  }
  std::unique_ptr<void, LocalFreer> hold(sd);
  r.checked = true;
  r.fix = "icacls \"" + path.string() +
          "\" /inheritance:r /grant:r *S-1-5-18:F *S-1-5-32-544:F (SYSTEM and Administrators)";
  if (dacl == nullptr) {  // a NULL DACL grants everyone everything
    r.exposed = true;
    r.detail = "it has no access control list: every account may read or change it";
    return r;
  }
  // What lets an account read the contents (or change them, or the ACL itself).
  constexpr ACCESS_MASK kReads = FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC |
                                 WRITE_OWNER | GENERIC_READ | GENERIC_WRITE | GENERIC_ALL;
  std::vector<std::string> others;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) continue;
    const auto* header = static_cast<const ACE_HEADER*>(ace);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE) continue;  // deny ACEs only narrow
    if (header->AceFlags & INHERIT_ONLY_ACE) continue;         // not for this object
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    if ((allowed->Mask & kReads) == 0) continue;
    PSID sid = &allowed->SidStart;
    if (IsWellKnown(sid, WinLocalSystemSid) || IsWellKnown(sid, WinBuiltinAdministratorsSid) ||
        (owner != nullptr && EqualSid(sid, owner)))
      continue;
    const std::string name = AccountName(sid);
    bool seen = false;
    for (const std::string& o : others) seen |= o == name;
    if (!seen) others.push_back(name);
  }
  if (others.empty()) return r;
  r.exposed = true;
  std::string list;
  for (size_t i = 0; i < others.size(); ++i) list += (i ? ", " : "") + others[i];
  r.detail = "its ACL lets " + list + " read or change it";
  return r;
}

std::string WritePrivateFile(const std::filesystem::path& path, std::string_view contents) {
  // Written to a new file that is private from its creation, then renamed over `path`:
  // no moment when the secret sits in a file with the directory's (inherited) ACL, and
  // an existing file is replaced with the private one rather than edited in place.
  std::string error;
  std::unique_ptr<void, LocalFreer> sd = PrivateDescriptor(false, &error);
  if (!sd) return error;
  SECURITY_ATTRIBUTES sa{sizeof sa, sd.get(), FALSE};
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(GetCurrentProcessId());
  const std::wstring wtmp = tmp.wstring();
  HANDLE h = CreateFileW(wtmp.c_str(), GENERIC_WRITE, 0, &sa, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL,
                         nullptr);
  if (h == INVALID_HANDLE_VALUE) return "cannot create it: " + WindowsErrorMessage(GetLastError());
  const char* p = contents.data();
  size_t left = contents.size();
  bool ok = true;
  while (ok && left > 0) {
    DWORD wrote = 0;
    const DWORD chunk = static_cast<DWORD>(std::min<size_t>(left, 1 << 20));
    ok = WriteFile(h, p, chunk, &wrote, nullptr) && wrote > 0;
    p += wrote;
    left -= wrote;
  }
  const DWORD write_error = ok ? 0 : GetLastError();
  CloseHandle(h);
  if (!ok) {
    DeleteFileW(wtmp.c_str());
    return "write failed: " + WindowsErrorMessage(write_error);
  }
  if (!MoveFileExW(wtmp.c_str(), path.wstring().c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    const DWORD e = GetLastError();
    DeleteFileW(wtmp.c_str());
    return "cannot replace it: " + WindowsErrorMessage(e);
  }
  return {};
}

std::string CreatePrivateDirectory(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return {};
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return ec.message();
  }
  std::string error;
  std::unique_ptr<void, LocalFreer> sd = PrivateDescriptor(true, &error);
  if (!sd) return error;
  SECURITY_ATTRIBUTES sa{sizeof sa, sd.get(), FALSE};
  if (!CreateDirectoryW(path.wstring().c_str(), &sa) && GetLastError() != ERROR_ALREADY_EXISTS)
    return WindowsErrorMessage(GetLastError());
  return {};
}

}  // namespace outpost::platform
