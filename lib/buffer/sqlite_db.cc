#include "buffer/sqlite_db.h"

#include <sqlite3.h>

namespace outpost {

std::string SqliteVersion() { return sqlite3_libversion(); }

}  // namespace outpost
