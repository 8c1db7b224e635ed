#include "check/inventory.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "util/json_text.h"

namespace outpost {

std::vector<std::string> CanonicalRows(const QueryResult& result) {
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const std::string& c : result.columns) {
    std::string k = c;
    for (int n = 2; seen.count(k); ++n) k = c + "_" + std::to_string(n);
    seen.insert(k);
    keys.push_back(std::move(k));
  }
  std::vector<std::string> rows;
  rows.reserve(result.rows.size());
  for (const auto& row : result.rows) {
    std::string out = "{";
    for (size_t c = 0; c < row.size() && c < keys.size(); ++c) {
      if (c) out += ',';
      AppendJsonString(out, keys[c]);
      out += ':';
      AppendJsonString(out, ValueText(row[c]));
    }
    out += '}';
    rows.push_back(std::move(out));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

RowDiff DiffRows(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  RowDiff d;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(d.added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(d.removed));
  return d;
}

std::string EncodeInventoryRows(const InventoryRows& rows) {
  std::string out = "{\"v\":1,\"query\":";
  AppendJsonString(out, rows.query);
  out += ",\"rows\":[";
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, rows.rows[i]);  // as strings: compared byte for byte
  }
  out += "]}";
  return out;
}

Result<InventoryRows> DecodeInventoryRows(std::string_view text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("v", 0) != 1)
      return Corrupt("inventory state has an unknown version");
    InventoryRows r;
    r.query = j.at("query").get<std::string>();
    r.rows = j.at("rows").get<std::vector<std::string>>();
    if (!std::is_sorted(r.rows.begin(), r.rows.end()))
      return Corrupt("inventory state rows are not sorted");
    return r;
  } catch (const std::exception& e) {
    return Corrupt(std::string("inventory state does not parse: ") + e.what());
  }
}

std::string InventoryStateKey(std::string_view name) {
  return std::string(kInventoryStatePrefix) + std::string(name);
}

}  // namespace outpost
