// Shared helpers of the re-encoding outputs; see reencode.h.
#include "ship/outputs/reencode.h"

#include <cctype>

#include "chunk/gzip_codec.h"
#include "chunk/zstd_codec.h"

namespace outpost {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& value) {
  if (pos + n > s.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm,
// described in his "chrono-Compatible Low-Level Date Algorithms").
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

Result<ChunkRecords> ReadChunkRecords(const StoredChunk& chunk) {
  if (chunk.chunk.codec != "zstd" || chunk.chunk.format != "ndjson")
    return Corrupt("chunk " + std::to_string(chunk.id) + " is " + chunk.chunk.format + "/" +
                   chunk.chunk.codec + ", not ndjson/zstd");
  Result<std::string> text = ZstdDecompress(chunk.chunk.body, chunk.chunk.raw_bytes + 1024);
  if (!text.ok())
    return Corrupt("chunk " + std::to_string(chunk.id) +
                   " does not decompress: " + text.status().message());
  ChunkRecords out;
  out.text = std::make_unique<const std::string>(std::move(text).value());
  out.lines.reserve(chunk.chunk.records);
  std::string_view rest(*out.text);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    out.lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (out.lines.size() != chunk.chunk.records)
    return Corrupt("chunk " + std::to_string(chunk.id) + " holds " +
                   std::to_string(out.lines.size()) + " records, not the " +
                   std::to_string(chunk.chunk.records) + " its row says");
  return out;
}

nlohmann::json ParseRecord(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) return j;
  nlohmann::json fallback = nlohmann::json::object();
  fallback["message"] = std::string(line);
  return fallback;
}

std::optional<int64_t> ParseRfc3339Nanos(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 20 || !Digits(s, 0, 4, year) || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    const size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1000000000 + nanos;
}

int64_t RecordTimeNanos(const nlohmann::json& record, int64_t fallback_ns) {
  auto it = record.find("@timestamp");
  if (it == record.end() || !it->is_string()) return fallback_ns;
  return ParseRfc3339Nanos(it->get_ref<const std::string&>()).value_or(fallback_ns);
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status SetBody(Compression compression, std::string raw, HttpRequest& request) {
  switch (compression) {
    case Compression::kNone:
      request.body = std::move(raw);
      return Status::Ok();
    case Compression::kAuto:  // gzip: every re-encoding output's endpoints accept it
    case Compression::kGzip: {
      Result<std::string> z = GzipCompress(raw);
      if (!z.ok()) return z.status();
      request.body = std::move(z).value();
      request.headers.emplace_back("Content-Encoding", "gzip");
      return Status::Ok();
    }
    case Compression::kZstd: {
      Result<std::string> z = ZstdCompress(raw, 3);
      if (!z.ok()) return z.status();
      request.body = std::move(z).value();
      request.headers.emplace_back("Content-Encoding", "zstd");
      return Status::Ok();
    }
  }
  return InvalidArgument("unknown compression");
}

std::string EndpointUrl(const std::string& endpoint, std::string_view default_path) {
  const size_t q = endpoint.find_first_of("?#");
  const std::string base = endpoint.substr(0, q);
  const std::string query = q == std::string::npos ? "" : endpoint.substr(q);
  const size_t scheme = base.find("://");
  const size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path != std::string::npos && base.find_first_not_of('/', path) != std::string::npos)
    return endpoint;  // a path of its own
  return base.substr(0, path) + std::string(default_path) + query;
}

}  // namespace outpost
