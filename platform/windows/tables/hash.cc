// hash: MD5, SHA1 and SHA256 of the regular files named by `path =`, `path LIKE` or
// `directory =` (named_paths.h; directories skipped). osquery's columns.
//
// The digests come from the system's CNG (bcrypt.dll). A file larger than 100 MiB, or
// one that cannot be read (locked, no permission), still gets its row with NULL
// digests: hashing it would hold a query for too long. When CNG itself fails (no
// provider for an algorithm) the query fails with the reason.
// win_util.h first: it includes <windows.h>, which the system headers below need.
#include "windows/tables/win_util.h"

#include <bcrypt.h>

#include "windows/tables/named_paths.h"
#include "windows/tables/tables.h"

namespace outpost::platform::windows_tables {
namespace {

constexpr uint64_t kMaxHashedBytes = uint64_t{100} << 20;

// One CNG hash object and its algorithm provider, released on destruction.
class Digest {
 public:
  Digest() = default;
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  ~Digest() {
    if (hash_ != nullptr) BCryptDestroyHash(hash_);
    if (alg_ != nullptr) BCryptCloseAlgorithmProvider(alg_, 0);
  }
  // "" or what failed.
  std::string Start(const wchar_t* algorithm) {
    NTSTATUS st = BCryptOpenAlgorithmProvider(&alg_, algorithm, nullptr, 0);
    if (!BCRYPT_SUCCESS(st)) return "BCryptOpenAlgorithmProvider(" + Utf8(algorithm) + ") failed";
    DWORD len = 0, got = 0;
    st = BCryptGetProperty(alg_, BCRYPT_HASH_LENGTH, reinterpret_cast<PUCHAR>(&len), sizeof len,
                           &got, 0);
    if (!BCRYPT_SUCCESS(st) || len == 0 || len > 64) return "BCRYPT_HASH_LENGTH failed";
    size_ = len;
    st = BCryptCreateHash(alg_, &hash_, nullptr, 0, nullptr, 0, 0);
    if (!BCRYPT_SUCCESS(st)) return "BCryptCreateHash(" + Utf8(algorithm) + ") failed";
    return "";
  }
  bool Update(const BYTE* data, DWORD len) {
    return BCRYPT_SUCCESS(BCryptHashData(hash_, const_cast<PUCHAR>(data), len, 0));
  }
  std::optional<std::string> Finish() {
    UCHAR out[64];
    if (!BCRYPT_SUCCESS(BCryptFinishHash(hash_, out, size_, 0))) return std::nullopt;
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (DWORD i = 0; i < size_; ++i) {
      hex += kDigits[out[i] >> 4];
      hex += kDigits[out[i] & 15];
    }
    return hex;
  }

 private:
  BCRYPT_ALG_HANDLE alg_ = nullptr;
  BCRYPT_HASH_HANDLE hash_ = nullptr;
  DWORD size_ = 0;
};

struct Digests {
  std::string md5, sha1, sha256;
};

// nullopt in `out` when the file cannot be read through or when stopped midway;
// a non-empty return when CNG fails.
std::string HashFile(const TableEnv& env, HANDLE file, std::optional<Digests>& out) {
  Digest d[3];
  const wchar_t* kinds[3] = {BCRYPT_MD5_ALGORITHM, BCRYPT_SHA1_ALGORITHM, BCRYPT_SHA256_ALGORITHM};
  for (int i = 0; i < 3; ++i)
    if (std::string err = d[i].Start(kinds[i]); !err.empty()) return "hash: " + err;
  std::vector<BYTE> buf(1 << 16);
  for (int chunks = 1;; ++chunks) {
    DWORD got = 0;
    if (!ReadFile(file, buf.data(), static_cast<DWORD>(buf.size()), &got, nullptr)) return "";
    if (got == 0) break;
    for (Digest& x : d)
      if (!x.Update(buf.data(), got)) return "hash: BCryptHashData failed";
    if (chunks % 64 == 0 && env.stopped()) return "";
  }
  std::optional<std::string> hex[3];
  for (int i = 0; i < 3; ++i) {
    hex[i] = d[i].Finish();
    if (!hex[i]) return "hash: BCryptFinishHash failed";
  }
  out = Digests{*hex[0], *hex[1], *hex[2]};
  return "";
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  std::string error;
  ForEachNamedPath(env, query, 0, 1, [&](const std::string& path, const std::string& dir) {
    HANDLE h = CreateFileW(Wide(path).c_str(), GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                           OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
      // A directory cannot be opened this way: no row. An unreadable file: NULL digests.
      const DWORD attrs = GetFileAttributesW(Wide(path).c_str());
      if (attrs == INVALID_FILE_ATTRIBUTES || (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0) return true;
      return rows.Add({Text(path), Text(dir)});
    }
    BY_HANDLE_FILE_INFORMATION info{};
    std::optional<Digests> d;
    if (GetFileInformationByHandle(h, &info) &&
        (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
      const uint64_t size = (uint64_t{info.nFileSizeHigh} << 32) | info.nFileSizeLow;
      if (size <= kMaxHashedBytes) error = HashFile(env, h, d);
    } else {
      CloseHandle(h);
      return true;
    }
    CloseHandle(h);
    if (!error.empty()) return false;
    if (!d) return rows.Add({Text(path), Text(dir)});
    return rows.Add({Text(path), Text(dir), Text(d->md5), Text(d->sha1), Text(d->sha256)});
  });
  return error;
}

}  // namespace

TableDef HashTable() {
  using T = ColumnType;
  constexpr bool kReq = true, kIdx = true, kHidden = true;
  return TableDef{"hash",
                  "MD5, SHA1 and SHA256 of the files named by path or directory.",
                  {{"path", T::kText, kReq, kIdx},
                   {"directory", T::kText, kReq},
                   {"md5", T::kText},
                   {"sha1", T::kText},
                   {"sha256", T::kText},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::windows_tables
