// The SQLite wrapper: the only code that includes sqlite3.h. The buffer store
// (buffer.db) is built on it by the log pipeline work; for now it answers which
// SQLite the binary carries.
#pragma once

#include <string>

namespace outpost {

// "3.40.1"
std::string SqliteVersion();

}  // namespace outpost
