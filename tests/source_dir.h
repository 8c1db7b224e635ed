// Where the source tree is, for tests that read fixtures and installed files from it.
// A function rather than a compile-time string in every test file, so that a test
// object does not depend on where the tree was cloned (ccache shares objects between
// clones; scripts/test.sh). Defined in test_main.cc, the one file built with the path.
#pragma once

namespace outpost::test {
const char* SourceDir();
}  // namespace outpost::test

#define OUTPOST_SOURCE_DIR (::outpost::test::SourceDir())
