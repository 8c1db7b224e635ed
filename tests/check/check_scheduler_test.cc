// CheckScheduler: results written on change and as snapshots, state kept across
// restarts, one chunk per run, exact record fields.
#include <catch.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "buffer/sqlite_db.h"
#include "check/check_scheduler.h"
#include "check/inventory.h"
#include "chunk/zstd_codec.h"
#include "query/query_engine.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

using namespace std::chrono_literals;
using platform::ColumnType;
using platform::TableDef;

// "flags": one row per name in `on`.
TableDef Flags(const std::set<std::string>& on) {
  return TableDef{"flags",
                  "names that are on",
                  {{"name", ColumnType::kText}, {"value", ColumnType::kInteger}},
                  [&on](const platform::TableEnv&, const platform::TableQuery&,
                        platform::RowSink& rows) -> std::string {
                    for (const std::string& n : on)
                      if (!rows.Add({n, int64_t(1)})) break;
                    return "";
                  }};
}

Check MakeCheck(std::string id, std::string query, std::string remediation = "") {
  Check c;
  c.id = id;
  c.title = "Title of " + id;
  c.severity = CheckSeverity::kHigh;
  c.interval = 1h;
  c.query = std::move(query);
  c.remediation = std::move(remediation);
  return c;
}

struct Chunk {
  SealedChunk meta;
  std::vector<nlohmann::ordered_json> records;
};

struct Fixture {
  testing::TempDir dir;
  FakeClock clock;
  std::set<std::string> on = {"a", "b"};
  std::vector<TableDef> tables = {Flags(on)};
  std::unique_ptr<QueryEngine> engine;
  std::unique_ptr<BufferStore> store;
  ChecksConfig config;
  std::vector<Check> checks = {
      MakeCheck("a-on", "SELECT name, value FROM flags WHERE name = 'a'"),
      MakeCheck("b-on", "SELECT name FROM flags WHERE name = 'b'", "Turn b on"),
      MakeCheck("broken", "SELECT * FROM nosuch"),
  };
  std::vector<InventoryQueryConfig> inventory;

  Fixture() {
    auto e = QueryEngine::Create(tables, "/", clock);
    REQUIRE(e.ok());
    engine = std::move(*e);
    Reopen();
  }
  void Reopen() {
    store.reset();
    BufferStore::Options o;
    o.file = dir.path() / "buffer.db";
    auto s = BufferStore::Open(o, clock, Logger::Discard());
    REQUIRE(s.ok());
    store = std::move(*s);
  }
  std::unique_ptr<CheckScheduler> Scheduler(uint64_t seed = 1) {
    return std::make_unique<CheckScheduler>(checks, config, CheckIdentity{"agent1", "host1"},
                                            *store, *engine, clock, Logger::Discard(), seed,
                                            "linux", inventory);
  }
  std::vector<Chunk> Chunks(std::string stream = "checks") {
    std::vector<Chunk> out;
    ChunkFilter f;
    f.stream = stream;
    REQUIRE(store
                ->ForEachChunk(f,
                               [&](const StoredChunk& c) {
                                 Chunk ch;
                                 ch.meta = c.chunk;
                                 auto body = ZstdDecompress(c.chunk.body, 1 << 20);
                                 REQUIRE(body.ok());
                                 CHECK(body->size() == c.chunk.raw_bytes);
                                 size_t pos = 0;
                                 while (pos < body->size()) {
                                   size_t nl = body->find('\n', pos);
                                   REQUIRE(nl != std::string::npos);
                                   ch.records.push_back(
                                       nlohmann::ordered_json::parse(body->substr(pos, nl - pos)));
                                   pos = nl + 1;
                                 }
                                 out.push_back(std::move(ch));
                                 return true;
                               })
                .ok());
    return out;
  }
  std::vector<std::string> Ids(const Chunk& c) {
    std::vector<std::string> ids;
    for (const auto& r : c.records) ids.push_back(r["check_id"]);
    return ids;
  }
};

std::vector<std::string> Keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> k;
  for (const auto& [key, v] : j.items()) k.push_back(key);
  return k;
}

TEST_CASE("first run writes one record per check, with exact fields", "[check]") {
  Fixture f;
  auto s = f.Scheduler();
  // Nothing is due before the jitter has passed... and everything after 60 s at most.
  CHECK(s->NextWait() < 60s);
  f.clock.Advance(60s);
  REQUIRE(s->RunDue().ok());
  auto chunks = f.Chunks();
  REQUIRE(chunks.size() == 1);
  const Chunk& c = chunks[0];
  CHECK(c.meta.stream == "checks");
  CHECK(c.meta.codec == "zstd");
  CHECK(c.meta.format == "ndjson");
  CHECK(c.meta.records == 3);
  CHECK(c.meta.created_at_ms == 1767225660000);
  REQUIRE(f.Ids(c) == std::vector<std::string>{"a-on", "b-on", "broken"});

  const auto& a = c.records[0];
  CHECK(Keys(a) == std::vector<std::string>{"@timestamp", "host", "agent_id", "stream", "source",
                                            "check_id", "title", "severity", "status", "rows"});
  CHECK(a["@timestamp"] == "2026-01-01T00:01:00.000Z");
  CHECK(a["host"] == "host1");
  CHECK(a["agent_id"] == "agent1");
  CHECK(a["stream"] == "checks");
  CHECK(a["source"] == "check");
  CHECK(a["title"] == "Title of a-on");
  CHECK(a["severity"] == "high");
  CHECK(a["status"] == "pass");
  CHECK(a["rows"] == nlohmann::ordered_json::parse(R"([{"name":"a","value":"1"}])"));

  const auto& e = c.records[2];
  CHECK(Keys(e) == std::vector<std::string>{"@timestamp", "host", "agent_id", "stream", "source",
                                            "check_id", "title", "severity", "status", "rows",
                                            "error"});
  CHECK(e["status"] == "error");
  CHECK(e["rows"] == nlohmann::ordered_json::array());
  CHECK(e["error"].get<std::string>().find("nosuch") != std::string::npos);

  SECTION("unchanged results write nothing") {
    f.clock.Advance(1h);
    REQUIRE(s->RunDue().ok());
    CHECK(f.Chunks().size() == 1);
  }
  SECTION("a status change writes only that check, fail with remediation") {
    f.on.erase("b");
    f.clock.Advance(1h);
    REQUIRE(s->RunDue().ok());
    auto after = f.Chunks();
    REQUIRE(after.size() == 2);
    REQUIRE(f.Ids(after[1]) == std::vector<std::string>{"b-on"});
    const auto& b = after[1].records[0];
    CHECK(Keys(b) == std::vector<std::string>{"@timestamp", "host", "agent_id", "stream", "source",
                                              "check_id", "title", "severity", "status", "rows",
                                              "remediation"});
    CHECK(b["status"] == "fail");
    CHECK(b["remediation"] == "Turn b on");
    CHECK(b["rows"] == nlohmann::ordered_json::array());
  }
  SECTION("a snapshot writes every result again") {
    for (int i = 0; i < 24; ++i) {
      f.clock.Advance(1h);
      REQUIRE(s->RunDue().ok());
    }
    auto after = f.Chunks();
    REQUIRE(after.size() == 2);
    REQUIRE(f.Ids(after[1]) == std::vector<std::string>{"a-on", "b-on", "broken"});
    for (const auto& r : after[1].records) {
      CHECK(r["snapshot"] == true);
      CHECK(Keys(r).back() == "snapshot");
    }
    // And not again before the next interval.
    f.clock.Advance(1h);
    REQUIRE(s->RunDue().ok());
    CHECK(f.Chunks().size() == 2);
  }
  SECTION("a restart does not resend unchanged results") {
    s.reset();
    f.Reopen();
    auto s2 = f.Scheduler(2);
    REQUIRE(s2->RunAll().ok());
    CHECK(f.Chunks().size() == 1);
    f.on.erase("a");
    f.clock.Advance(1h);
    REQUIRE(s2->RunDue().ok());
    auto after = f.Chunks();
    REQUIRE(after.size() == 2);
    CHECK(f.Ids(after[1]) == std::vector<std::string>{"a-on"});
  }
}

TEST_CASE("check scheduling: jitter, intervals and NextWait", "[check]") {
  Fixture f;
  f.checks = {MakeCheck("a-on", "SELECT name FROM flags WHERE name = 'a'")};
  f.checks[0].interval = 10min;  // jitter in [0, 60s)
  auto s = f.Scheduler(7);
  const auto first = s->NextWait();
  CHECK(first < 60s);
  f.clock.Advance(first);
  CHECK(s->NextWait() == 0ms);
  REQUIRE(s->RunDue().ok());
  CHECK(f.Chunks().size() == 1);
  CHECK(s->NextWait() == 10min);
  f.clock.Advance(5min);
  f.on.erase("a");
  REQUIRE(s->RunDue().ok());  // not due yet: nothing runs
  CHECK(f.Chunks().size() == 1);
  f.clock.Advance(5min);
  REQUIRE(s->RunDue().ok());
  CHECK(f.Chunks().size() == 2);
}

TEST_CASE("check results that cannot be committed are kept and retried", "[check]") {
  Fixture f;
  f.store.reset();
  BufferStore::Options o;
  o.file = f.dir.path() / "buffer.db";
  o.busy_timeout_ms = 50;
  auto st = BufferStore::Open(o, f.clock, Logger::Discard());
  REQUIRE(st.ok());
  f.store = std::move(*st);
  auto s = f.Scheduler();
  {
    // Another connection holds the write lock: the commit fails.
    auto other = Db::Open(o.file, {.read_only = false, .create = false, .busy_timeout_ms = 50});
    REQUIRE(other.ok());
    REQUIRE(other->Exec("BEGIN IMMEDIATE").ok());
    CHECK_FALSE(s->RunAll().ok());
    CHECK(s->pending_records() == 3);
    CHECK(s->NextWait() <= 30s);
    REQUIRE(other->Exec("ROLLBACK").ok());
  }
  f.clock.Advance(30s);
  REQUIRE(s->RunDue().ok());  // nothing newly due; the kept records are committed
  CHECK(s->pending_records() == 0);
  auto chunks = f.Chunks();
  REQUIRE(chunks.size() == 1);
  CHECK(f.Ids(chunks[0]) == std::vector<std::string>{"a-on", "b-on", "broken"});
}

}  // namespace
}  // namespace outpost

// ---- Inventory: differential results ----

namespace outpost {
namespace {

InventoryQueryConfig MakeInventory(std::string name, std::string query,
                                   std::chrono::milliseconds interval = 10min) {
  InventoryQueryConfig q;
  q.name = std::move(name);
  q.query = std::move(query);
  q.interval = interval;
  return q;
}

// "<action> <name column>" for each record of a chunk, in order.
std::vector<std::string> Actions(const Chunk& c) {
  std::vector<std::string> out;
  for (const auto& r : c.records) {
    std::string a = r["action"];
    if (r.contains("columns")) a += " " + r["columns"]["name"].get<std::string>();
    out.push_back(a);
  }
  return out;
}

TEST_CASE("canonical rows: text values, unique keys, sorted; multiset differences",
          "[check][inventory]") {
  QueryResult r;
  r.columns = {"name", "n", "name"};
  r.rows = {{std::string("b\"x"), int64_t(2), platform::Value()},
            {std::string("a"), int64_t(1), std::string("z")}};
  const std::vector<std::string> rows = CanonicalRows(r);
  CHECK(rows == std::vector<std::string>{R"({"name":"a","n":"1","name_2":"z"})",
                                         R"({"name":"b\"x","n":"2","name_2":""})"});

  const RowDiff d = DiffRows({"a", "b", "b", "c"}, {"b", "c", "c", "d"});
  CHECK(d.added == std::vector<std::string>{"c", "d"});
  CHECK(d.removed == std::vector<std::string>{"a", "b"});
  CHECK(DiffRows({}, {}).added.empty());

  const InventoryRows in{"SELECT 1", rows};
  auto back = DecodeInventoryRows(EncodeInventoryRows(in));
  REQUIRE(back.ok());
  CHECK(back->query == "SELECT 1");
  CHECK(back->rows == rows);
  CHECK(DecodeInventoryRows("not json").status().code() == Code::kCorrupt);
  CHECK(DecodeInventoryRows(R"({"v":2,"query":"","rows":[]})").status().code() == Code::kCorrupt);
  CHECK(DecodeInventoryRows(R"({"v":1,"query":"q","rows":["b","a"]})").status().code() ==
        Code::kCorrupt);
  CHECK(DecodeInventoryRows(R"({"v":1,"query":"q","rows":[1]})").status().code() == Code::kCorrupt);
}

TEST_CASE("inventory: snapshot first, then rows added and removed, across restarts",
          "[check][inventory]") {
  Fixture f;
  f.checks.clear();
  f.inventory = {MakeInventory("flags", "SELECT name, value FROM flags")};
  auto s = f.Scheduler();
  CHECK(s->inventory_queries() == 1);
  REQUIRE(s->RunAll().ok());
  auto chunks = f.Chunks("inventory");
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].meta.stream == "inventory");
  CHECK(Actions(chunks[0]) == std::vector<std::string>{"snapshot a", "snapshot b"});
  const auto& r0 = chunks[0].records[0];
  CHECK(Keys(r0) == std::vector<std::string>{"@timestamp", "host", "agent_id", "stream", "source",
                                             "name", "action", "columns"});
  CHECK(r0["name"] == "flags");
  CHECK(r0["columns"] == nlohmann::ordered_json::parse(R"({"name":"a","value":"1"})"));
  CHECK(f.Chunks("checks").empty());

  // Not due yet: nothing runs.
  f.clock.Advance(5min);
  REQUIRE(s->RunDue().ok());
  CHECK(f.Chunks("inventory").size() == 1);

  // Due, nothing changed: no records.
  f.clock.Advance(5min);
  REQUIRE(s->RunDue().ok());
  CHECK(f.Chunks("inventory").size() == 1);

  // a goes, c comes.
  f.on.erase("a");
  f.on.insert("c");
  f.clock.Advance(10min);
  REQUIRE(s->RunDue().ok());
  chunks = f.Chunks("inventory");
  REQUIRE(chunks.size() == 2);
  CHECK(Actions(chunks[1]) == std::vector<std::string>{"removed a", "added c"});

  // A restart compares with the rows kept in buffer.db: only the new difference.
  s.reset();
  f.Reopen();
  f.on.insert("d");
  s = f.Scheduler(7);
  REQUIRE(s->RunAll().ok());
  chunks = f.Chunks("inventory");
  REQUIRE(chunks.size() == 3);
  CHECK(Actions(chunks[2]) == std::vector<std::string>{"added d"});

  // A changed query starts again with a snapshot.
  s.reset();
  f.inventory[0].query = "SELECT name FROM flags";
  s = f.Scheduler();
  REQUIRE(s->RunAll().ok());
  chunks = f.Chunks("inventory");
  REQUIRE(chunks.size() == 4);
  CHECK(Actions(chunks[3]) == std::vector<std::string>{"snapshot b", "snapshot c", "snapshot d"});

  // A query that is gone is forgotten.
  auto keys = f.store->StateKeys("inventory.");
  REQUIRE(keys.ok());
  CHECK(*keys == std::vector<std::string>{"inventory.flags"});
  s.reset();
  f.inventory = {MakeInventory("other", "SELECT name FROM flags WHERE name = 'b'")};
  s = f.Scheduler();
  REQUIRE(s->RunAll().ok());
  keys = f.store->StateKeys("inventory.");
  REQUIRE(keys.ok());
  CHECK(*keys == std::vector<std::string>{"inventory.other"});
}

TEST_CASE("inventory: a failing query sends its error once and keeps its last rows",
          "[check][inventory]") {
  Fixture f;
  f.checks.clear();
  f.inventory = {MakeInventory("flags", "SELECT name FROM flags"),
                 MakeInventory("broken", "SELECT * FROM nosuch")};
  auto s = f.Scheduler();
  REQUIRE(s->RunAll().ok());
  auto chunks = f.Chunks("inventory");
  REQUIRE(chunks.size() == 1);
  REQUIRE(chunks[0].records.size() == 3);
  CHECK(chunks[0].records[2]["name"] == "broken");
  CHECK(chunks[0].records[2]["action"] == "error");
  CHECK(chunks[0].records[2]["error"].get<std::string>().find("nosuch") != std::string::npos);
  f.clock.Advance(10min);
  REQUIRE(s->RunDue().ok());
  CHECK(f.Chunks("inventory").size() == 1);  // the same error is not sent again
}

TEST_CASE("inventory: records and their state are committed together, or neither",
          "[check][inventory]") {
  Fixture f;
  f.checks.clear();
  f.inventory = {MakeInventory("flags", "SELECT name FROM flags")};
  f.store.reset();
  BufferStore::Options o;
  o.file = f.dir.path() / "buffer.db";
  o.busy_timeout_ms = 50;
  auto st = BufferStore::Open(o, f.clock, Logger::Discard());
  REQUIRE(st.ok());
  f.store = std::move(*st);
  auto s = f.Scheduler();
  {
    auto other = Db::Open(o.file, {.read_only = false, .create = false, .busy_timeout_ms = 50});
    REQUIRE(other.ok());
    REQUIRE(other->Exec("BEGIN IMMEDIATE").ok());
    CHECK_FALSE(s->RunAll().ok());
    CHECK(s->pending_records() == 2);
    REQUIRE(other->Exec("ROLLBACK").ok());
  }
  auto none = f.store->GetState("inventory.flags");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());  // no records committed, so no state either
  f.on.insert("c");
  f.clock.Advance(10min);
  REQUIRE(s->RunDue().ok());  // the kept snapshot, then the difference, in one chunk
  auto chunks = f.Chunks("inventory");
  REQUIRE(chunks.size() == 1);
  CHECK(Actions(chunks[0]) == std::vector<std::string>{"snapshot a", "snapshot b", "added c"});
  auto kept = f.store->GetState("inventory.flags");
  REQUIRE(kept.ok());
  REQUIRE(kept->has_value());
  auto rows = DecodeInventoryRows(**kept);
  REQUIRE(rows.ok());
  CHECK(rows->rows.size() == 3);
}

}  // namespace
}  // namespace outpost
