// libFuzzer target: the certificate file reader, from bytes as `ntpcheck certify` reads them
// (nlohmann::json::parse, then ntp::certificates_from_json), and the writer's round trip: an
// accepted bundle written back (certificates_to_json) must read back to the same document.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_common.hpp"
#include "ntp/certificate.hpp"
#include "ntp/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // read_certificate_file turns this into InvalidInput ("malformed JSON")
  }
  ntp::CertificateBundle b;
  try {
    b = ntp::certificates_from_json(doc);
  } catch (const ntp::Error&) {
    return 0;  // a documented rejection
  }
  const nlohmann::json written = ntp::certificates_to_json(b);
  ntp::CertificateBundle again;
  try {
    again = ntp::certificates_from_json(written);
  } catch (const ntp::Error& e) {
    NTP_FUZZ_CHECK(false, e.what());
  }
  NTP_FUZZ_CHECK(ntp::certificates_to_json(again) == written,
                 "the written certificate reads back differently");
  return 0;
}
