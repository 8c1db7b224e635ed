// Fixture tests of the otlp output: SKELETON, being written.
#include <catch.hpp>

#include "ship/outputs/otlp.h"
