#include "util/units.h"

#include <array>
#include <cstdio>
#include <limits>
#include <utility>

namespace outpost {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A decimal number "123" or "1.25", as integer part and fraction (numerator and
// 10^digits denominator). Returns false on overflow or if no digit was read.
struct Number {
  uint64_t whole = 0;
  uint64_t frac_num = 0;
  uint64_t frac_den = 1;
};

bool ReadNumber(std::string_view s, size_t& i, Number& n) {
  const size_t start = i;
  while (i < s.size() && IsDigit(s[i])) {
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (n.whole > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    n.whole = n.whole * 10 + d;
    ++i;
  }
  if (i == start) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t fstart = i;
    while (i < s.size() && IsDigit(s[i])) {
      if (n.frac_den < 1000000000000ULL) {  // 12 digits of precision are plenty
        n.frac_num = n.frac_num * 10 + static_cast<uint64_t>(s[i] - '0');
        n.frac_den *= 10;
      }
      ++i;
    }
    if (i == fstart) return false;
  }
  return true;
}

// n * mult, rounded down; false on overflow.
bool Scale(const Number& n, uint64_t mult, uint64_t& out) {
  if (n.whole != 0 && mult > std::numeric_limits<uint64_t>::max() / n.whole) return false;
  uint64_t v = n.whole * mult;
  // frac_num < frac_den <= 1e12 and mult <= 2^40 for sizes, 8.64e7 for durations:
  // split to avoid overflow of frac_num * mult.
  const uint64_t q = mult / n.frac_den, r = mult % n.frac_den;
  const uint64_t frac = n.frac_num * q + (n.frac_num * r) / n.frac_den;
  if (v > std::numeric_limits<uint64_t>::max() - frac) return false;
  out = v + frac;
  return true;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 5> kUnits{
      {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}}};
  const std::string_view hint = " (write e.g. \"500ms\", \"30s\", \"5m\", \"1h30m\", \"7d\")";
  if (text.empty()) return InvalidArgument("empty duration" + std::string(hint));
  if (text[0] == '-')
    return InvalidArgument("negative duration " + Quoted(text) + " is not allowed");
  // Durations are capped at 100 years, far below any overflow of milliseconds.
  constexpr uint64_t kMaxMs = 100ULL * 365 * 86400000;
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    Number n;
    if (!ReadNumber(text, i, n)) {
      if (i < text.size() && IsDigit(text[i]))
        return InvalidArgument("duration " + Quoted(text) + " is too large (at most 100 years)");
      return InvalidArgument("expected a number at position " + std::to_string(i + 1) +
                             " of duration " + Quoted(text) + std::string(hint));
    }
    if (i < text.size() && text[i] == ' ') ++i;
    const size_t ustart = i;
    while (i < text.size() && IsAlpha(text[i])) ++i;
    const std::string_view unit = text.substr(ustart, i - ustart);
    if (unit.empty())
      return InvalidArgument("missing unit in duration " + Quoted(text) + std::string(hint));
    uint64_t mult = 0;
    for (const auto& [name, m] : kUnits)
      if (unit == name) mult = m;
    if (mult == 0)
      return InvalidArgument("unknown unit '" + std::string(unit) + "' in duration " +
                             Quoted(text) + " (use ms, s, m, h or d)");
    uint64_t part;
    if (!Scale(n, mult, part) || part > kMaxMs || total + part > kMaxMs)
      return InvalidArgument("duration " + Quoted(text) + " is too large (at most 100 years)");
    total += part;
  }
  return Duration(static_cast<int64_t>(total));
}

Result<uint64_t> ParseSize(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 9> kUnits{
      {{"B", 1},
       {"KB", 1000ULL},
       {"MB", 1000ULL * 1000},
       {"GB", 1000ULL * 1000 * 1000},
       {"TB", 1000ULL * 1000 * 1000 * 1000},
       {"KiB", 1ULL << 10},
       {"MiB", 1ULL << 20},
       {"GiB", 1ULL << 30},
       {"TiB", 1ULL << 40}}};
  const std::string_view units = " (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)";
  if (text.empty()) return InvalidArgument("empty size (write e.g. \"256MiB\")");
  if (text[0] == '-') return InvalidArgument("negative size " + Quoted(text) + " is not allowed");
  size_t i = 0;
  Number n;
  if (!ReadNumber(text, i, n)) {
    if (IsDigit(text[0]))
      return InvalidArgument("size " + Quoted(text) + " is too large (at most 16 EiB)");
    return InvalidArgument("size " + Quoted(text) +
                           " does not start with a number (write e.g. \"256MiB\")");
  }
  if (i < text.size() && text[i] == ' ') ++i;
  const std::string_view unit = text.substr(i);
  uint64_t mult = unit.empty() ? 1 : 0;
  for (const auto& [name, m] : kUnits)
    if (unit == name) mult = m;
  if (mult == 0)
    return InvalidArgument("unknown unit '" + std::string(unit) + "' in size " + Quoted(text) +
                           std::string(units));
  uint64_t out;
  if (!Scale(n, mult, out))
    return InvalidArgument("size " + Quoted(text) + " is too large (at most 16 EiB)");
  return out;
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0s";
  static constexpr std::array<std::pair<std::string_view, int64_t>, 5> kUnits{
      {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}}};
  std::string out;
  for (const auto& [name, m] : kUnits) {
    if (ms >= m) {
      out += std::to_string(ms / m);
      out += name;
      ms %= m;
    }
  }
  return out;
}

std::string FormatSize(uint64_t bytes) {
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 4> kUnits{
      {{"TiB", 1ULL << 40}, {"GiB", 1ULL << 30}, {"MiB", 1ULL << 20}, {"KiB", 1ULL << 10}}};
  for (const auto& [name, m] : kUnits)
    if (bytes != 0 && bytes % m == 0) return std::to_string(bytes / m) + std::string(name);
  return std::to_string(bytes) + "B";
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr std::array<std::string_view, 5> kUnits{"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", value, std::string(kUnits[unit]).c_str());
  return buf;
}

}  // namespace outpost
