#include <catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "buffer/buffer_store.h"
#include "buffer/delivered_positions.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

Checkpoint FilePosition(std::string source, uint64_t inode, uint64_t offset) {
  Checkpoint cp;
  cp.source = std::move(source);
  cp.device = 0xFFFFFFFFFFFFFF01ULL;  // above INT64_MAX: JSON keeps it exact
  cp.inode = inode;
  cp.fingerprint = 0xFEDCBA9876543210ULL;
  cp.fingerprint_len = 256;
  cp.path = "/var/log/caf\xc3\xa9-" + std::to_string(inode) + ".log";
  cp.offset = offset;
  return cp;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

TEST_CASE("delivered.json round-trips every field and is written by rename", "[buffer]") {
  testing::TempDir dir;
  const fs::path file = DeliveredPositionsPath(dir.path() / "buffer.db");
  CHECK(file == dir.path() / "delivered.json");
  DeliveredPositions p;
  p["app"] = {FilePosition("app", 7, 100), FilePosition("app", 8, 200)};
  p["web"] = {FilePosition("web", 9, 1ULL << 40)};
  REQUIRE(SaveDeliveredPositions(file, p).ok());
  CHECK_FALSE(fs::exists(file.string() + ".tmp"));
  auto back = LoadDeliveredPositions(file);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  const auto& app = back->at("app");
  REQUIRE(app.size() == 2);
  CHECK(app[0].device == 0xFFFFFFFFFFFFFF01ULL);
  CHECK(app[0].inode == 7);
  CHECK(app[0].fingerprint == 0xFEDCBA9876543210ULL);
  CHECK(app[0].fingerprint_len == 256);
  CHECK(app[0].offset == 100);
  CHECK(app[0].path == "/var/log/caf\xc3\xa9-7.log");
  CHECK(app[1].offset == 200);
  CHECK(back->at("web")[0].offset == 1ULL << 40);
  CHECK(RenderDeliveredPositions(*back) == ReadAll(file));

  // A later write replaces the file (a rename over it, also on Windows).
  p["app"][0].offset = 150;
  REQUIRE(SaveDeliveredPositions(file, p).ok());
  back = LoadDeliveredPositions(file);
  REQUIRE(back.ok());
  CHECK(back->at("app")[0].offset == 150);
}

TEST_CASE("a missing delivered.json is no positions; a damaged one is an error", "[buffer]") {
  testing::TempDir dir;
  const fs::path file = dir.path() / "delivered.json";
  auto none = LoadDeliveredPositions(file);
  REQUIRE(none.ok());
  CHECK(none->empty());

  DeliveredPositions p;
  p["app"] = {FilePosition("app", 7, 100)};
  REQUIRE(SaveDeliveredPositions(file, p).ok());
  const std::string good = ReadAll(file);

  SECTION("an offset edited by hand fails the check value") {
    std::string edited = good;
    const size_t at = edited.find("\"offset\": 100");
    REQUIRE(at != std::string::npos);
    edited.replace(at, 13, "\"offset\": 900");
    WriteAll(file, edited);
  }
  SECTION("a torn write") { WriteAll(file, good.substr(0, good.size() / 2)); }
  SECTION("binary garbage") { WriteAll(file, std::string("\x00\xff\x13garbage", 10)); }
  SECTION("another document") { WriteAll(file, "{\"format\": \"something else\"}"); }
  auto r = LoadDeliveredPositions(file);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("delivered.json is damaged") != std::string::npos);
}

TEST_CASE("MergeDelivered: drained sources take their rows, damaged old rows are not copied",
          "[buffer]") {
  constexpr int64_t kStart = 1000;  // the running agent's start: rows since are its own
  DeliveredPositions current;
  current["app"] = {FilePosition("app", 1, 100), FilePosition("app", 2, 200),
                    FilePosition("app", 3, 300), FilePosition("app", 4, 400)};
  current["busy"] = {FilePosition("busy", 9, 900)};
  auto row = [](uint64_t inode, uint64_t offset, int64_t updated_at_ms) {
    Checkpoint r = FilePosition("app", inode, offset);
    r.updated_at_ms = updated_at_ms;
    return r;
  };
  std::vector<Checkpoint> drained = {
      row(1, 150, kStart + 5),   // written by this agent: taken
      row(2, 200, kStart - 50),  // older, but the file already had it: taken
      row(3, 999999, 7),         // older and different (a damaged row): the old entry stays
      row(5, 50, kStart - 50),   // older, unknown to the file: not taken
                                 // inode 4 has no row any more (its file vanished): dropped
  };
  Checkpoint fresh = FilePosition("new", 6, 60);
  fresh.updated_at_ms = kStart;
  drained.push_back(fresh);
  const DeliveredPositions next = MergeDelivered(current, drained, kStart);
  REQUIRE(next.count("app") == 1);
  std::map<uint64_t, uint64_t> app;
  for (const Checkpoint& e : next.at("app")) app[e.inode] = e.offset;
  CHECK(app == std::map<uint64_t, uint64_t>{{1, 150}, {2, 200}, {3, 300}});
  REQUIRE(next.count("busy") == 1);  // no rows: it has a live chunk, or none yet
  CHECK(next.at("busy").front().offset == 900);
  REQUIRE(next.count("new") == 1);
  CHECK(next.at("new").front().offset == 60);
}

TEST_CASE("DeliveredCheckpoints: file rows of the sources without a live chunk", "[buffer]") {
  testing::TempDir dir;
  FakeClock clock;
  BufferStore::Options o;
  o.file = dir.path() / "buffer.db";
  auto store = BufferStore::Open(o, clock, Logger::Discard());
  REQUIRE(store.ok());
  auto chunk = [](const std::string& stream) {
    SealedChunk c;
    c.stream = stream;
    c.records = 1;
    c.body = "body";
    return c;
  };
  Checkpoint cursor;
  cursor.source = "journal";
  cursor.cursor = "s=abc";
  CommitBatch a;
  a.chunk = chunk("app");
  a.upserts = {FilePosition("app", 7, 100), FilePosition("web", 9, 50), cursor};
  auto app_chunk = (*store)->Commit(a);
  REQUIRE(app_chunk.ok());
  CommitBatch w;
  w.chunk = chunk("web");
  auto web_chunk = (*store)->Commit(w);
  REQUIRE(web_chunk.ok());

  // Both file sources have a chunk waiting; the journal's row is a cursor.
  auto rows = (*store)->DeliveredCheckpoints();
  REQUIRE(rows.ok());
  CHECK(rows->empty());

  REQUIRE((*store)->Acknowledge(*app_chunk).ok());
  rows = (*store)->DeliveredCheckpoints();
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().source == "app");
  CHECK(rows->front().offset == 100);

  REQUIRE((*store)->MoveToDead(*web_chunk, "refused").ok());  // dead counts as done
  rows = (*store)->DeliveredCheckpoints();
  REQUIRE(rows.ok());
  CHECK(rows->size() == 2);
}

}  // namespace
}  // namespace outpost
