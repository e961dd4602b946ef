// libFuzzer target: the .npz reader (ntp::parse_npz) and the trajectory checks of `ntpcheck
// verify` (ntp::candidate_trajectory_from_arrays) on what it accepts, for a few small (V, d); then
// the writer's round trip of the accepted arrays (npz_bytes, stored and deflated).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_common.hpp"
#include "ntp/errors.hpp"
#include "ntp/npy.hpp"
#include "ntp/verify.hpp"

namespace {

// Smaller than the CLI's 1 GiB so that a fuzzer-made declared size cannot exhaust -rss_limit_mb;
// the limit logic is the same code path.
constexpr std::uint64_t kFuzzMaxBytes = std::uint64_t{64} << 20;

bool same(const ntp::NpyArray& a, const ntp::NpyArray& b) {
  return a.shape == b.shape && a.i64 == b.i64 && a.f64.size() == b.f64.size() &&
         (a.f64.empty() ||
          std::memcmp(a.f64.data(), b.f64.data(), a.f64.size() * sizeof(double)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::map<std::string, ntp::NpyArray> arrays;
  try {
    arrays = ntp::parse_npz(bytes, "fuzz.npz", kFuzzMaxBytes);
  } catch (const ntp::Error&) {
    return 0;  // a documented rejection
  }
  for (const auto& [V, d] : {std::pair<std::int64_t, std::int64_t>{2, 1}, {5, 2}, {3, 4}}) {
    try {
      const ntp::CandidateTrajectory t =
          ntp::candidate_trajectory_from_arrays(arrays, V, d, "fuzz");
      NTP_FUZZ_CHECK(!t.steps.empty() && t.weights.size() == t.steps.size(),
                     "accepted trajectory has inconsistent lengths");
      NTP_FUZZ_CHECK(t.loss.empty() || t.loss.size() == t.steps.size(),
                     "accepted trajectory has a loss of another length");
    } catch (const ntp::Error&) {
    }
  }
  if (arrays.empty()) return 0;
  ntp::NpzArrays views;
  for (const auto& [name, a] : arrays) views.emplace_back(name, ntp::NpyArrayView(a));
  for (const bool compress : {false, true}) {
    std::map<std::string, ntp::NpyArray> back;
    try {
      back = ntp::parse_npz(ntp::npz_bytes(views, compress), "fuzz-roundtrip.npz");
    } catch (const ntp::Error& e) {
      NTP_FUZZ_CHECK(false, e.what());
    }
    NTP_FUZZ_CHECK(back.size() == arrays.size(), "entry count changed in the round trip");
    for (const auto& [name, a] : arrays) {
      const auto it = back.find(name);
      NTP_FUZZ_CHECK(it != back.end() && same(a, it->second), "an array changed in the round trip");
    }
  }
  return 0;
}
