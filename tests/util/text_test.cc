#include <catch.hpp>
