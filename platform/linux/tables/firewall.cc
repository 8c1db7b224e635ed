// firewall (outpost's own table; osquery has none on Linux): the base chains of the
// host firewall and their default policies, from its PERSISTENT configuration, the
// files loaded at boot, not the live kernel ruleset (reading that needs netlink:
// nf_tables or the iptables getsockopt interface, and root).
//
//   backend     "nftables" (/etc/nftables.conf, Debian's nftables.service) or "iptables"
//               (iptables-save files: /etc/iptables/rules.v4 and rules.v6 of
//               iptables-persistent, /etc/sysconfig/iptables and ip6tables on RHEL)
//   present     1 when a configuration file of the backend was found, else 0
//   family      nftables: the table's family ("inet", "ip", "ip6", ...; "ip" when left
//               out); iptables: "ip" for rules.v4/iptables, "ip6" for rules.v6/ip6tables
//   table_name  "filter", ...
//   chain       the chain's name as written ("input", "INPUT")
//   hook        the netfilter hook it is attached to ("input", "forward", "output",
//               "prerouting", "postrouting", "ingress"); for iptables the built-in
//               chain's name lower-cased
//   policy      lower-cased: "accept" or "drop"; an nftables base chain without a
//               `policy` statement has the default policy, "accept"
//   file        the host path of the file it was read from
//
// One row per base chain (an nftables chain with a `type ... hook ...` statement, an
// iptables built-in chain); regular chains have no policy and no row. A backend with
// no configuration file gives one row with present = 0 and the other columns NULL;
// a file with no base chain one row with present = 1 and NULL chain columns.
//
// The nftables parser is small and tolerant: it follows `table <family> <name> {`
// and `chain <name> {` blocks (also `add chain <family> <table> <name> { ... }`),
// reads `type ... hook <hook> ...` and `policy <verdict>` statements in a chain, and
// steps over every other block (sets, maps, anonymous sets). `include` statements are
// not followed; variables (`define`) are not expanded.
#include <algorithm>
#include <string>
#include <vector>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

constexpr size_t kMaxConfigBytes = 4u << 20;
constexpr size_t kMaxDepth = 64;

struct Chain {
  std::string family, table, name, hook, policy;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// nft's tokens: words, quoted strings, and "{", "}", ";" (a newline ends a statement
// too, given as ";"). Comments from '#' to the end of the line are dropped.
std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '\n' || c == ';') {
      out.emplace_back(";");
      ++i;
    } else if (c == '{' || c == '}') {
      out.emplace_back(1, c);
      ++i;
    } else if (c == '"') {
      const size_t end = text.find('"', i + 1);
      const size_t stop = end == std::string_view::npos ? text.size() : end + 1;
      out.emplace_back(text.substr(i + 1, stop - i - 1 - (end == std::string_view::npos ? 0 : 1)));
      i = stop;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\\') {
      ++i;
    } else {
      const size_t start = i;
      while (i < text.size() &&
             std::string_view(" \t\r\n;{}#\"\\").find(text[i]) == std::string_view::npos)
        ++i;
      out.emplace_back(text.substr(start, i - start));
    }
  }
  return out;
}

std::vector<Chain> ParseNftables(std::string_view text) {
  enum class Kind { kTable, kChain, kOther };
  struct Frame {
    Kind kind;
    Chain chain;  // family and table for a table; everything for a chain
  };
  std::vector<Frame> stack;
  std::vector<Chain> chains;
  std::vector<std::string> words;
  auto in_chain = [&] { return !stack.empty() && stack.back().kind == Kind::kChain; };

  auto end_statement = [&] {
    if (in_chain() && !words.empty()) {
      Chain& c = stack.back().chain;
      if (words[0] == "type") {
        const auto hook = std::find(words.begin(), words.end(), "hook");
        if (hook != words.end() && hook + 1 != words.end()) c.hook = Lower(*(hook + 1));
      } else if (words[0] == "policy" && words.size() >= 2) {
        c.policy = Lower(words[1]);
      }
    }
    words.clear();
  };

  for (const std::string& token : Tokenize(text)) {
    if (token == ";") {
      end_statement();
    } else if (token == "{") {
      std::vector<std::string> w = words;
      if (!w.empty() && (w[0] == "add" || w[0] == "create")) w.erase(w.begin());
      Frame frame{Kind::kOther, {}};
      const bool top = stack.empty();
      const std::vector<std::string> args(w.size() > 1 ? w.begin() + 1 : w.end(), w.end());
      if (top && !w.empty() && w[0] == "table" && !args.empty() && args.size() <= 2) {
        frame.kind = Kind::kTable;
        frame.chain.family = args.size() == 2 ? args[0] : "ip";
        frame.chain.table = args.back();
      } else if (!w.empty() && w[0] == "chain" && !args.empty()) {
        if (!top && stack.back().kind == Kind::kTable && args.size() == 1) {
          frame.kind = Kind::kChain;
          frame.chain = stack.back().chain;
          frame.chain.name = args[0];
        } else if (top && (args.size() == 2 || args.size() == 3)) {
          frame.kind = Kind::kChain;
          frame.chain.family = args.size() == 3 ? args[0] : "ip";
          frame.chain.table = args[args.size() - 2];
          frame.chain.name = args.back();
        }
      }
      words.clear();
      if (stack.size() >= kMaxDepth) break;
      stack.push_back(std::move(frame));
    } else if (token == "}") {
      end_statement();
      if (stack.empty()) continue;  // a stray brace
      Frame frame = std::move(stack.back());
      stack.pop_back();
      if (frame.kind == Kind::kChain && !frame.chain.hook.empty()) {
        if (frame.chain.policy.empty()) frame.chain.policy = "accept";
        chains.push_back(std::move(frame.chain));
      }
    } else if (words.size() < 64) {
      words.push_back(token);
    }
  }
  return chains;
}

// iptables-save: "*filter", then ":INPUT DROP [0:0]" per chain ("-" for a user chain).
std::vector<Chain> ParseIptablesSave(std::string_view text, const std::string& family) {
  std::vector<Chain> chains;
  std::string table;
  for (std::string_view line : Lines(text)) {
    line = Trim(line);
    if (line.size() > 1 && line.front() == '*') {
      table = std::string(Trim(line.substr(1)));
    } else if (line.size() > 1 && line.front() == ':' && !table.empty()) {
      const std::vector<std::string_view> f = Fields(line.substr(1));
      if (f.size() < 2 || f[1] == "-") continue;
      chains.push_back({family, table, std::string(f[0]), Lower(f[0]), Lower(f[1])});
    } else if (line == "COMMIT") {
      table.clear();
    }
  }
  return chains;
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  struct Source {
    const char* backend;
    const char* path;
    const char* family;  // for iptables files
  };
  static constexpr Source kSources[] = {{"nftables", "/etc/nftables.conf", ""},
                                        {"iptables", "/etc/iptables/rules.v4", "ip"},
                                        {"iptables", "/etc/iptables/rules.v6", "ip6"},
                                        {"iptables", "/etc/sysconfig/iptables", "ip"},
                                        {"iptables", "/etc/sysconfig/ip6tables", "ip6"}};
  for (const char* backend : {"nftables", "iptables"}) {
    bool present = false;
    for (const Source& s : kSources) {
      if (std::string_view(s.backend) != backend) continue;
      const std::optional<std::string> text = ReadFile(env.Path(s.path), kMaxConfigBytes);
      if (!text) continue;
      present = true;
      const std::vector<Chain> chains = std::string_view(backend) == "nftables"
                                            ? ParseNftables(*text)
                                            : ParseIptablesSave(*text, s.family);
      if (chains.empty() && !rows.Add({Text(backend), Value(int64_t{1}), Value(), Value(), Value(),
                                       Value(), Value(), Text(s.path)}))
        return "";
      for (const Chain& c : chains)
        if (!rows.Add({Text(backend), Value(int64_t{1}), Text(c.family), Text(c.table),
                       Text(c.name), Text(c.hook), Text(c.policy), Text(s.path)}))
          return "";
    }
    if (!present && !rows.Add({Text(backend), Value(int64_t{0})})) return "";
  }
  return "";
}

}  // namespace

TableDef FirewallTable() {
  using T = ColumnType;
  return TableDef{"firewall",
                  "Base chains and default policies of the persistent nftables/iptables "
                  "configuration (not the live ruleset).",
                  {{"backend", T::kText},
                   {"present", T::kInteger},
                   {"family", T::kText},
                   {"table_name", T::kText},
                   {"chain", T::kText},
                   {"hook", T::kText},
                   {"policy", T::kText},
                   {"file", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
