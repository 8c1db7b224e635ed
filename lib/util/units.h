// Durations ("30s", "5m", "1h30m", "250ms") and sizes ("256MiB", "10MB", "512")
// as they are written in outpost.toml and on the command line.
//
// Parsing is strict: no negative values, no unknown unit, no overflow. Errors are
// InvalidArgument Statuses whose message says what was expected, e.g.
//   unknown unit 'mb' in size "10mb" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace outpost {

using Duration = std::chrono::milliseconds;

// One or more <number><unit> groups, largest first is not required: "1h30m", "90s",
// "1.5h". Units: ms, s, m, h, d. A bare number is refused (the unit is not obvious).
Result<Duration> ParseDuration(std::string_view text);

// <number>[ ]<unit>; decimal units (KB = 1000) and binary units (KiB = 1024).
// A bare number is bytes. Fractions are allowed ("1.5GiB") and rounded down.
Result<uint64_t> ParseSize(std::string_view text);

// Shortest exact form: 90000ms -> "1m30s", 1500ms -> "1s500ms", 0 -> "0s".
std::string FormatDuration(Duration d);
// Exact binary form when it exists ("256MiB"), else bytes ("1000B" -> "1000B").
std::string FormatSize(uint64_t bytes);

// For people reading progress and summaries: "512 B", "6.1 KiB", "1.5 GiB" (one
// decimal from KiB up; not parseable back exactly, unlike FormatSize).
std::string FormatBytes(uint64_t bytes);

}  // namespace outpost
