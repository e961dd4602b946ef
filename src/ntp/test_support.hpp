#pragma once
/** @file test_support.hpp
 * Helpers shared by the typed GoogleTest suites (header only; not part of the library).
 */
#include <string>

#include "ntp/scalar.hpp"

namespace ntp::testing_support {

/** Names typed-test instantiations after the precision ("double", "mpfr", "long_double"). */
struct ScalarName {
  template <class S>
  static std::string GetName(int) {
    std::string n = ScalarTraits<S>::name();
    n = n.substr(0, n.find(':'));
    for (char& c : n) {
      if (c == '-') c = '_';
    }
    return n;
  }
};

}  // namespace ntp::testing_support
