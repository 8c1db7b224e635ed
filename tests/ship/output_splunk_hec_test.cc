// Fixture tests of the splunk_hec output: SKELETON, being written.
#include <catch.hpp>

#include "ship/outputs/splunk_hec.h"
