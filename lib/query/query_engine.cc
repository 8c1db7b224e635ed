// The device tables as SQLite virtual tables, and the read-only engine around them.
// With lib/buffer/sqlite_db.cc the only code that includes sqlite3.h: a virtual table
// module is SQLite's plugin interface, which the buffer's wrapper has no use for.
#include "query/query_engine.h"

#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "buffer/sqlite_db.h"

namespace outpost {

// What every virtual table of one engine shares: the clock, the deadline and row
// limit of the running query, and the first table error (SQLite keeps only its text).
struct QueryEngine::Impl {
  sqlite3* db = nullptr;
  const Clock* clock = nullptr;
  std::filesystem::path root;
  MonoTime deadline{};
  int64_t max_rows = 0;
  bool timed_out = false;
  bool too_many_rows = false;
  bool declaring = false;  // inside sqlite3_declare_vtab: the authorizer lets it pass
  struct Module;
  std::vector<std::unique_ptr<Module>> modules;

  bool Expired() {
    if (!timed_out && clock->Monotonic() > deadline) timed_out = true;
    return timed_out;
  }
};

struct QueryEngine::Impl::Module {
  Impl* engine = nullptr;
  const platform::TableDef* table = nullptr;
};

namespace {

using Impl = QueryEngine::Impl;

// TableEnv::read_sqlite: a database the OS keeps in SQLite (rpmdb.sqlite), read-only,
// through the buffer's wrapper.
std::string ReadSqlite(const std::filesystem::path& file, std::string_view sql,
                       const platform::TableEnv::SqliteRows& row) {
  Db::OpenOptions options;
  options.read_only = true;
  options.busy_timeout_ms = 1000;
  Result<Db> db = Db::Open(file, options);
  if (!db.ok()) return db.status().message();
  Result<Statement> stmt = db->Prepare(sql);
  if (!stmt.ok()) return stmt.status().message();
  for (;;) {
    Result<bool> more = stmt->Step();
    if (!more.ok()) return more.status().message();
    if (!*more || !row(stmt->ColumnBlobView(0))) return "";
  }
}

struct VTab {
  sqlite3_vtab base;  // first: SQLite's view of it
  Impl::Module* module;
};

struct Cursor {
  sqlite3_vtab_cursor base;
  std::vector<std::vector<platform::Value>> rows;
  size_t at = 0;
};

std::string DeclareSql(const platform::TableDef& t) {
  std::string sql = "CREATE TABLE x(";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const platform::ColumnDef& c = t.columns[i];
    if (i > 0) sql += ", ";
    sql += "\"" + c.name + "\" " + std::string(platform::ColumnTypeName(c.type));
    if (c.hidden) sql += " HIDDEN";
  }
  return sql + ")";
}

void SetError(sqlite3_vtab* vtab, const std::string& message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message.c_str());
}

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  auto* module = static_cast<Impl::Module*>(aux);
  module->engine->declaring = true;
  const int rc = sqlite3_declare_vtab(db, DeclareSql(*module->table).c_str());
  module->engine->declaring = false;
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("cannot declare table %s", module->table->name.c_str());
    return rc;
  }
  auto* vtab = new (std::nothrow) VTab{};
  if (vtab == nullptr) return SQLITE_NOMEM;
  vtab->module = module;
  *out = &vtab->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* vtab) {
  delete reinterpret_cast<VTab*>(vtab);
  return SQLITE_OK;
}

// Pushes "=", LIKE and GLOB constraints on index and required columns down to the
// table; idxStr lists them as "<column><op>," in argv order (op: e, l, g). A plan
// without any required column constrained is priced out, so a join that can feed
// `file.path` from another table is chosen over a full scan; if none can, xFilter
// refuses with a clear message.
int BestIndex(sqlite3_vtab* base, sqlite3_index_info* info) {
  const platform::TableDef& t = *reinterpret_cast<VTab*>(base)->module->table;
  bool has_required = false;
  for (const platform::ColumnDef& c : t.columns) has_required |= c.required;
  bool required_met = false;
  std::string plan;
  int argv = 0;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.iColumn < 0 || static_cast<size_t>(c.iColumn) >= t.columns.size()) continue;
    const platform::ColumnDef& col = t.columns[static_cast<size_t>(c.iColumn)];
    if (!col.index && !col.required) continue;
    char op = 0;
    if (c.op == SQLITE_INDEX_CONSTRAINT_EQ)
      op = 'e';
    else if (c.op == SQLITE_INDEX_CONSTRAINT_LIKE)
      op = 'l';
    else if (c.op == SQLITE_INDEX_CONSTRAINT_GLOB)
      op = 'g';
    if (op == 0) continue;
    info->aConstraintUsage[i].argvIndex = ++argv;
    info->aConstraintUsage[i].omit = 0;  // SQLite checks the rows again
    plan += std::to_string(c.iColumn) + op + ",";
    required_met |= col.required;
  }
  if (has_required && !required_met) {
    info->estimatedCost = 1e15;
    info->estimatedRows = 1000000000;
  } else {
    info->estimatedCost = argv > 0 ? 10.0 : 100000.0;
    info->estimatedRows = argv > 0 ? 10 : 10000;
  }
  info->idxStr = sqlite3_mprintf("%s", plan.c_str());
  info->needToFreeIdxStr = 1;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) Cursor{};
  if (cursor == nullptr) return SQLITE_NOMEM;
  *out = &cursor->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<Cursor*>(cursor);
  return SQLITE_OK;
}

platform::Value FromSqlite(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return sqlite3_value_double(v);
    case SQLITE_NULL:
      return std::monostate{};
    default: {
      const unsigned char* text = sqlite3_value_text(v);
      return text == nullptr ? std::string()
                             : std::string(reinterpret_cast<const char*>(text),
                                           static_cast<size_t>(sqlite3_value_bytes(v)));
    }
  }
}

class CursorSink final : public platform::RowSink {
 public:
  CursorSink(Cursor& cursor, Impl& engine, size_t columns)
      : cursor_(cursor), engine_(engine), columns_(columns) {}
  bool Add(std::vector<platform::Value> row) override {
    if (engine_.Expired()) return false;
    if (static_cast<int64_t>(cursor_.rows.size()) >= engine_.max_rows) {
      engine_.too_many_rows = true;
      return false;
    }
    row.resize(columns_);
    cursor_.rows.push_back(std::move(row));
    return true;
  }

 private:
  Cursor& cursor_;
  Impl& engine_;
  size_t columns_;
};

std::string RequiredMessage(const platform::TableDef& t) {
  std::string names;
  std::string first;
  for (const platform::ColumnDef& c : t.columns) {
    if (!c.required) continue;
    if (!names.empty()) names += " or ";
    names += c.name;
    if (first.empty()) first = c.name;
  }
  return "table " + t.name + " needs a constraint on " + names +
         " in the WHERE clause (for example WHERE " + first +
         " = '/etc/passwd'): it never scans the whole disk";
}

int Filter(sqlite3_vtab_cursor* base, int, const char* idx_str, int argc, sqlite3_value** argv) {
  auto* cursor = reinterpret_cast<Cursor*>(base);
  auto* vtab = reinterpret_cast<VTab*>(base->pVtab);
  Impl& engine = *vtab->module->engine;
  const platform::TableDef& t = *vtab->module->table;
  cursor->rows.clear();
  cursor->at = 0;

  platform::TableQuery query;
  bool has_required = false;
  bool required_met = false;
  for (const platform::ColumnDef& c : t.columns) has_required |= c.required;
  const char* p = idx_str == nullptr ? "" : idx_str;
  for (int i = 0; i < argc && *p != '\0'; ++i) {
    char* end = nullptr;
    const unsigned long column = std::strtoul(p, &end, 10);
    if (end == nullptr || *end == '\0' || column >= t.columns.size()) break;
    const char op = *end;
    p = end + 1;
    if (*p == ',') ++p;
    platform::Constraint c;
    c.column = column;
    c.op = op == 'l'   ? platform::ConstraintOp::kLike
           : op == 'g' ? platform::ConstraintOp::kGlob
                       : platform::ConstraintOp::kEquals;
    c.value = FromSqlite(argv[i]);
    if (std::holds_alternative<std::monostate>(c.value)) continue;  // "= NULL" matches nothing
    required_met |= t.columns[column].required;
    query.constraints.push_back(std::move(c));
  }
  if (has_required && !required_met) {
    SetError(base->pVtab, RequiredMessage(t));
    return SQLITE_CONSTRAINT;
  }
  platform::TableEnv env;
  env.root = engine.root;
  env.should_stop = [&engine] { return engine.Expired(); };
  env.read_sqlite = ReadSqlite;
  CursorSink sink(*cursor, engine, t.columns.size());
  std::string error;
  try {
    error = t.generate(env, query, sink);
  } catch (const std::exception& e) {  // a table bug must not take the agent down
    error = std::string("internal error: ") + e.what();
  }
  if (!error.empty()) {
    SetError(base->pVtab, "table " + t.name + ": " + error);
    return SQLITE_ERROR;
  }
  if (engine.too_many_rows) {
    SetError(base->pVtab, "table " + t.name + " yielded more than " +
                              std::to_string(engine.max_rows) + " rows (the row limit)");
    return SQLITE_ERROR;
  }
  if (engine.timed_out) {
    SetError(base->pVtab, "table " + t.name + " did not finish within the time limit");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* base) {
  ++reinterpret_cast<Cursor*>(base)->at;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* base) {
  auto* cursor = reinterpret_cast<Cursor*>(base);
  return cursor->at >= cursor->rows.size() ? 1 : 0;
}

int Column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int i) {
  auto* cursor = reinterpret_cast<Cursor*>(base);
  const auto& row = cursor->rows[cursor->at];
  if (i < 0 || static_cast<size_t>(i) >= row.size()) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  const platform::Value& v = row[static_cast<size_t>(i)];
  if (const auto* n = std::get_if<int64_t>(&v))
    sqlite3_result_int64(ctx, *n);
  else if (const auto* d = std::get_if<double>(&v))
    sqlite3_result_double(ctx, *d);
  else if (const auto* s = std::get_if<std::string>(&v))
    sqlite3_result_text64(ctx, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  else
    sqlite3_result_null(ctx);
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* base, sqlite3_int64* out) {
  *out = static_cast<sqlite3_int64>(reinterpret_cast<Cursor*>(base)->at);
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 1;
  m.xCreate = nullptr;  // eponymous only: the table exists without CREATE VIRTUAL TABLE
  m.xConnect = Connect;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xDestroy = Disconnect;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = Rowid;
  return m;
}

const sqlite3_module kModule = MakeModule();

// Reading only: SELECT, reads of columns, functions, recursive CTEs.
int Authorize(void* user, int action, const char*, const char*, const char*, const char*) {
  if (static_cast<Impl*>(user)->declaring) return SQLITE_OK;  // a table's own declaration
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    default:
      return SQLITE_DENY;
  }
}

int Progress(void* user) { return static_cast<Impl*>(user)->Expired() ? 1 : 0; }

}  // namespace

std::string ValueText(const platform::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", *d);
    return buf;
  }
  return "";
}

QueryEngine::QueryEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

QueryEngine::~QueryEngine() {
  if (impl_ && impl_->db != nullptr) sqlite3_close_v2(impl_->db);
}

Result<std::unique_ptr<QueryEngine>> QueryEngine::Create(
    const std::vector<platform::TableDef>& tables, std::filesystem::path root, const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  impl->clock = &clock;
  impl->root = std::move(root);
  if (sqlite3_open_v2(":memory:", &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr) !=
      SQLITE_OK) {
    const std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    if (impl->db != nullptr) sqlite3_close_v2(impl->db);
    return Internal("cannot open the query engine's database: " + msg);
  }
  std::unique_ptr<QueryEngine> engine(new QueryEngine(std::move(impl)));
  Impl& m = *engine->impl_;
  sqlite3_db_config(m.db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(m.db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  // osquery's SQLite reads "text" as a string where no such column exists, and many
  // published osquery queries rely on it (WHERE status = "Live"); our build turns that
  // off by default (SQLITE_DQS=0, right for buffer.db), so the query connection turns
  // it back on.
  sqlite3_db_config(m.db, SQLITE_DBCONFIG_DQS_DML, 1, nullptr);
  for (const platform::TableDef& t : tables) {
    auto module = std::make_unique<Impl::Module>();
    module->engine = &m;
    module->table = &t;
    if (sqlite3_create_module_v2(m.db, t.name.c_str(), &kModule, module.get(), nullptr) !=
        SQLITE_OK)
      return Internal("cannot register table " + t.name + ": " + sqlite3_errmsg(m.db));
    m.modules.push_back(std::move(module));
  }
  sqlite3_set_authorizer(m.db, Authorize, &m);
  sqlite3_progress_handler(m.db, 1000, Progress, &m);
  return engine;
}

Result<QueryResult> QueryEngine::Run(std::string_view sql, const QueryLimits& limits) {
  Impl& m = *impl_;
  m.deadline = m.clock->Monotonic() + limits.timeout;
  m.max_rows = std::max<int64_t>(limits.max_rows, 1);
  m.timed_out = false;
  m.too_many_rows = false;

  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(m.db, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(m.db);
    if (stmt != nullptr) sqlite3_finalize(stmt);
    if (msg == "not authorized")
      msg = "only SELECT is allowed (no writes, ATTACH, PRAGMA or extensions)";
    return InvalidArgument("query: " + msg);
  }
  if (stmt == nullptr) return InvalidArgument("query: the SQL text holds no statement");
  const std::string_view rest =
      tail == nullptr ? std::string_view() : sql.substr(static_cast<size_t>(tail - sql.data()));
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(stmt);
    return InvalidArgument("query: one statement at a time (found more after the first ';')");
  }
  if (sqlite3_stmt_readonly(stmt) == 0) {
    sqlite3_finalize(stmt);
    return InvalidArgument("query: only SELECT is allowed");
  }
  QueryResult result;
  const int n = sqlite3_column_count(stmt);
  for (int i = 0; i < n; ++i) {
    const char* name = sqlite3_column_name(stmt, i);
    result.columns.emplace_back(name == nullptr ? "" : name);
  }
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (static_cast<int64_t>(result.rows.size()) >= m.max_rows) {
      sqlite3_finalize(stmt);
      return Unavailable("query: more than " + std::to_string(m.max_rows) +
                         " rows (the row limit); narrow the WHERE clause or add LIMIT");
    }
    std::vector<platform::Value> row;
    row.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) row.push_back(FromSqlite(sqlite3_column_value(stmt, i)));
    result.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) {
    std::string msg = sqlite3_errmsg(m.db);
    sqlite3_finalize(stmt);
    if (m.timed_out)
      return Unavailable("query: stopped after the time limit of " +
                         std::to_string(limits.timeout.count()) + " ms");
    if (m.too_many_rows) return Unavailable("query: " + msg);
    return InvalidArgument("query: " + msg);
  }
  sqlite3_finalize(stmt);
  return result;
}

}  // namespace outpost
