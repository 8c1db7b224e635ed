// rpm_packages: the installed RPM packages, from rpm's database. osquery's columns:
//
//   name, version, release, source (SOURCERPM), size (SIZE, bytes), sha1 (SHA1HEADER),
//   arch, epoch (NULL when the package has none), install_time (INSTALLTIME, epoch s),
//   vendor, package_group (GROUP), and the hidden pid_with_namespace and
//   mount_namespace_id (NULL).
//
// Where the database is: /usr/lib/sysimage/rpm (Fedora >= 36, openSUSE) or /var/lib/rpm,
// the first that has one. Its format:
//   - rpmdb.sqlite (Fedora >= 33, RHEL 9): SQLite, table Packages(hnum, blob), each blob
//     one package's header. Read through TableEnv::read_sqlite: platform does not link
//     SQLite, the query engine (lib/) lends its wrapper.
//   - Packages.db (ndb, openSUSE) and Packages (Berkeley DB, RHEL <= 8): not read; the
//     query fails with "rpm database format ... not supported" rather than return no
//     rows as if nothing were installed.
//   - none: no rows (a Debian machine).
//
// A header blob, as rpm stores it (no 8-byte magic): big-endian uint32 il (index
// entries) and dl (data bytes), il entries of {tag, type, offset, count} (uint32 each),
// then dl bytes of data. Every read is bounds-checked: a blob that is cut short, claims
// more entries or data than it holds, or points a string past its data (or has no NUL
// to end it) is skipped, the other packages are listed.
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr uint32_t kTagSha1Header = 269;
constexpr uint32_t kTagName = 1000;
constexpr uint32_t kTagVersion = 1001;
constexpr uint32_t kTagRelease = 1002;
constexpr uint32_t kTagEpoch = 1003;
constexpr uint32_t kTagInstallTime = 1008;
constexpr uint32_t kTagSize = 1009;
constexpr uint32_t kTagVendor = 1011;
constexpr uint32_t kTagGroup = 1016;
constexpr uint32_t kTagArch = 1022;
constexpr uint32_t kTagSourceRpm = 1044;

constexpr uint32_t kTypeInt32 = 4;
constexpr uint32_t kTypeString = 6;
constexpr uint32_t kTypeStringArray = 8;
constexpr uint32_t kTypeI18nString = 9;

// rpm's own limits (hdrchkTags, hdrchkData): more is a corrupt header.
constexpr uint32_t kMaxEntries = 0xffff;
constexpr uint32_t kMaxData = 256u << 20;

uint32_t BigEndian32(std::string_view bytes, size_t at) {
  const auto b = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i]));
  };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// One package header; every accessor checks its bounds.
class RpmHeader {
 public:
  // nullopt when `blob` is not a whole header.
  static std::optional<RpmHeader> Parse(std::string_view blob) {
    if (blob.size() < 8) return std::nullopt;
    const uint32_t il = BigEndian32(blob, 0);
    const uint32_t dl = BigEndian32(blob, 4);
    if (il == 0 || il > kMaxEntries || dl > kMaxData) return std::nullopt;
    const uint64_t index_end = 8 + uint64_t{il} * 16;
    if (index_end + dl > blob.size()) return std::nullopt;
    return RpmHeader(blob.substr(8, size_t{il} * 16), blob.substr(index_end, dl));
  }

  // The string of `tag` (the first one of an array or i18n string); nullopt when the
  // tag is absent or malformed.
  std::optional<std::string> String(uint32_t tag) const {
    const std::optional<Entry> e = Find(tag);
    if (!e || e->count == 0 || e->offset >= data_.size()) return std::nullopt;
    if (e->type != kTypeString && e->type != kTypeStringArray && e->type != kTypeI18nString)
      return std::nullopt;
    const size_t end = data_.find('\0', e->offset);
    if (end == std::string_view::npos) return std::nullopt;
    return std::string(data_.substr(e->offset, end - e->offset));
  }

  // The first value of an INT32 `tag`, as unsigned (sizes and times).
  std::optional<int64_t> Int32(uint32_t tag) const {
    const std::optional<Entry> e = Find(tag);
    if (!e || e->type != kTypeInt32 || e->count == 0) return std::nullopt;
    if (uint64_t{e->offset} + 4 > data_.size()) return std::nullopt;
    return BigEndian32(data_, e->offset);
  }

 private:
  struct Entry {
    uint32_t type = 0;
    uint32_t offset = 0;
    uint32_t count = 0;
  };
  RpmHeader(std::string_view index, std::string_view data) : index_(index), data_(data) {}

  std::optional<Entry> Find(uint32_t tag) const {
    for (size_t at = 0; at + 16 <= index_.size(); at += 16)
      if (BigEndian32(index_, at) == tag)
        return Entry{BigEndian32(index_, at + 4), BigEndian32(index_, at + 8),
                     BigEndian32(index_, at + 12)};
    return std::nullopt;
  }

  std::string_view index_;
  std::string_view data_;
};

Value OptionalText(const std::optional<std::string>& s) { return s ? Text(*s) : Value(); }

// A package's row; nullopt when the blob is no header or has no name.
std::optional<std::vector<Value>> PackageRow(std::string_view blob) {
  const std::optional<RpmHeader> h = RpmHeader::Parse(blob);
  if (!h) return std::nullopt;
  const std::optional<std::string> name = h->String(kTagName);
  if (!name || name->empty()) return std::nullopt;
  return std::vector<Value>{
      Text(*name),
      OptionalText(h->String(kTagVersion)),
      OptionalText(h->String(kTagRelease)),
      OptionalText(h->String(kTagSourceRpm)),
      Int(h->Int32(kTagSize)),
      OptionalText(h->String(kTagSha1Header)),
      OptionalText(h->String(kTagArch)),
      Int(h->Int32(kTagEpoch)),
      Int(h->Int32(kTagInstallTime)),
      OptionalText(h->String(kTagVendor)),
      OptionalText(h->String(kTagGroup)),
      Value(),
      Value(),
  };
}

bool Exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  for (const char* dir : {"/usr/lib/sysimage/rpm", "/var/lib/rpm"}) {
    const std::filesystem::path sqlite = env.Path(std::string(dir) + "/rpmdb.sqlite");
    if (Exists(sqlite)) {
      if (!env.read_sqlite)
        return "cannot read " + std::string(dir) + "/rpmdb.sqlite: no SQLite reader";
      bool stopped = false;
      const std::string error = env.read_sqlite(
          sqlite, "SELECT \"blob\" FROM Packages ORDER BY hnum", [&](std::string_view blob) {
            if (env.stopped()) return false;
            const std::optional<std::vector<Value>> row = PackageRow(blob);
            if (row && !rows.Add(*row)) stopped = true;
            return !stopped;
          });
      if (!error.empty()) return std::string(dir) + "/rpmdb.sqlite: " + error;
      return "";
    }
    if (Exists(env.Path(std::string(dir) + "/Packages.db")))
      return "rpm database format ndb not supported (" + std::string(dir) + "/Packages.db)";
    if (Exists(env.Path(std::string(dir) + "/Packages")))
      return "rpm database format bdb not supported (" + std::string(dir) + "/Packages)";
  }
  return "";  // no rpm database: no rpm packages
}

}  // namespace

TableDef RpmPackagesTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"rpm_packages",
                  "Installed RPM packages, from rpm's database (rpmdb.sqlite).",
                  {{"name", T::kText},
                   {"version", T::kText},
                   {"release", T::kText},
                   {"source", T::kText},
                   {"size", T::kBigInt},
                   {"sha1", T::kText},
                   {"arch", T::kText},
                   {"epoch", T::kInteger},
                   {"install_time", T::kInteger},
                   {"vendor", T::kText},
                   {"package_group", T::kText},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
