#include "update/feed.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <set>

#include "nlohmann/json.hpp"

namespace outpost::update {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxTargetBytes = uint64_t{512} * 1024 * 1024;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal number without a leading zero that fits in uint64_t.
bool ParseDecimal(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), IsDigit)) {
    return false;
  }
  out = 0;
  for (char c : s) out = out * 10 + static_cast<uint64_t>(c - '0');
  return true;
}

bool ValidChannel(std::string_view c) {
  return !c.empty() && c.size() <= 64 && std::all_of(c.begin(), c.end(), [](char ch) {
    return IsDigit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

bool ValidSha256(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(),
                                       [](char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); });
}

// Checks that `obj` is an object with every required key and no key outside
// required + optional.
Status CheckKeys(const json& obj, const std::string& where,
                 std::initializer_list<std::string_view> required,
                 std::initializer_list<std::string_view> optional = {}) {
  if (!obj.is_object()) return InvalidArgument(where + " is not an object");
  for (std::string_view k : required) {
    if (!obj.contains(k)) return InvalidArgument(where + ": missing \"" + std::string(k) + "\"");
  }
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();
    const auto known = [&](std::initializer_list<std::string_view> l) {
      return std::find(l.begin(), l.end(), key) != l.end();
    };
    if (!known(required) && !known(optional)) {
      return InvalidArgument(where + ": unknown key \"" + key + "\"");
    }
  }
  return Status::Ok();
}

std::string Path(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

Result<std::string> GetString(const json& obj, const std::string& where, std::string_view key) {
  const json& v = obj.at(key);
  if (!v.is_string()) return InvalidArgument(Path(where, key) + " is not a string");
  return v.get<std::string>();
}

Result<uint64_t> GetUint(const json& obj, const std::string& where, std::string_view key) {
  const json& v = obj.at(key);
  if (!v.is_number_unsigned()) {
    return InvalidArgument(Path(where, key) + " is not a non-negative integer");
  }
  return v.get<uint64_t>();
}

Result<Version> GetVersion(const json& v, const std::string& what) {
  if (!v.is_string()) return InvalidArgument(what + " is not a string");
  Result<Version> parsed = ParseVersion(v.get<std::string>());
  if (!parsed.ok()) return InvalidArgument(what + ": " + parsed.status().message());
  return parsed;
}

Result<Target> ParseTarget(const json& t, const std::string& where, std::string_view feed_url) {
  OUTPOST_RETURN_IF_ERROR(CheckKeys(t, where, {"os", "arch", "url", "size", "sha256"}));
  Target out;
  for (auto [field, key] : {std::pair{&out.os, "os"},
                            {&out.arch, "arch"},
                            {&out.url, "url"},
                            {&out.sha256, "sha256"}}) {
    Result<std::string> s = GetString(t, where, key);
    if (!s.ok()) return s.status();
    if (s->empty()) return InvalidArgument(Path(where, key) + " is empty");
    *field = std::move(s).value();
  }
  Result<uint64_t> size = GetUint(t, where, "size");
  if (!size.ok()) return size.status();
  if (*size == 0 || *size > kMaxTargetBytes) {
    return InvalidArgument(Path(where, "size") + " must be 1.." + std::to_string(kMaxTargetBytes));
  }
  out.size = *size;
  if (!ValidSha256(out.sha256)) {
    return InvalidArgument(Path(where, "sha256") + " is not 64 lower-case hex digits");
  }
  Result<std::string> url = ResolveUrl(feed_url, out.url);
  if (!url.ok()) return InvalidArgument(Path(where, "url") + ": " + url.status().message());
  out.url = std::move(url).value();
  return out;
}

Result<Release> ParseRelease(const json& r, std::string_view feed_url) {
  OUTPOST_RETURN_IF_ERROR(
      CheckKeys(r, "release", {"version", "min_version", "critical", "rollout", "targets"}));
  Release out;
  Result<Version> version = GetVersion(r.at("version"), "release.version");
  if (!version.ok()) return version.status();
  out.version = std::move(version).value();
  Result<Version> min_version = GetVersion(r.at("min_version"), "release.min_version");
  if (!min_version.ok()) return min_version.status();
  out.min_version = std::move(min_version).value();
  if (!r.at("critical").is_boolean()) return InvalidArgument("release.critical is not a boolean");
  out.critical = r.at("critical").get<bool>();

  const json& rollout = r.at("rollout");
  OUTPOST_RETURN_IF_ERROR(CheckKeys(rollout, "release.rollout", {"percent", "salt"}));
  const json& percent = rollout.at("percent");
  if (!percent.is_number() || !std::isfinite(percent.get<double>()) || percent.get<double>() < 0 ||
      percent.get<double>() > 100) {
    return InvalidArgument("release.rollout.percent is not a number from 0 to 100");
  }
  out.rollout.percent = percent.get<double>();
  Result<std::string> salt = GetString(rollout, "release.rollout", "salt");
  if (!salt.ok()) return salt.status();
  out.rollout.salt = std::move(salt).value();

  const json& targets = r.at("targets");
  if (!targets.is_array()) return InvalidArgument("release.targets is not an array");
  for (size_t i = 0; i < targets.size(); ++i) {
    Result<Target> t =
        ParseTarget(targets[i], "release.targets[" + std::to_string(i) + "]", feed_url);
    if (!t.ok()) return t.status();
    out.targets.push_back(std::move(t).value());
  }
  return out;
}

Result<Feed> ParseFeedObject(const json& doc, std::string_view feed_url) {
  OUTPOST_RETURN_IF_ERROR(CheckKeys(
      doc, "feed", {"schema", "channel", "seq", "keyset_epoch", "issued_at", "expires", "release"},
      {"blocked_versions", "rollback_to"}));
  Feed feed;
  feed.schema = kFeedSchema;  // checked by the caller
  Result<std::string> channel = GetString(doc, "", "channel");
  if (!channel.ok()) return channel.status();
  if (!ValidChannel(*channel)) {
    return InvalidArgument("channel must be 1 to 64 characters of [A-Za-z0-9._-]");
  }
  feed.channel = std::move(channel).value();
  Result<uint64_t> seq = GetUint(doc, "", "seq");
  if (!seq.ok()) return seq.status();
  feed.seq = *seq;
  Result<uint64_t> epoch = GetUint(doc, "", "keyset_epoch");
  if (!epoch.ok()) return epoch.status();
  feed.keyset_epoch = *epoch;

  for (auto [text, time, key] : {std::tuple{&feed.issued_at, &feed.issued_at_time, "issued_at"},
                                 {&feed.expires, &feed.expires_time, "expires"}}) {
    Result<std::string> s = GetString(doc, "", key);
    if (!s.ok()) return s.status();
    Result<WallTime> t = ParseUtcTimestamp(*s);
    if (!t.ok()) return InvalidArgument(std::string(key) + ": " + t.status().message());
    *text = std::move(s).value();
    *time = *t;
  }
  if (feed.expires_time <= feed.issued_at_time) {
    return InvalidArgument("expires (" + feed.expires + ") is not after issued_at (" +
                           feed.issued_at + ")");
  }

  Result<Release> release = ParseRelease(doc.at("release"), feed_url);
  if (!release.ok()) return release.status();
  feed.release = std::move(release).value();

  if (doc.contains("blocked_versions")) {
    const json& blocked = doc.at("blocked_versions");
    if (!blocked.is_array()) return InvalidArgument("blocked_versions is not an array");
    for (size_t i = 0; i < blocked.size(); ++i) {
      Result<Version> v = GetVersion(blocked[i], "blocked_versions[" + std::to_string(i) + "]");
      if (!v.ok()) return v.status();
      feed.blocked_versions.push_back(std::move(v).value());
    }
  }
  if (doc.contains("rollback_to")) {
    Result<Version> v = GetVersion(doc.at("rollback_to"), "rollback_to");
    if (!v.ok()) return v.status();
    feed.rollback_to = std::move(v).value();
  }
  return feed;
}

// RFC 3986 section 5.2.4, for a path that starts with '/'.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  std::string_view rest = path.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      if (last) out.push_back("");
    } else if (seg == ".") {
      if (last) out.push_back("");
    } else {
      out.push_back(seg);
    }
    if (last) break;
    rest = rest.substr(slash + 1);
  }
  std::string result;
  for (std::string_view seg : out) {
    result += '/';
    result += seg;
  }
  return result.empty() ? "/" : result;
}

// "https" from "https://host/x"; empty when `url` has no scheme.
std::string SchemeOf(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  for (size_t i = 0; i < colon; ++i) {
    const char c = url[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || !(IsDigit(c) || c == '+' || c == '-' || c == '.'))) return "";
  }
  std::string scheme(url.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return scheme;
}

}  // namespace

Result<WallTime> ParseUtcTimestamp(std::string_view s) {
  const auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!IsDigit(s[i])) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  const std::string bad = "'" + std::string(s.substr(0, 64)) +
                          "' is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SS[.fraction]Z)";
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20 || !digits(0, 4, y) || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || s[10] != 'T' || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, mi) ||
      s[16] != ':' || !digits(17, 2, sec)) {
    return InvalidArgument(bad);
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return InvalidArgument(bad);
  // The clock counts nanoseconds in 64 bits: it ends in 2262.
  if (y < 1970 || y > 2200)
    return InvalidArgument("'" + std::string(s.substr(0, 64)) +
                           "' is outside the years 1970 to 2200 that outpost accepts");
  size_t pos = 19;
  int64_t nanos = 0;
  if (s[pos] == '.') {
    int64_t scale = 100000000;
    const size_t start = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (pos - start >= 9) return InvalidArgument(bad);
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return InvalidArgument(bad);
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return InvalidArgument(bad);
  const auto since_epoch = std::chrono::sys_days(ymd).time_since_epoch() + std::chrono::hours(h) +
                           std::chrono::minutes(mi) + std::chrono::seconds(sec) +
                           std::chrono::nanoseconds(nanos);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

Result<TrustedComment> ParseTrustedComment(std::string_view text) {
  const std::string expected =
      "trusted comment is not \"outpost-feed schema=<n> channel=<c> seq=<n> expires=<t>\"";
  std::vector<std::string_view> tokens;
  size_t start = 0;
  while (true) {
    const size_t sp = text.find(' ', start);
    tokens.push_back(text.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  if (tokens.size() != 5 || tokens[0] != "outpost-feed") return InvalidArgument(expected);
  std::string_view values[4];
  constexpr std::string_view kKeys[4] = {"schema=", "channel=", "seq=", "expires="};
  for (size_t i = 0; i < 4; ++i) {
    if (tokens[i + 1].substr(0, kKeys[i].size()) != kKeys[i]) return InvalidArgument(expected);
    values[i] = tokens[i + 1].substr(kKeys[i].size());
    if (values[i].empty()) return InvalidArgument(expected);
  }
  TrustedComment out;
  uint64_t schema = 0;
  if (!ParseDecimal(values[0], schema) || schema > 1000000) {
    return InvalidArgument("trusted comment: schema is not a decimal number");
  }
  out.schema = static_cast<int>(schema);
  out.channel = std::string(values[1]);
  if (!ParseDecimal(values[2], out.seq)) {
    return InvalidArgument("trusted comment: seq is not a decimal number");
  }
  out.expires = std::string(values[3]);
  return out;
}

Checked<Feed> ParseFeed(std::string_view text, std::string_view feed_url) {
  if (text.size() > kMaxFeedBytes) {
    return Checked<Feed>(reason::kFeedTooLarge, "feed is " + std::to_string(text.size()) +
                                                    " bytes, over the limit of " +
                                                    std::to_string(kMaxFeedBytes));
  }
  // Duplicate keys are refused: two parsers could otherwise read different values
  // from the same signed bytes.
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  const auto on_event = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty()) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second) duplicate = true;
    }
    return true;
  };
  const json doc = json::parse(text.begin(), text.end(), on_event, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Checked<Feed>(reason::kFeedMalformed, "feed is not valid JSON (UTF-8)");
  }
  if (duplicate) return Checked<Feed>(reason::kFeedMalformed, "feed has a duplicate key");
  if (!doc.is_object() || !doc.contains("schema")) {
    return Checked<Feed>(reason::kFeedMalformed, "feed is not an object with a \"schema\"");
  }
  if (!doc.at("schema").is_number_unsigned() || doc.at("schema").get<uint64_t>() != kFeedSchema) {
    return Checked<Feed>(reason::kSchemaUnsupported, "feed schema " + doc.at("schema").dump() +
                                                         " is not supported (this "
                                                         "agent reads schema " +
                                                         std::to_string(kFeedSchema) + ")");
  }
  Result<Feed> feed = ParseFeedObject(doc, feed_url);
  if (!feed.ok()) return Checked<Feed>(reason::kFeedMalformed, feed.status().message());
  return std::move(feed).value();
}

std::string ChannelFeedUrl(std::string_view base, std::string_view channel) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + "/" + std::string(channel) + ".json";
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view ref) {
  if (ref.empty()) return InvalidArgument("empty URL");
  for (char c : ref) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\') {
      return InvalidArgument("URL contains a space, control character or backslash");
    }
  }
  const std::string ref_scheme = SchemeOf(ref);
  if (!ref_scheme.empty()) {
    if (ref_scheme != "https" && ref_scheme != "http") {
      return InvalidArgument("URL scheme '" + ref_scheme + "' is not http or https");
    }
    return std::string(ref);
  }
  const std::string base_scheme = SchemeOf(base);
  if (base_scheme == "file" && base.substr(4, 3) == "://") {
    // A feed read from a directory (`update apply --from DIR`): a relative target names
    // a file beside it, never one elsewhere.
    if (ref[0] == '/' || ref.find("..") != std::string_view::npos)
      return InvalidArgument("relative URL '" + std::string(ref) +
                             "' must name a file in the feed's directory");
    const std::string_view path = base.substr(7);
    return "file://" + std::string(path.substr(0, path.rfind('/') + 1)) + std::string(ref);
  }
  if ((base_scheme != "https" && base_scheme != "http") ||
      base.substr(base_scheme.size(), 3) != "://") {
    return InvalidArgument("cannot resolve relative URL '" + std::string(ref) +
                           "' against the feed URL '" + std::string(base) + "'");
  }
  if (ref.substr(0, 2) == "//") return base_scheme + ":" + std::string(ref);

  const size_t authority_start = base_scheme.size() + 3;
  const size_t path_start = base.find_first_of("/?#", authority_start);
  const std::string_view origin = base.substr(0, path_start);
  std::string_view base_path =
      path_start == std::string_view::npos || base[path_start] != '/'
          ? std::string_view("/")
          : base.substr(path_start, base.find_first_of("?#", path_start) - path_start);
  const size_t ref_suffix = ref.find_first_of("?#");
  const std::string_view ref_path = ref.substr(0, ref_suffix);
  const std::string_view suffix =
      ref_suffix == std::string_view::npos ? std::string_view() : ref.substr(ref_suffix);
  std::string merged;
  if (ref_path.empty()) {
    merged = std::string(base_path);
  } else if (ref_path[0] == '/') {
    merged = std::string(ref_path);
  } else {
    merged = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(ref_path);
  }
  return std::string(origin) + RemoveDotSegments(merged) + std::string(suffix);
}

}  // namespace outpost::update
