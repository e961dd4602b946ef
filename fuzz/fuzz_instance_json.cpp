// libFuzzer target: the instance file reader (ntp::read_instance_json, which also runs
// validate_and_normalise), then the conversions a run makes (to_scalar<double>, <float>) and the
// writer's round trip: what instance_to_json writes must read back as the same exact instance.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "ntp/certificate.hpp"
#include "ntp/errors.hpp"
#include "ntp/instance.hpp"
#include "ntp/instance_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ntp::InstanceData inst;
  try {
    inst = ntp::read_instance_json(text, "fuzz.json");
  } catch (const ntp::Error&) {
    return 0;  // a documented rejection
  }
  // Conversions refuse values that do not fit a precision (documented), nothing else.
  try {
    (void)ntp::to_scalar<double>(inst);
  } catch (const ntp::Error&) {
  }
  try {
    (void)ntp::to_scalar<float>(inst);
  } catch (const ntp::Error&) {
  }
  // Written files are lossless: reading the writer's output gives the same exact instance.
  const std::string written = ntp::instance_to_json(inst).dump();
  ntp::InstanceData again;
  try {
    again = ntp::read_instance_json(written, "fuzz-roundtrip.json");
  } catch (const ntp::Error& e) {
    NTP_FUZZ_CHECK(false, e.what());
  }
  NTP_FUZZ_CHECK(ntp::instance_fingerprint(again) == ntp::instance_fingerprint(inst),
                 "the written instance reads back as a different instance");
  NTP_FUZZ_CHECK(ntp::instance_to_json(again).dump() == written, "the writer is not idempotent");
  return 0;
}
