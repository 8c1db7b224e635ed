// registry: the subkeys and values of the registry keys named by `key = '...'` (or of
// the key holding `path = '...'`). osquery's columns:
//
//   key    the key as the query spelt it ("HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft");
//          the hive may be written HKLM, HKCU, HKU, HKCR or HKCC as well
//   path   key + "\" + name
//   name   the subkey's or value's name; the unnamed default value is "(Default)"
//   type   "subkey" for a subkey, else the value's type: REG_SZ, REG_EXPAND_SZ,
//          REG_MULTI_SZ (data: the strings joined by ","), REG_DWORD, REG_QWORD,
//          REG_DWORD_BIG_ENDIAN (data: decimal), REG_BINARY and the rest (data: hex)
//   data   the value's data as text; NULL for a subkey or a value over 1 MiB
//   mtime  the last write time of the key (of the subkey, for a subkey row)
//
// Unlike osquery, a key or path constraint with "=" is required (outpost never walks a
// hive on its own) and LIKE is not expanded: the query fails with a message saying so.
// A key that does not exist gives no rows; one that cannot be opened (access denied)
// fails the query with the system's reason. HKLM is read in its 64-bit view.
#include <algorithm>
#include <cstring>
#include <set>

#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr size_t kKey = 0, kPath = 1;
constexpr DWORD kMaxData = 1u << 20;

std::optional<HKEY> Hive(std::string_view name) {
  struct Entry {
    const char* long_name;
    const char* short_name;
    HKEY hive;
  };
  static const Entry kHives[] = {
      {"HKEY_LOCAL_MACHINE", "HKLM", HKEY_LOCAL_MACHINE},
      {"HKEY_CURRENT_USER", "HKCU", HKEY_CURRENT_USER},
      {"HKEY_USERS", "HKU", HKEY_USERS},
      {"HKEY_CLASSES_ROOT", "HKCR", HKEY_CLASSES_ROOT},
      {"HKEY_CURRENT_CONFIG", "HKCC", HKEY_CURRENT_CONFIG},
  };
  for (const Entry& e : kHives)
    if (EqualsNoCase(name, e.long_name) || EqualsNoCase(name, e.short_name)) return e.hive;
  return std::nullopt;
}

std::string TypeName(DWORD type) {
  switch (type) {
    case REG_SZ:
      return "REG_SZ";
    case REG_EXPAND_SZ:
      return "REG_EXPAND_SZ";
    case REG_MULTI_SZ:
      return "REG_MULTI_SZ";
    case REG_DWORD:
      return "REG_DWORD";
    case REG_DWORD_BIG_ENDIAN:
      return "REG_DWORD_BIG_ENDIAN";
    case REG_QWORD:
      return "REG_QWORD";
    case REG_BINARY:
      return "REG_BINARY";
    case REG_NONE:
      return "REG_NONE";
    case REG_LINK:
      return "REG_LINK";
    case REG_RESOURCE_LIST:
      return "REG_RESOURCE_LIST";
    case REG_FULL_RESOURCE_DESCRIPTOR:
      return "REG_FULL_RESOURCE_DESCRIPTOR";
    case REG_RESOURCE_REQUIREMENTS_LIST:
      return "REG_RESOURCE_REQUIREMENTS_LIST";
    default:
      return "REG_UNKNOWN(" + std::to_string(type) + ")";
  }
}

std::string Hex(const BYTE* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// A value's data as text, tolerant of data that does not fit its declared type (a
// REG_DWORD of 3 bytes, a REG_SZ without its terminating NUL).
std::string DataText(DWORD type, const BYTE* data, size_t len) {
  switch (type) {
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_LINK: {
      std::wstring s(reinterpret_cast<const wchar_t*>(data), len / sizeof(wchar_t));
      while (!s.empty() && s.back() == L'\0') s.pop_back();
      return Utf8(s);
    }
    case REG_MULTI_SZ: {
      std::wstring all(reinterpret_cast<const wchar_t*>(data), len / sizeof(wchar_t));
      std::string out;
      size_t start = 0;
      while (start < all.size()) {
        size_t end = all.find(L'\0', start);
        if (end == std::wstring::npos) end = all.size();
        if (end > start) {
          if (!out.empty()) out += ',';
          out += Utf8(all.data() + start, static_cast<int>(end - start));
        }
        start = end + 1;
      }
      return out;
    }
    case REG_DWORD:
      if (len == 4) {
        DWORD v = 0;
        std::memcpy(&v, data, 4);
        return std::to_string(v);
      }
      break;
    case REG_DWORD_BIG_ENDIAN:
      if (len == 4)
        return std::to_string((DWORD{data[0]} << 24) | (DWORD{data[1]} << 16) |
                              (DWORD{data[2]} << 8) | DWORD{data[3]});
      break;
    case REG_QWORD:
      if (len == 8) {
        uint64_t v = 0;
        std::memcpy(&v, data, 8);
        return std::to_string(v);
      }
      break;
    default:
      break;
  }
  return Hex(data, len);
}

// Rows of one key, spelt `key_text` in the output. "" or an error.
std::string KeyRows(const std::string& key_text, RowSink& rows, bool& more) {
  std::string_view rest = key_text;
  while (!rest.empty() && rest.back() == '\\') rest.remove_suffix(1);
  const size_t slash = rest.find('\\');
  const std::optional<HKEY> hive = Hive(rest.substr(0, slash));
  if (!hive)
    return "registry: '" + key_text +
           "' does not start with a hive (HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, HKEY_USERS, "
           "HKEY_CLASSES_ROOT, HKEY_CURRENT_CONFIG or HKLM, HKCU, HKU, HKCR, HKCC)";
  const std::wstring sub = slash == std::string_view::npos ? L"" : Wide(rest.substr(slash + 1));
  RegKey k;
  const LONG rc = k.Open(*hive, sub);
  if (rc == ERROR_FILE_NOT_FOUND || rc == ERROR_PATH_NOT_FOUND) return "";
  if (rc != ERROR_SUCCESS) return "registry: cannot open " + key_text + ": " + ErrorText(rc);
  DWORD max_name = 0, max_data = 0;
  FILETIME written{};
  if (RegQueryInfoKeyW(k.get(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                       &max_name, &max_data, nullptr, &written) != ERROR_SUCCESS) {
    max_name = 16383;
    max_data = 0;
  }
  const int64_t mtime = UnixTime(written);
  const std::string prefix = key_text + (key_text.back() == '\\' ? "" : "\\");
  for (const std::wstring& name : k.SubKeys()) {
    RegKey child;
    FILETIME child_written{};
    if (child.Open(k.get(), name) == ERROR_SUCCESS)
      RegQueryInfoKeyW(child.get(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                       nullptr, nullptr, nullptr, &child_written);
    const std::string n = Utf8(name);
    more = rows.Add({Text(key_text), Text(prefix + n), Text(n), Text("subkey"), Value(),
                     Value(UnixTime(child_written))});
    if (!more) return "";
  }
  std::wstring name(static_cast<size_t>(std::min<DWORD>(max_name, 16383)) + 1, L'\0');
  std::vector<BYTE> data(std::min<DWORD>(max_data, kMaxData) + 2);
  for (DWORD i = 0; i < 100000; ++i) {
    DWORD name_len = static_cast<DWORD>(name.size());
    DWORD data_len = static_cast<DWORD>(data.size());
    DWORD type = 0;
    LONG r =
        RegEnumValueW(k.get(), i, name.data(), &name_len, nullptr, &type, data.data(), &data_len);
    if (r == ERROR_NO_MORE_ITEMS) break;
    Value data_value;
    if (r == ERROR_MORE_DATA) {
      // Grown since RegQueryInfoKey, or over the cap: the name only, data NULL.
      name_len = static_cast<DWORD>(name.size());
      data_len = 0;
      r = RegEnumValueW(k.get(), i, name.data(), &name_len, nullptr, &type, nullptr, nullptr);
    } else if (r == ERROR_SUCCESS) {
      data_value = Text(DataText(type, data.data(), data_len));
    }
    if (r != ERROR_SUCCESS) continue;
    const std::string n =
        name_len == 0 ? "(Default)" : Utf8(name.data(), static_cast<int>(name_len));
    more = rows.Add({Text(key_text), Text(prefix + n), Text(n), Text(TypeName(type)), data_value,
                     Value(mtime)});
    if (!more) return "";
  }
  return "";
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  std::vector<std::string> keys = query.Texts(kKey);
  for (const std::string& path : query.Texts(kPath)) {
    const size_t slash = path.rfind('\\');
    if (slash != std::string::npos && slash > 0) keys.push_back(path.substr(0, slash));
  }
  if (keys.empty()) {
    const bool like = query.Has(kKey) || query.Has(kPath);
    return std::string("table registry needs key = '...' or path = '...' in the WHERE clause") +
           (like ? " (LIKE and GLOB are not expanded)" : "") +
           ", for example WHERE key = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\"
           "CurrentVersion': it never walks a whole hive";
  }
  bool more = true;
  std::set<std::string> done;  // key = X AND path = X\Y name the same key once
  for (const std::string& key : keys) {
    if (key.empty() || !done.insert(key).second) continue;
    if (std::string err = KeyRows(key, rows, more); !err.empty()) return err;
    if (!more || env.stopped()) break;
  }
  return "";
}

}  // namespace

TableDef RegistryTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  return TableDef{"registry",
                  "Subkeys and values of the registry key named by key or path.",
                  {{"key", T::kText, false, kIndex},
                   {"path", T::kText, false, kIndex},
                   {"name", T::kText},
                   {"type", T::kText},
                   {"data", T::kText},
                   {"mtime", T::kBigInt}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
