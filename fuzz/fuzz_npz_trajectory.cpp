// libFuzzer target: the trajectory checks of `ntpcheck verify`
// (ntp::candidate_trajectory_from_arrays) behind the .npz reader, on well-formed archives. fuzz_npz
// mutates archive bytes, so libzip's CRC check rejects nearly every mutation of an entry's
// contents; here the input is a list of entries
//
//     [tag][length, 2 bytes little-endian][length bytes of .npy data] ...   (at most 6 entries)
//
// (tag bits 0-1: name step / W / loss / ce; bit 2: deflate) that the harness zips with libzip,
// so the fuzzer explores the .npy headers, dtypes and shapes of the arrays a trajectory holds.
// fuzz/make_seeds.py writes the seeds.
#include <zip.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_common.hpp"
#include "ntp/errors.hpp"
#include "ntp/npy.hpp"
#include "ntp/verify.hpp"

namespace {

struct Entry {
  std::string name;
  bool deflate = false;
  std::string_view data;
};

std::vector<Entry> split(const std::uint8_t* data, std::size_t size) {
  static const char* const kNames[] = {"step.npy", "W.npy", "loss.npy", "ce.npy"};
  std::vector<Entry> out;
  std::size_t i = 0;
  while (out.size() < 6 && i + 3 <= size) {
    const std::uint8_t tag = data[i];
    const std::size_t len = data[i + 1] | (std::size_t{data[i + 2]} << 8);
    i += 3;
    const std::size_t n = std::min(len, size - i);
    out.push_back({kNames[tag & 3], (tag & 4) != 0,
                   std::string_view(reinterpret_cast<const char*>(data + i), n)});
    i += n;
  }
  return out;
}

// The zip bytes of the entries (a name given twice keeps its first entry); empty on a libzip
// failure (a harness problem, not a finding).
std::string zip_bytes(const std::vector<Entry>& entries) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_error_fini(&err);
  if (buf == nullptr) return {};
  zip_source_keep(buf);
  const std::unique_ptr<zip_source_t, void (*)(zip_source_t*)> keep(
      buf, [](zip_source_t* s) { zip_source_free(s); });
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, nullptr);
  if (za == nullptr) return {};
  for (const Entry& e : entries) {
    zip_source_t* src = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
    if (src == nullptr) continue;
    const zip_int64_t idx = zip_file_add(za, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      continue;
    }
    (void)zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                                   e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(za) != 0) {
    zip_discard(za);
    return {};
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_open(buf) != 0) return {};
  std::string out;
  if (zip_source_stat(buf, &st) == 0 && (st.valid & ZIP_STAT_SIZE) != 0) {
    out.resize(st.size);
    std::size_t got = 0;
    while (got < out.size()) {
      const zip_int64_t r = zip_source_read(buf, out.data() + got, out.size() - got);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    out.resize(got);
  }
  (void)zip_source_close(buf);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = zip_bytes(split(data, size));
  if (bytes.empty()) return 0;
  std::map<std::string, ntp::NpyArray> arrays;
  try {
    arrays = ntp::parse_npz(bytes, "fuzz.npz", std::uint64_t{64} << 20);
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
      for (std::size_t k = 0; k < t.steps.size(); ++k) {
        NTP_FUZZ_CHECK(t.weights[k].rows() == V && t.weights[k].cols() == d,
                       "accepted W has the wrong shape");
        NTP_FUZZ_CHECK(t.steps[k] >= 0 && (k == 0 || t.steps[k] > t.steps[k - 1]),
                       "accepted steps are negative or not increasing");
      }
    } catch (const ntp::Error&) {
    }
  }
  return 0;
}
