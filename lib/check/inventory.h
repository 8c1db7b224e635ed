// Inventory: scheduled queries whose results are sent as differences.
//
// An [[inventory]] query runs on its interval; its rows are turned into canonical JSON
// objects (column name -> text, in column order), sorted, and compared with the rows of
// the last run: rows only in the new run are "added", rows only in the old one
// "removed" (a multiset difference, so two equal rows count twice). On the first run, or
// when the query's text changed, every row is sent with action "snapshot". The rows of
// the last run are kept in buffer.db (state key "inventory.<name>") and written in the
// same transaction as the records that describe the change, so a crash never loses or
// repeats a difference (docs/checks.md, "Inventory").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "query/query_engine.h"
#include "util/status.h"

namespace outpost {

// The rows of one run: canonical JSON objects, sorted.
struct InventoryRows {
  std::string query;  // the SQL they came from: a changed query starts again
  std::vector<std::string> rows;
};

// Canonical JSON objects of a result's rows, sorted. Column names are made unique the
// way check records do it ("x", "x_2", ...); values are their text (NULL is "").
std::vector<std::string> CanonicalRows(const QueryResult& result);

struct RowDiff {
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

// Multiset difference of two sorted row lists.
RowDiff DiffRows(const std::vector<std::string>& before, const std::vector<std::string>& after);

// The state-key value of a run, and back. Decode fails on anything it did not encode.
std::string EncodeInventoryRows(const InventoryRows& rows);
Result<InventoryRows> DecodeInventoryRows(std::string_view text);

// "inventory.<name>"
std::string InventoryStateKey(std::string_view name);
inline constexpr std::string_view kInventoryStatePrefix = "inventory.";

}  // namespace outpost
