// Fixture tests of the loki output: SKELETON, being written.
#include <catch.hpp>

#include "ship/outputs/loki.h"
