// The one Catch2 main of every test executable. DO_NOT_USE_WMAIN: with _UNICODE
// defined, Catch2 would otherwise define wmain, which MinGW does not call without
// -municode.
#define DO_NOT_USE_WMAIN
#define CATCH_CONFIG_MAIN
#include <catch.hpp>

#include "source_dir.h"

const char* outpost::test::SourceDir() { return OUTPOST_TEST_SOURCE_DIR; }
