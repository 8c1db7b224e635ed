// Text encodings of log files: finding line ends in raw bytes and decoding a line to
// UTF-8. UTF-8 input is passed through unchanged, invalid bytes included (the JSON
// encoder escapes them as \xNN text, so nothing is dropped). UTF-16 lone surrogates
// become U+FFFD; Latin-1 maps each byte to its code point. Thread-safe, allocation only
// in the output string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "config/config.h"

namespace outpost {

// Bytes per code unit: 2 for UTF-16, else 1.
size_t CodeUnitBytes(TextEncoding encoding);

// Length of a byte-order mark at the start of `data` for this encoding (UTF-8 EF BB BF,
// UTF-16LE FF FE, UTF-16BE FE FF), else 0. Only meaningful at file offset 0.
size_t ByteOrderMarkLength(TextEncoding encoding, std::string_view data);

// Position of the first byte of the first newline code unit (LF) in `data`, searching
// only code-unit-aligned positions from 0, or std::string_view::npos.
size_t FindNewline(TextEncoding encoding, std::string_view data);

// Appends the line `raw` (without its newline; a trailing CR is removed here) decoded
// to UTF-8 to `out`. An odd trailing byte of UTF-16 input is kept as U+FFFD.
void DecodeLine(TextEncoding encoding, std::string_view raw, std::string& out);

// True when `sample` (the first bytes of a file) looks binary for this encoding: it
// holds a NUL code unit (UTF-8/Latin-1: a 0x00 byte; UTF-16: a 0x0000 unit).
bool LooksBinary(TextEncoding encoding, std::string_view sample);

// Cuts `text` (UTF-8) to at most `max_bytes`, never inside a multi-byte sequence;
// returns true when it cut.
bool TruncateUtf8(std::string& text, size_t max_bytes);

}  // namespace outpost
