// Fixture tests of the elasticsearch output: SKELETON, being written.
#include <catch.hpp>

#include "ship/outputs/elasticsearch.h"
