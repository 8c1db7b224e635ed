// JSON string escaping that never loses a byte.
//
// Valid UTF-8 passes through; control characters become \uXXXX (or \n, \t, ...);
// each byte of an invalid UTF-8 sequence becomes the six characters "\u00XX" would
// misrepresent, so it is written as the text "\\xNN" instead: the JSON stays valid
// and the original byte stays readable (DESIGN.md: invalid UTF-8 is escaped, never
// dropped).
#pragma once

#include <string>
#include <string_view>

namespace outpost {

// Appends `s` to `out` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonQuote(std::string_view s);

}  // namespace outpost
