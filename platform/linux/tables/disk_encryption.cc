// disk_encryption: whether each block device is encrypted with dm-crypt, from sysfs
// (/sys/block under the root; no libcryptsetup, no reading of LUKS headers). osquery's
// table name and columns, plus one of ours.
//
// One row per entry of /sys/block (disks, dm-*, md*, loop*, ...; partitions are not
// rows), sorted by name:
//
//   name               "/dev/" + the entry's name ("/dev/sda", "/dev/dm-0"), as osquery
//   encrypted          1 when the device is a dm-crypt mapping (its dm/uuid starts with
//                      "CRYPT-") or is built on one through its slaves/ (LVM on LUKS),
//                      else 0
//   type               "luks" (CRYPT-LUKS1-/CRYPT-LUKS2-) or "dm-crypt" (CRYPT-PLAIN- and
//                      other CRYPT- targets) for an encrypted device, "" otherwise.
//                      osquery gives the cipher ("aes-xts-plain64") from libcryptsetup:
//                      that needs the LUKS header, which sysfs does not show
//   uuid               the LUKS UUID (8-4-4-4-12) taken from dm/uuid, "" when unknown
//   encryption_status  "encrypted" or "not encrypted"
//   encrypted_holders  (ours) the dm-crypt devices that use this device or one of its
//                      partitions underneath, directly or through other holders:
//                      "dm-0" for the disk whose partition holds a LUKS volume; "" none
//   filevault_status,  macOS only: hidden, NULL
//   user_uuid
//
// slaves/ and holders/ chains are followed to a bounded depth, so a loop terminates.
#include <algorithm>
#include <set>
#include <system_error>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 16;
constexpr size_t kMaxEntries = 4096;

struct Crypt {
  std::string type;  // "luks" or "dm-crypt"
  std::string uuid;
};

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (size_t n = 0; !ec && it != fs::directory_iterator() && n < kMaxEntries;
       it.increment(ec), ++n)
    out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

class Sysfs {
 public:
  explicit Sysfs(const TableEnv& env) : block_(env.Path("/sys/block")) {}

  std::vector<std::string> Devices() const { return Entries(block_); }

  // The device's own dm-crypt mapping, from dm/uuid.
  std::optional<Crypt> OwnCrypt(const std::string& dev) const {
    const std::optional<std::string> text = ReadFile(block_ / dev / "dm" / "uuid", 4096);
    if (!text) return std::nullopt;
    const std::string_view uuid = Trim(*text);
    if (!uuid.starts_with("CRYPT-")) return std::nullopt;
    for (const std::string_view luks : {"CRYPT-LUKS1-", "CRYPT-LUKS2-"}) {
      if (!uuid.starts_with(luks)) continue;
      const std::string_view hex = uuid.substr(luks.size(), 32);
      if (hex.size() != 32 || !IsHex(hex)) return Crypt{"luks", ""};
      std::string u(hex);
      for (const size_t at : {20, 16, 12, 8}) u.insert(at, "-");
      return Crypt{"luks", u};
    }
    return Crypt{"dm-crypt", ""};
  }

  // The own mapping, or the first one found below it through slaves/.
  std::optional<Crypt> EffectiveCrypt(const std::string& dev, int depth = 0) const {
    if (std::optional<Crypt> own = OwnCrypt(dev)) return own;
    if (depth >= kMaxDepth) return std::nullopt;
    for (const std::string& slave : Entries(block_ / dev / "slaves"))
      if (std::optional<Crypt> c = EffectiveCrypt(Disk(slave), depth + 1)) return c;
    return std::nullopt;
  }

  // The dm-crypt devices above `dev` (a disk) or its partitions.
  std::set<std::string> CryptHolders(const std::string& dev) const {
    std::set<std::string> out;
    std::vector<fs::path> dirs = {block_ / dev};
    for (const std::string& e : Entries(block_ / dev))
      if (fs::exists(block_ / dev / e / "partition")) dirs.push_back(block_ / dev / e);
    for (const fs::path& d : dirs)
      for (const std::string& h : Entries(d / "holders")) Holders(h, 0, out);
    return out;
  }

 private:
  void Holders(const std::string& dev, int depth, std::set<std::string>& out) const {
    if (depth >= kMaxDepth || out.size() > 64) return;
    if (OwnCrypt(dev)) out.insert(dev);
    for (const std::string& h : Entries(block_ / dev / "holders")) Holders(h, depth + 1, out);
  }

  // A slave is named by its sysfs name: a partition ("sda2") lives under its disk.
  std::string Disk(const std::string& name) const {
    std::error_code ec;
    if (fs::exists(block_ / name, ec)) return name;
    for (const std::string& disk : Entries(block_))
      if (name.starts_with(disk) && fs::exists(block_ / disk / name / "partition", ec))
        return disk + "/" + name;
    return name;
  }

  fs::path block_;
};

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const Sysfs sysfs(env);
  for (const std::string& dev : sysfs.Devices()) {
    if (env.stopped()) break;
    const std::optional<Crypt> crypt = sysfs.EffectiveCrypt(dev);
    std::string holders;
    for (const std::string& h : sysfs.CryptHolders(dev))
      holders += (holders.empty() ? "" : ",") + h;
    if (!rows.Add({Text("/dev/" + dev), Text(crypt ? crypt->uuid : ""),
                   Value(int64_t{crypt ? 1 : 0}), Text(crypt ? crypt->type : ""),
                   Text(crypt ? "encrypted" : "not encrypted"), Text(holders), Value(), Value()}))
      break;
  }
  return "";
}

}  // namespace

TableDef DiskEncryptionTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"disk_encryption",
                  "dm-crypt/LUKS encryption of each block device, from sysfs.",
                  {{"name", T::kText},
                   {"uuid", T::kText},
                   {"encrypted", T::kInteger},
                   {"type", T::kText},
                   {"encryption_status", T::kText},
                   {"encrypted_holders", T::kText},
                   {"filevault_status", T::kText, false, false, kHidden},
                   {"user_uuid", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
