// shadow: password ageing and password status from /etc/shadow, one row per account.
//
// The hash is NEVER put in a row, logged or kept: the password field is looked at only
// to compute password_status and hash_alg, as osquery does:
//   "!!"                    -> not_set  (an account created without a password)
//   starts with '!', '*', x -> locked
//   ""                      -> empty    (no password needed)
//   anything else           -> active
// hash_alg is the crypt id of a "$id$..." field ("6" = SHA-512, "y" = yescrypt), NULL
// when the field does not start with '$' (a locked "!$6$..." has none, as in osquery).
// Empty numeric fields are -1, the value getspent() gives osquery. A line without the
// 9 fields of shadow(5), or with a non-numeric age, is skipped.
#include <algorithm>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr size_t kUsername = 9;  // column index, for the constraint

std::string_view PasswordStatus(std::string_view password) {
  if (password == "!!") return "not_set";
  if (password.empty()) return "empty";
  if (password[0] == '!' || password[0] == '*' || password[0] == 'x') return "locked";
  return "active";
}

// "$6$salt$hash" -> "6": the word characters between the first two '$'.
Value HashAlg(std::string_view password) {
  if (password.size() < 3 || password[0] != '$') return Value();
  const size_t end = password.find('$', 1);
  if (end == std::string_view::npos || end == 1) return Value();
  const std::string_view id = password.substr(1, end - 1);
  const bool word = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  });
  return word ? Text(id) : Value();
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/etc/shadow"));
  if (!text) return "";  // missing, or not readable without root: no rows
  const std::vector<std::string> wanted = query.Texts(kUsername);
  for (const std::string_view line : Lines(*text)) {
    const std::vector<std::string_view> f = Split(line, ':');
    if (f.size() != 9 || f[0].empty() || f[0].find('\0') != std::string_view::npos) continue;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), f[0]) == wanted.end()) continue;
    std::vector<Value> ages;
    bool ok = true;
    for (size_t i = 2; i < 9 && ok; ++i) {
      if (f[i].empty()) {
        ages.emplace_back(int64_t{-1});
      } else if (const std::optional<int64_t> v = ToInt(f[i])) {
        ages.emplace_back(*v);
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    std::vector<Value> row = {Text(PasswordStatus(f[1])), HashAlg(f[1])};
    row.insert(row.end(), ages.begin(), ages.end());
    row.push_back(Text(f[0]));
    if (!rows.Add(std::move(row))) break;
  }
  return "";
}

}  // namespace

TableDef ShadowTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  return TableDef{"shadow",
                  "Password status and ageing of local accounts from /etc/shadow (never "
                  "the hash).",
                  {{"password_status", T::kText},
                   {"hash_alg", T::kText},
                   {"last_change", T::kBigInt},
                   {"min", T::kBigInt},
                   {"max", T::kBigInt},
                   {"warning", T::kBigInt},
                   {"inactive", T::kBigInt},
                   {"expire", T::kBigInt},
                   {"flag", T::kBigInt},
                   {"username", T::kText, false, kIndex}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
