// Small text helpers shared across lib/.
#pragma once

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

}  // namespace outpost
