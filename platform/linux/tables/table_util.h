// Small helpers shared by the Linux table files: bounded file reads, line and field
// splitting, number parsing. Every parser here tolerates garbage (a binary file, a cut
// line): it yields what it can and never throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/platform/table.h"

namespace outpost::platform::linux_tables {

// The file's contents, at most `max_bytes` (default 4 MiB); nullopt when it cannot be
// read (missing, a directory, no permission).
std::optional<std::string> ReadFile(const std::filesystem::path& path, size_t max_bytes = 4u << 20);

// Lines without their '\n' (and a '\r' before it).
std::vector<std::string_view> Lines(std::string_view text);

// Splits on any run of the characters in `separators`; no empty fields.
std::vector<std::string_view> Fields(std::string_view line, std::string_view separators = " \t");

// Splits on every `separator` (empty fields kept): "a::b" -> {"a", "", "b"}.
std::vector<std::string_view> Split(std::string_view line, char separator);

std::string_view Trim(std::string_view s);

// Decimal (or, with base 16, hex) integer of the whole text; nullopt otherwise.
std::optional<int64_t> ToInt(std::string_view s, int base = 10);

// a * b and a + b, or nullopt when the result does not fit (a kernel file holding a
// huge number must give NULL, not an overflow).
std::optional<int64_t> MulChecked(std::optional<int64_t> a, int64_t b);
std::optional<int64_t> AddChecked(std::optional<int64_t> a, std::optional<int64_t> b);

// KEY=VALUE lines (os-release, /etc/default/*): quotes removed, comments skipped.
std::map<std::string, std::string> ParseKeyValues(std::string_view text);

// Value helpers for rows.
inline Value Text(std::string_view s) { return std::string(s); }
inline Value Int(std::optional<int64_t> v) { return v ? Value(*v) : Value(std::monostate{}); }

}  // namespace outpost::platform::linux_tables
