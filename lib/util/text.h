// Small text helpers shared across lib/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

// Edit distance where insert, delete, substitute and swapping two neighbouring
// characters each cost 1 (optimal string alignment).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is close enough to be a plausible typo
// (distance <= max(1, len/3)); empty otherwise. Used for "did you mean ...?".
std::string NearestWord(std::string_view word, const std::vector<std::string>& candidates);

// "a, b or c"
std::string JoinOr(const std::vector<std::string>& items);

// FNV-1a, 64 bits: file fingerprints (collect/file_source) and delivered.json's check.
uint64_t Fnv1a64(std::string_view data);

// Paths are UTF-8 text in outpost (config, buffer.db, records, messages);
// std::filesystem's narrow strings are not UTF-8 on Windows.
std::string Utf8FromPath(const std::filesystem::path& p);
std::filesystem::path PathFromUtf8(std::string_view s);

}  // namespace outpost
