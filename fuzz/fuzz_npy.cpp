// libFuzzer target: the .npy reader (ntp::parse_npy) and the writer's round trip: an accepted
// array written back (npy_bytes) reads as the same shape and bit-identical values.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "ntp/errors.hpp"
#include "ntp/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ntp::NpyArray a;
  try {
    a = ntp::parse_npy(bytes, "fuzz.npy");
  } catch (const ntp::Error&) {
    return 0;  // a documented rejection
  }
  NTP_FUZZ_CHECK(static_cast<std::size_t>(a.size()) ==
                     (ntp::is_floating(a.dtype) ? a.f64.size() : a.i64.size()),
                 "element count differs from the shape");
  // The shape checks the CLI applies to W0 (V x d) and to a trajectory's step array.
  try {
    ntp::check_npy_shape(a, {-1, 3}, "fuzz W0");
  } catch (const ntp::Error&) {
  }
  try {
    ntp::check_npy_shape(a, {-1}, "fuzz step");
  } catch (const ntp::Error&) {
  }
  const std::string written = ntp::npy_bytes(ntp::NpyArrayView(a));
  ntp::NpyArray b;
  try {
    b = ntp::parse_npy(written, "fuzz-roundtrip.npy");
  } catch (const ntp::Error& e) {
    NTP_FUZZ_CHECK(false, e.what());
  }
  NTP_FUZZ_CHECK(b.shape == a.shape, "shape changed in the round trip");
  NTP_FUZZ_CHECK(b.f64.size() == a.f64.size() && b.i64.size() == a.i64.size(),
                 "element count changed in the round trip");
  NTP_FUZZ_CHECK(
      a.f64.empty() || std::memcmp(a.f64.data(), b.f64.data(), a.f64.size() * sizeof(double)) == 0,
      "float values changed in the round trip");
  NTP_FUZZ_CHECK(a.i64 == b.i64, "integer values changed in the round trip");
  return 0;
}
