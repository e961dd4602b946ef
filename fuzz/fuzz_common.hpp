#pragma once
/** @file fuzz_common.hpp
 * Shared by the libFuzzer targets: a finding is anything but a documented rejection (ntp::Error),
 * so each target catches ntp::Error and nothing else; a broken round-trip invariant aborts with a
 * message (libFuzzer then saves the input as a crash).
 */
#include <cstdio>
#include <cstdlib>

#define NTP_FUZZ_CHECK(cond, msg)                                                                \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d): %s\n", #cond, __FILE__, __LINE__, \
                   msg);                                                                         \
      std::abort();                                                                              \
    }                                                                                            \
  } while (false)
