// hash: MD5, SHA1 and SHA256 of the regular files named by `path =`, `path LIKE` or
// `directory =` (named_paths.h; symlinks followed inside the root, directories and
// other non-regular files skipped). osquery's columns.
//
// The digests come from OpenSSL's libcrypto (EVP), used nowhere else in platform/. A
// file larger than 100 MiB, or one that cannot be read, still gets its row, with NULL
// digests: hashing it would hold a query for too long.
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "linux/tables/named_paths.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr int64_t kMaxHashedBytes = int64_t{100} << 20;

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

struct Digests {
  std::string md5, sha1, sha256;
};

std::string Hex(const unsigned char* data, unsigned len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// nullopt when the file cannot be read through, or when stopped midway.
std::optional<Digests> HashFile(const TableEnv& env, const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  const EVP_MD* kinds[3] = {EVP_md5(), EVP_sha1(), EVP_sha256()};
  std::vector<MdCtx> ctx;
  for (const EVP_MD* kind : kinds) {
    ctx.emplace_back(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx.back() || EVP_DigestInit_ex(ctx.back().get(), kind, nullptr) != 1) return std::nullopt;
  }
  std::vector<char> buf(1 << 16);
  int chunks = 0;
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())).gcount() > 0) {
    for (MdCtx& c : ctx)
      if (EVP_DigestUpdate(c.get(), buf.data(), static_cast<size_t>(in.gcount())) != 1)
        return std::nullopt;
    if (++chunks % 64 == 0 && env.stopped()) return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  std::string out[3];
  for (size_t i = 0; i < ctx.size(); ++i) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx[i].get(), md, &len) != 1) return std::nullopt;
    out[i] = Hex(md, len);
  }
  return Digests{out[0], out[1], out[2]};
}

std::optional<std::vector<Value>> HashRow(const TableEnv& env, const std::string& path,
                                          const std::string& directory) {
  const std::optional<std::string> resolved = ResolveUnderRoot(env, path);
  if (!resolved) return std::nullopt;
  const std::filesystem::path real = env.Path(*resolved);
  struct stat st;
  if (::lstat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::optional<Digests> d;
  if (st.st_size <= kMaxHashedBytes) d = HashFile(env, real);
  if (!d) return std::vector<Value>{Text(path), Text(directory)};
  return std::vector<Value>{Text(path), Text(directory), Text(d->md5), Text(d->sha1),
                            Text(d->sha256)};
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  ForEachNamedPath(env, query, 0, 1, [&](const std::string& path, const std::string& dir) {
    std::optional<std::vector<Value>> row = HashRow(env, path, dir);
    return !row || rows.Add(std::move(*row));
  });
  return "";
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

}  // namespace outpost::platform::linux_tables
