// Fuzzing a Linux device table through its real code path (docs/fuzzing.md).
//
// The parts of the input (fuzz_input.h) are written to the files a table reads, under
// a private root directory made once per process (in /dev/shm when it exists, so no
// disk is touched), and the table's generator runs over that root with no
// constraints. Every row is checked against the table's contract (no more values than
// columns) and its text is read, so AddressSanitizer sees every byte. A table file
// needs no change to be fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace outpost::fuzz {

struct TableFuzzSpec {
  std::vector<std::string> tables;  // run in this order over the same root
  // Absolute paths under the root, filled from the input's parts in order; a file
  // with no part left is removed.
  std::vector<std::string> files;
  // Fixed symbolic links (path, target) and directories (path ending in '/'), made
  // once: the structure around the fuzzed files (/proc/1/exe, *.wants/ links).
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<std::string> dirs;
};

// Runs `spec` on one input; returns 0 (libFuzzer's "keep going"). Aborts when a table
// breaks its contract. Not thread-safe (one root per process).
int FuzzTables(const TableFuzzSpec& spec, const uint8_t* data, size_t size);

}  // namespace outpost::fuzz
