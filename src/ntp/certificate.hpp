#pragma once
/** @file certificate.hpp
 * The certificate file of `ntpcheck analyze --certificates OUT.json` (format "ntp-certificate",
 * version 1, docs/formats.md) and its independent re-verification (`ntpcheck certify`).
 *
 * Every exact number is a string ("12", "-3/7", "0.25"), so nothing is lost to JSON doubles.
 * Sections (each optional): compatibility, separability, w_mm, w_star. verify_certificates checks
 * each present section with the verify_* function of its module; none of them calls the solver
 * that produced the certificate (GLPK, the float QP, FLINT's solvers).
 */
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/instance.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/separability.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

struct CertificateBundle {
  std::string fingerprint;  ///< instance_fingerprint() of the instance it was made for
  std::int64_t V = 0;
  std::int64_t d = 0;
  std::int64_t m = 0;

  bool has_compatibility = false;
  CompatibilityVerdict compatibility_verdict = CompatibilityVerdict::kInconclusive;
  CompatibilityCertificate compatibility_kind = CompatibilityCertificate::kNone;
  std::vector<std::vector<BigInt>> left_null_space;  ///< holds
  std::vector<BigInt> violation_y;                   ///< violated

  bool has_separability = false;
  SeparabilityVerdict separability_verdict = SeparabilityVerdict::kInconclusive;
  SeparabilityCertificate separability;

  bool has_w_mm = false;
  MaxMarginCertificate w_mm;

  bool has_w_star = false;
  WStarCertificate w_star;
};

/** A 64-bit FNV-1a hash (16 hex digits) of the exact instance (sizes, embeddings, weights,
 * supports, probabilities): detects a certificate checked against the wrong instance. */
std::string instance_fingerprint(const InstanceData& data);

nlohmann::json certificates_to_json(const CertificateBundle& bundle);

/** Parses and shape-checks a certificate document; throws InvalidInput naming the JSON path. */
CertificateBundle certificates_from_json(const nlohmann::json& doc);

/** Reads and parses a certificate file (at most 2 GiB); IoError / InvalidInput on failure. */
CertificateBundle read_certificate_file(const std::string& path);

/** The outcome of re-verifying one section. */
struct SectionCheck {
  std::string section;  ///< "compatibility", "separability", "w_mm", "w_star"
  std::string verdict;  ///< the verdict the certificate claims
  bool verified = false;
  std::string detail;  ///< the defect, or what was verified
  double seconds = 0;
};

/** Verifies every present section against the instance. Throws InvalidInput when the fingerprint
 * or the sizes do not match the instance. */
std::vector<SectionCheck> verify_certificates(const InstanceData& data,
                                              const CertificateBundle& bundle);

}  // namespace ntp
