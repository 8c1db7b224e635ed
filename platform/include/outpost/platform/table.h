// Device tables: what the OS knows about the machine, as rows of typed values.
//
// A table is a TableDef: its name, its columns (osquery's names and types wherever
// osquery has the table, OSQUERY-TABLES.md), and a function that yields rows. The
// tables of one OS are listed, one line each, in platform/<os>/tables/registry.cc;
// lib/query turns every TableDef into an SQLite virtual table, so adding a table never
// touches SQLite code. This layer depends on nothing above it: errors are strings.
//
// Every Linux table reads below TableEnv::root (/proc, /sys, /etc, /var/lib/dpkg, ...),
// so tests point it at a fixture tree and never depend on the machine they run on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace outpost::platform {

enum class ColumnType { kText, kInteger, kBigInt, kDouble };

// "TEXT", "INTEGER", "BIGINT", "DOUBLE"
std::string_view ColumnTypeName(ColumnType type);

struct ColumnDef {
  std::string name;
  ColumnType type = ColumnType::kText;
  // The table refuses to scan without an "=" or LIKE constraint on at least one of its
  // required columns (`file` needs path or directory: it must never walk the disk).
  bool required = false;
  // "=" (and IN) constraints on this column reach the table, which may use them to
  // read less (`processes WHERE pid = 1` reads one /proc entry). The rows it yields
  // are filtered by SQLite anyway, so a table may ignore them.
  bool index = false;
  // Left out of SELECT *; returned when named (osquery's hidden columns).
  bool hidden = false;
};

// NULL, an integer, a real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

enum class ConstraintOp { kEquals, kLike, kGlob };

// A constraint of the WHERE clause passed down to the table, on a required or index
// column: `column` indexes TableDef::columns.
struct Constraint {
  size_t column = 0;
  ConstraintOp op = ConstraintOp::kEquals;
  Value value;
};

struct TableQuery {
  std::vector<Constraint> constraints;

  // The text of every `op` constraint on `column` (an IN list gives several; integers
  // as decimal text). Empty when there is none.
  std::vector<std::string> Texts(size_t column, ConstraintOp op = ConstraintOp::kEquals) const;
  bool Has(size_t column) const;
};

struct TableEnv {
  std::filesystem::path root = "/";  // where the OS's files are read from
  // True once the query's time limit has passed: a long walk should stop and return.
  std::function<bool()> should_stop = [] { return false; };
  // Reads a database the OS keeps in SQLite (rpm's rpmdb.sqlite). SQLite is wrapped
  // once, in lib/ (STYLE.md rule 4), so the query engine supplies this and platform never
  // links it; empty when nobody does (a table that needs it then fails with a message).
  // Opens `file` read-only (never creating it), runs `sql` and calls `row` with the first
  // column of each result row, as bytes valid during the call, until `row` returns
  // false. Returns "" or what went wrong.
  using SqliteRows = std::function<bool(std::string_view first_column)>;
  std::function<std::string(const std::filesystem::path& file, std::string_view sql,
                            const SqliteRows& row)>
      read_sqlite;

  // root / "etc/passwd" for "/etc/passwd" (an absolute path under the root).
  std::filesystem::path Path(std::string_view absolute) const;
  bool stopped() const { return should_stop(); }
};

// Where a table puts its rows.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // One Value per column, in TableDef::columns order (a shorter row is padded with
  // NULL). Returns false when no more rows are wanted (row or time limit): the table
  // should return at once.
  virtual bool Add(std::vector<Value> row) = 0;
};

// Generates the rows; returns an empty string on success, else what went wrong (the
// query fails with that message). Malformed input files are not errors: a table skips
// what it cannot parse and yields the rest.
using TableGenerator =
    std::function<std::string(const TableEnv& env, const TableQuery& query, RowSink& rows)>;

struct TableDef {
  std::string name;
  std::string description;  // one sentence, for `outpost tables`
  std::vector<ColumnDef> columns;
  TableGenerator generate;

  // The index of column `name`, or nullopt.
  std::optional<size_t> Column(std::string_view name) const;
};

// The tables this OS has (empty where none is written yet: Windows and macOS for now).
const std::vector<TableDef>& DeviceTables();

// "linux", "windows", "macos": for messages such as "no device tables on windows yet".
std::string_view DeviceTablesOs();

}  // namespace outpost::platform
