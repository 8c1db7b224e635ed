// Helpers of the Windows tables; see win_util.h.
#include "windows/tables/win_util.h"

#include <sddl.h>

#include "windows/windows_error.h"

namespace outpost::platform::windows_tables {

std::string Utf8(const wchar_t* s, int len) {
  if (s == nullptr || len == 0) return "";
  const int n = WideCharToMultiByte(CP_UTF8, 0, s, len, nullptr, 0, nullptr, nullptr);
  if (n <= 0) return "";
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s, len, out.data(), n, nullptr, nullptr);
  if (len < 0 && !out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

std::wstring Wide(std::string_view s) {
  if (s.empty()) return L"";
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  if (n <= 0) return L"";
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string ErrorText(DWORD code) { return WindowsErrorMessage(code); }

int64_t UnixTime(const FILETIME& ft) {
  const uint64_t ticks = (uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;
  constexpr uint64_t kEpochDiff = 116444736000000000ULL;  // 1601-01-01 .. 1970-01-01
  if (ticks < kEpochDiff) return 0;
  return static_cast<int64_t>((ticks - kEpochDiff) / 10000000ULL);
}

LONG RegKey::Open(HKEY root, const std::wstring& sub, REGSAM view) {
  if (key_ != nullptr) RegCloseKey(key_);
  key_ = nullptr;
  HKEY k = nullptr;
  const LONG rc = RegOpenKeyExW(root, sub.c_str(), 0, KEY_READ | view, &k);
  if (rc == ERROR_SUCCESS) key_ = k;
  return rc;
}

std::optional<std::string> RegKey::String(const wchar_t* name) const {
  if (key_ == nullptr) return std::nullopt;
  DWORD type = 0, size = 0;
  if (RegQueryValueExW(key_, name, nullptr, &type, nullptr, &size) != ERROR_SUCCESS)
    return std::nullopt;
  if (type == REG_DWORD) {
    const std::optional<int64_t> n = Number(name);
    return n ? std::optional<std::string>(std::to_string(*n)) : std::nullopt;
  }
  if (type != REG_SZ && type != REG_EXPAND_SZ) return std::nullopt;
  // The value may change between the two calls: one retry with the new size.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::wstring buf(size / sizeof(wchar_t) + 1, L'\0');
    DWORD bytes = static_cast<DWORD>(buf.size() * sizeof(wchar_t));
    const LONG rc =
        RegQueryValueExW(key_, name, nullptr, &type, reinterpret_cast<BYTE*>(buf.data()), &bytes);
    if (rc == ERROR_MORE_DATA) {
      size = bytes;
      continue;
    }
    if (rc != ERROR_SUCCESS || (type != REG_SZ && type != REG_EXPAND_SZ)) return std::nullopt;
    buf.resize(bytes / sizeof(wchar_t));
    while (!buf.empty() && buf.back() == L'\0') buf.pop_back();  // not always terminated
    return Utf8(buf);
  }
  return std::nullopt;
}

std::optional<int64_t> RegKey::Number(const wchar_t* name) const {
  if (key_ == nullptr) return std::nullopt;
  DWORD type = 0;
  uint64_t v = 0;
  DWORD size = sizeof v;
  if (RegQueryValueExW(key_, name, nullptr, &type, reinterpret_cast<BYTE*>(&v), &size) !=
      ERROR_SUCCESS)
    return std::nullopt;
  if (type == REG_DWORD && size == sizeof(DWORD)) return static_cast<int64_t>(v & 0xffffffffu);
  if (type == REG_QWORD && size == sizeof(uint64_t)) return static_cast<int64_t>(v);
  return std::nullopt;
}

std::vector<std::wstring> RegKey::SubKeys() const {
  std::vector<std::wstring> out;
  if (key_ == nullptr) return out;
  for (DWORD i = 0; i < 100000; ++i) {
    wchar_t name[256];  // a key name is at most 255 characters
    DWORD len = 256;
    const LONG rc = RegEnumKeyExW(key_, i, name, &len, nullptr, nullptr, nullptr, nullptr);
    if (rc == ERROR_NO_MORE_ITEMS) break;
    if (rc != ERROR_SUCCESS) continue;
    out.emplace_back(name, len);
  }
  return out;
}

std::optional<AccountSid> SidInfo(PSID sid) {
  if (sid == nullptr || !IsValidSid(sid)) return std::nullopt;
  AccountSid out;
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(sid, &text) || text == nullptr) return std::nullopt;
  out.sid = Utf8(text);
  LocalFree(text);
  const UCHAR* count = GetSidSubAuthorityCount(sid);
  if (count != nullptr && *count > 0) {
    const DWORD* last = GetSidSubAuthority(sid, static_cast<DWORD>(*count - 1));
    if (last != nullptr) out.rid = static_cast<int64_t>(*last);
  }
  return out;
}

namespace {

std::optional<AccountSid> LookupOne(const std::wstring& name) {
  DWORD sid_size = 0, domain_size = 0;
  SID_NAME_USE use;
  LookupAccountNameW(nullptr, name.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
  if (sid_size == 0 || sid_size > 1024 || domain_size > 4096) return std::nullopt;
  std::vector<BYTE> sid(sid_size);
  std::wstring domain(domain_size + 1, L'\0');
  if (!LookupAccountNameW(nullptr, name.c_str(), sid.data(), &sid_size, domain.data(), &domain_size,
                          &use))
    return std::nullopt;
  return SidInfo(sid.data());
}

}  // namespace

std::optional<AccountSid> LookupSid(const std::wstring& name) {
  wchar_t computer[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD len = MAX_COMPUTERNAME_LENGTH + 1;
  if (GetComputerNameW(computer, &len)) {
    if (std::optional<AccountSid> local = LookupOne(std::wstring(computer, len) + L"\\" + name))
      return local;
  }
  return LookupOne(name);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool LikeMatch(std::string_view name, std::string_view pattern) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  // Iterative match with backtracking to the last '%'.
  size_t n = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && (pattern[p] == '_' || lower(pattern[p]) == lower(name[n]))) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace outpost::platform::windows_tables
