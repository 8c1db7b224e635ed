// Small helpers shared by the Windows table files: UTF-16 <-> UTF-8, registry reads
// with an owned key handle, FILETIME conversion, and the system's text for an error
// code. Every helper returns nullopt or an empty value on failure and never throws.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/platform/table.h"

namespace outpost::platform::windows_tables {

// UTF-16 (a counted buffer, or NUL-terminated when len < 0) to UTF-8; "" for null.
std::string Utf8(const wchar_t* s, int len = -1);
inline std::string Utf8(const std::wstring& s) {
  return Utf8(s.data(), static_cast<int>(s.size()));
}
std::wstring Wide(std::string_view s);

// "The system cannot find the file specified (error 2)".
std::string ErrorText(DWORD code);

// Seconds since the Unix epoch of a FILETIME (100 ns since 1601); 0 for a zero time.
int64_t UnixTime(const FILETIME& ft);

// An open registry key, closed on destruction.
class RegKey {
 public:
  RegKey() = default;
  RegKey(const RegKey&) = delete;
  RegKey& operator=(const RegKey&) = delete;
  ~RegKey() {
    if (key_ != nullptr) RegCloseKey(key_);
  }
  // Opens `root\sub` for reading; returns the Win32 error (ERROR_SUCCESS on success).
  // `view` adds KEY_WOW64_64KEY or KEY_WOW64_32KEY (0: the default view).
  LONG Open(HKEY root, const std::wstring& sub, REGSAM view = KEY_WOW64_64KEY);
  HKEY get() const { return key_; }

  // A value's data as text (REG_SZ/REG_EXPAND_SZ unexpanded; REG_DWORD in decimal),
  // nullopt when it is missing or of another type.
  std::optional<std::string> String(const wchar_t* name) const;
  // A REG_DWORD or REG_QWORD value; nullopt when missing or of another type.
  std::optional<int64_t> Number(const wchar_t* name) const;
  // Names of the direct subkeys (sorted as the registry returns them).
  std::vector<std::wstring> SubKeys() const;

 private:
  HKEY key_ = nullptr;
};

// The SID of a local account or group by name ("S-1-5-21-...-500") and its relative
// id (the last sub-authority: osquery's uid/gid on Windows); nullopt when unknown. The
// name is looked up as COMPUTER\name first, so that on a domain member a domain account
// of the same name is not taken for the local one; then as given (BUILTIN groups).
struct AccountSid {
  std::string sid;
  std::optional<int64_t> rid;
};
std::optional<AccountSid> LookupSid(const std::wstring& name);
// The same for a SID in binary form.
std::optional<AccountSid> SidInfo(PSID sid);

// Value helpers for rows.
inline Value Text(std::string_view s) { return std::string(s); }
inline Value Int(std::optional<int64_t> v) { return v ? Value(*v) : Value(std::monostate{}); }
inline Value OptText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }

// Case-insensitive ASCII comparison (registry and file names are case-insensitive).
bool EqualsNoCase(std::string_view a, std::string_view b);
// SQL LIKE on one name: '%' any run, '_' one character, ASCII case-insensitive.
bool LikeMatch(std::string_view name, std::string_view pattern);

}  // namespace outpost::platform::windows_tables
