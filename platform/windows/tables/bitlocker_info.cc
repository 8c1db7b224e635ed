// bitlocker_info: the BitLocker state of each fixed drive. osquery's columns (which it
// reads from WMI's Win32_EncryptableVolume) plus two of ours, `encrypted` and `status`.
// outpost does not use WMI/COM, so it reads the one thing the volume itself says: the
// OEM id of its boot sector, "-FVE-FS-" on a BitLocker volume (fully or partly
// encrypted, locked or not), the file system's name ("NTFS    ", ...) otherwise.
// Reading it needs Administrator rights.
//
//   device_id     the volume's GUID path ("\\?\Volume{...}\"); drive_letter "C:"
//   encrypted     (ours) 1 BitLocker volume, 0 a plain file system, NULL unknown
//   conversion_status, protection_status, percentage_encrypted
//                 0 for a plain volume (fully decrypted, protection off, 0 %); NULL
//                 for a BitLocker volume (only WMI tells them)
//   status        (ours) "ok: not encrypted", "ok: BitLocker volume (protection and
//                 conversion state need WMI)", "unknown: ..." or "error: ..." (the
//                 volume could not be read: the reason, typically access denied)
//
// persistent_volume_id, encryption_method, protector_types, version and lock_status
// are NULL (WMI only).
#include <cstring>

#include "windows/tables/tables.h"
#include "windows/tables/win_util.h"

namespace outpost::platform::windows_tables {
namespace {

std::vector<Value> Row(const std::wstring& root) {
  const std::string letter = Utf8(root.substr(0, 2));  // "C:"
  wchar_t guid[64] = {};
  const Value device_id =
      GetVolumeNameForVolumeMountPointW(root.c_str(), guid, 64) ? Text(Utf8(guid)) : Value();
  auto row = [&](Value encrypted, Value zero, const std::string& status) {
    return std::vector<Value>{device_id, Text(letter), Value(), zero,    zero,      Value(),
                              Value(),   Value(),      zero,    Value(), encrypted, Text(status)};
  };
  const std::wstring device = L"\\\\.\\" + root.substr(0, 2);
  HANDLE h = CreateFileW(device.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                         OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return row(Value(), Value(),
               "error: cannot read the boot sector of " + letter +
                   " (needs Administrator): " + ErrorText(GetLastError()));
  // 4096 bytes: a whole sector on 512-byte and 4K-sector disks alike (reads of a raw
  // volume must be sector-sized).
  std::vector<unsigned char> sector(4096);
  DWORD got = 0;
  const BOOL ok = ReadFile(h, sector.data(), static_cast<DWORD>(sector.size()), &got, nullptr);
  const DWORD err = GetLastError();
  CloseHandle(h);
  if (!ok || got < 11)
    return row(Value(), Value(),
               "error: cannot read the boot sector of " + letter + ": " + ErrorText(ok ? 0 : err));
  const std::string oem(reinterpret_cast<const char*>(sector.data()) + 3, 8);
  if (oem == "-FVE-FS-")
    return row(Value(int64_t{1}), Value(),
               "ok: BitLocker volume (protection and conversion state need WMI)");
  if (oem == "NTFS    " || oem == "EXFAT   " || oem.rfind("MSDOS", 0) == 0 ||
      oem.rfind("MSWIN", 0) == 0)
    return row(Value(int64_t{0}), Value(int64_t{0}), "ok: not encrypted");
  std::string shown;
  for (char c : oem) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  return row(Value(), Value(), "unknown: boot sector signature '" + shown + "'");
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  wchar_t drives[512] = {};
  const DWORD n = GetLogicalDriveStringsW(511, drives);
  if (n == 0 || n > 511)
    return "bitlocker_info: GetLogicalDriveStrings failed: " + ErrorText(GetLastError());
  for (const wchar_t* d = drives; *d != L'\0'; d += std::wcslen(d) + 1) {
    if (env.stopped()) break;
    const std::wstring root = d;
    if (root.size() < 2 || root[1] != L':' || GetDriveTypeW(root.c_str()) != DRIVE_FIXED) continue;
    if (!rows.Add(Row(root))) break;
  }
  return "";
}

}  // namespace

TableDef BitlockerInfoTable() {
  using T = ColumnType;
  return TableDef{"bitlocker_info",
                  "BitLocker state of each fixed drive, from its boot sector (no WMI).",
                  {{"device_id", T::kText},
                   {"drive_letter", T::kText},
                   {"persistent_volume_id", T::kText},
                   {"conversion_status", T::kInteger},
                   {"protection_status", T::kInteger},
                   {"encryption_method", T::kText},
                   {"protector_types", T::kText},
                   {"version", T::kInteger},
                   {"percentage_encrypted", T::kInteger},
                   {"lock_status", T::kInteger},
                   {"encrypted", T::kInteger},
                   {"status", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
