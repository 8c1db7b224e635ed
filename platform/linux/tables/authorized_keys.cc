// authorized_keys: one row per key line of ~/.ssh/authorized_keys and
// ~/.ssh/authorized_keys2, for the users of /etc/passwd; home directories are resolved
// under TableEnv::root and key_file is the path on the host ("/home/alice/.ssh/...").
//
// A line is [options] algorithm base64-key [comment]. options may hold quoted spaces
// (command="echo a b"), so they end at the first blank outside double quotes. The
// algorithm is recognised by its shape (ssh-*, ecdsa-sha2-*, sk-*: also DSA, security-key
// and certificate types, which osquery's fixed list misses). Comments, blank lines and
// lines without a recognisable algorithm are skipped.
//
// Differences from osquery: without a uid constraint osquery returns only the keys of
// the user it runs as (a user_data table); outpost returns every user's keys, since an
// agent running as root means "all users" in practice. `uid = N` (or IN) reads only
// those users' files. osquery's options-only rows for z/OS key-ring labels are not made.
#include <algorithm>

#include "linux/tables/passwd_file.h"
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr size_t kUid = 0;  // column index, for the constraint

bool IsAlgorithm(std::string_view word) {
  return word.starts_with("ssh-") || word.starts_with("ecdsa-sha2-") || word.starts_with("sk-");
}

// The text up to the first blank outside double quotes (a backslash escapes a quote).
std::string_view OptionsWord(std::string_view line) {
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && quoted && i + 1 < line.size()) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

// The row for one key line (empty when the line is not a key).
std::vector<Value> ParseKey(std::string_view line, int64_t uid, const std::string& key_file) {
  line = Trim(line);
  if (line.empty() || line.front() == '#' || line.find('\0') != std::string_view::npos) return {};
  Value options;
  if (const std::string_view first = Fields(line, " \t").front(); !IsAlgorithm(first)) {
    const std::string_view opts = OptionsWord(line);
    options = Text(opts);
    line = Trim(line.substr(opts.size()));
  }
  const std::vector<std::string_view> words = Fields(line, " \t");
  if (words.size() < 2 || !IsAlgorithm(words[0])) return {};
  // The comment is the rest of the line after the key, inner blanks kept.
  const size_t key_end = static_cast<size_t>(words[1].data() - line.data()) + words[1].size();
  const std::string_view comment = Trim(line.substr(key_end));
  return {Value(uid),
          Text(words[0]),
          Text(words[1]),
          options,
          comment.empty() ? Value() : Text(comment),
          Text(key_file),
          Value(int64_t{0})};
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  const std::vector<std::string> uids = query.Texts(kUid);
  for (const PasswdEntry& user : ReadPasswd(env)) {
    if (env.stopped()) break;
    if (!uids.empty() &&
        std::find(uids.begin(), uids.end(), std::to_string(user.uid)) == uids.end())
      continue;
    // Only an absolute home without ".." parts, so the files read stay under the root.
    const std::filesystem::path home(user.directory);
    if (!home.is_absolute() ||
        std::any_of(home.begin(), home.end(), [](const auto& p) { return p == ".."; }))
      continue;
    for (const char* name : {"authorized_keys", "authorized_keys2"}) {
      const std::string key_file = (home / ".ssh" / name).lexically_normal().string();
      const std::optional<std::string> text = ReadFile(env.Path(key_file), 1 << 20);
      if (!text) continue;
      for (const std::string_view line : Lines(*text)) {
        std::vector<Value> row = ParseKey(line, user.uid, key_file);
        if (!row.empty() && !rows.Add(std::move(row))) return "";
      }
    }
  }
  return "";
}

}  // namespace

TableDef AuthorizedKeysTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  constexpr bool kHidden = true;
  return TableDef{"authorized_keys",
                  "Keys in users' ~/.ssh/authorized_keys files (all users without a uid "
                  "constraint).",
                  {{"uid", T::kBigInt, false, kIndex},
                   {"algorithm", T::kText},
                   {"key", T::kText},
                   {"options", T::kText},
                   {"comment", T::kText},
                   {"key_file", T::kText},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
