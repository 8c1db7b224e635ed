// delivered.json; see delivered_positions.h.
#include "buffer/delivered_positions.h"

#include "util/text.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

namespace outpost {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "outpost delivered positions";
constexpr int kVersion = 1;

// FNV-1a, 64 bits, over the positions' compact JSON: catches a torn or edited file.
std::string CheckOf(const std::string& text) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(Fnv1a64(text)));
  return buf;
}

nlohmann::json PositionsJson(const DeliveredPositions& positions) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [source, cps] : positions)
    for (const Checkpoint& cp : cps)
      list.push_back({{"source", source},
                      {"device", cp.device},
                      {"inode", cp.inode},
                      {"fingerprint", cp.fingerprint},
                      {"fingerprint_len", cp.fingerprint_len},
                      {"offset", cp.offset},
                      {"path", cp.path}});
  return list;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

fs::path DeliveredPositionsPath(const fs::path& buffer_file) {
  return buffer_file.parent_path() / "delivered.json";
}

std::string RenderDeliveredPositions(const DeliveredPositions& positions) {
  const nlohmann::json list = PositionsJson(positions);
  nlohmann::json doc = {{"format", kFormat},
                        {"version", kVersion},
                        {"positions", list},
                        {"check", CheckOf(Dump(list))}};
  return doc.dump(1) + "\n";
}

Result<DeliveredPositions> LoadDeliveredPositions(const fs::path& file) {
  const std::string name = Utf8FromPath(file);
  std::error_code ec;
  if (!fs::exists(file, ec)) return DeliveredPositions{};
  std::ifstream in(file, std::ios::binary);
  if (!in) return IoError("cannot read " + name);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto damaged = [&](const std::string& why) {
    return InvalidArgument(name + " is damaged (" + why + "); it is ignored");
  };
  if (!doc.is_object() || doc.value("format", "") != kFormat) return damaged("not its format");
  if (doc.value("version", 0) != kVersion) return damaged("unknown version");
  const auto list = doc.find("positions");
  const auto check = doc.find("check");
  if (list == doc.end() || !list->is_array() || check == doc.end() || !check->is_string())
    return damaged("no positions or no check value");
  if (CheckOf(Dump(*list)) != check->get<std::string>()) return damaged("wrong check value");
  DeliveredPositions out;
  for (const nlohmann::json& e : *list) {
    auto u64 = [&](const char* key, uint64_t& v) {
      const auto it = e.find(key);
      if (it == e.end() || !it->is_number_unsigned()) return false;
      v = it->get<uint64_t>();
      return true;
    };
    Checkpoint cp;
    const auto source = e.is_object() ? e.find("source") : e.end();
    const auto path = e.is_object() ? e.find("path") : e.end();
    if (!e.is_object() || source == e.end() || !source->is_string() || path == e.end() ||
        !path->is_string() || !u64("device", cp.device) || !u64("inode", cp.inode) ||
        !u64("fingerprint", cp.fingerprint) || !u64("fingerprint_len", cp.fingerprint_len) ||
        !u64("offset", cp.offset))
      return damaged("an entry without its fields");
    cp.source = source->get<std::string>();
    cp.path = path->get<std::string>();
    out[cp.source].push_back(std::move(cp));
  }
  return out;
}

DeliveredPositions MergeDelivered(const DeliveredPositions& current,
                                  std::vector<Checkpoint> drained, int64_t trusted_since_ms) {
  std::map<std::string, std::vector<Checkpoint>> by_source;
  for (Checkpoint& r : drained) by_source[r.source].push_back(std::move(r));
  DeliveredPositions next = current;
  for (auto& [source, rows] : by_source) {
    std::map<std::pair<uint64_t, uint64_t>, const Checkpoint*> before;
    if (auto it = current.find(source); it != current.end())
      for (const Checkpoint& e : it->second) before[{e.device, e.inode}] = &e;
    std::vector<Checkpoint> kept;
    for (Checkpoint& r : rows) {
      const auto found = before.find({r.device, r.inode});
      const Checkpoint* old = found == before.end() ? nullptr : found->second;
      const bool same = old != nullptr && old->offset == r.offset &&
                        old->fingerprint == r.fingerprint &&
                        old->fingerprint_len == r.fingerprint_len;
      if (r.updated_at_ms >= trusted_since_ms || same) {
        kept.push_back(std::move(r));
      } else if (old != nullptr) {
        kept.push_back(*old);
      }
    }
    next[source] = std::move(kept);
  }
  return next;
}

Status SaveDeliveredPositions(const fs::path& file, const DeliveredPositions& positions) {
  const std::string text = RenderDeliveredPositions(positions);
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) return IoError("cannot write " + Utf8FromPath(tmp));
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec)
    return IoError("cannot rename " + Utf8FromPath(tmp) + " to " + Utf8FromPath(file) + ": " +
                   ec.message());
  return Status::Ok();
}

}  // namespace outpost
