// Tests of ntpcheck analyze (analyze.hpp) and the certificate file (certificate.hpp): every
// certificate produced for any generator family verifies after a JSON round trip, corrupted ones
// are rejected, and the report carries the stable fields of docs/formats.md.
#include "ntp/analyze.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "ntp/certificate.hpp"
#include "ntp/generators.hpp"
#include "ntp/test_support.hpp"

namespace ntp {
namespace {

using testing_support::family;

/** Serialises to text and parses back, as `analyze --certificates` then `certify` do. */
CertificateBundle round_trip(const CertificateBundle& b) {
  return certificates_from_json(nlohmann::json::parse(certificates_to_json(b).dump()));
}

void expect_all_verified(const InstanceData& data, const CertificateBundle& b,
                         const std::string& label) {
  const std::vector<SectionCheck> checks = verify_certificates(data, round_trip(b));
  EXPECT_FALSE(checks.empty()) << label;
  for (const SectionCheck& c : checks) {
    EXPECT_TRUE(c.verified) << label << ": " << c.section << ": " << c.detail;
  }
}

// Every family except paper-main (covered once below, it is the slow one) and corpus (needs a text
// file; covered by a small corpus below), three seeds each.
TEST(Analyze, EveryFamilyCertificateVerifiesAfterRoundTrip) {
  for (const char* f : {"overparameterized", "one-hot", "paper-toy", "incompatible", "inseparable",
                        "underparameterized"}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const std::string label = std::string(f) + ":" + std::to_string(seed);
      const InstanceData data = family(f, seed);
      const AnalyzeResult r = analyze(data);
      EXPECT_EQ(r.report["status"], "decided") << label << ": " << r.report["notes"].dump();
      EXPECT_EQ(static_cast<int>(r.exit), 0) << label;
      EXPECT_TRUE(r.certificates.has_compatibility) << label;
      EXPECT_TRUE(r.certificates.has_separability) << label;
      // W* exists iff (C) holds, W^mm iff (6) holds (theory.md §2, §3).
      EXPECT_EQ(r.report.contains("w_star"), r.report["compatibility"]["verdict"] == "holds")
          << label;
      EXPECT_EQ(r.report.contains("w_mm"), r.report["separability"]["verdict"] == "holds") << label;
      expect_all_verified(data, r.certificates, label);
    }
  }
}

TEST(Analyze, GeneratorFamiliesGiveTheVerdictsTheyAreBuiltFor) {
  // incompatible: (C) fails, (6) holds; inseparable: the reverse (generators.hpp).
  const AnalyzeResult inc = analyze(family("incompatible", 1));
  EXPECT_EQ(inc.report["compatibility"]["verdict"], "violated");
  EXPECT_EQ(inc.report["separability"]["verdict"], "holds");
  const AnalyzeResult ins = analyze(family("inseparable", 1));
  EXPECT_EQ(ins.report["compatibility"]["verdict"], "holds");
  EXPECT_EQ(ins.report["separability"]["verdict"], "violated");
  // overparameterized: d >= m with rank m, both hold [T Lemma 1].
  const AnalyzeResult ov = analyze(family("overparameterized", 1));
  EXPECT_EQ(ov.report["compatibility"]["verdict"], "holds");
  EXPECT_EQ(ov.report["separability"]["verdict"], "holds");
  EXPECT_TRUE(ov.report.contains("attainment"));
}

TEST(Analyze, CorpusInstanceCertificatesVerify) {
  const std::string path = ::testing::TempDir() + "analyze_corpus.txt";
  {
    std::ofstream out(path);
    out << "the cat sat on the mat . the dog sat on the log . a cat and a dog sat .\n";
  }
  GeneratorOptions o;
  o.family = "corpus";
  o.corpus_path = path;
  const InstanceData data = generate(o);
  const AnalyzeResult r = analyze(data);
  EXPECT_NE(r.report["status"], "claim_violated") << r.report.dump();
  expect_all_verified(data, r.certificates, "corpus");
  std::remove(path.c_str());
}

TEST(Analyze, PaperMainReportHasTheStableFieldsAndDecides) {
  const InstanceData data = family("paper-main", 1);
  const AnalyzeResult r = analyze(data);
  const nlohmann::json& j = r.report;
  EXPECT_EQ(j["status"], "decided");
  for (const char* k : {"entropy", "subspace_f", "compatibility", "separability", "w_star", "w_mm",
                        "attainment", "timings"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  // Sizes of theory.md §5: V d = 600 unknowns, sum (|S_j| - 1) = 250 equalities,
  // sum (V - |S_j|) = 200 (6b) rows.
  EXPECT_EQ(j["subspace_f"]["ambient_dim"], 600);
  EXPECT_EQ(j["compatibility"]["equations"], 250);
  EXPECT_EQ(j["w_mm"]["inequalities"], 200);
  // d = 60 > m = 50 with Hbar of rank 50: F has full dimension 250 [T Lemma 1].
  EXPECT_EQ(j["subspace_f"]["dim"], 250);
  EXPECT_EQ(j["compatibility"]["certificate"], "full_row_rank");
  // The enclosure of H contains the double H and is tight.
  const double lo = j["entropy"]["enclosure"][0];
  const double hi = j["entropy"]["enclosure"][1];
  EXPECT_LE(lo, hi);
  EXPECT_LT(hi - lo, 1e-15);
  // Margin = 1 / ||W^mm||.
  EXPECT_NEAR(j["w_mm"]["margin"].get<double>() * j["w_mm"]["norm"].get<double>(), 1.0, 1e-15);
  EXPECT_TRUE(j["attainment"]["all_bounds_hold"]);
  expect_all_verified(data, r.certificates, "paper-main");
  // Text output mentions every object.
  const std::string text = format_analysis(j);
  for (const char* s : {"H = ", "subspace F: dim 250", "compatibility (C): holds",
                        "separability (6): holds", "W*: ||W*||", "W^mm: ||W^mm||", "timings"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  }
}

TEST(Analyze, CertificateForAnotherInstanceIsRefused) {
  const AnalyzeResult r = analyze(family("paper-toy", 1));
  EXPECT_THROW(verify_certificates(family("paper-toy", 2), r.certificates), InvalidInput);
  EXPECT_THROW(verify_certificates(family("overparameterized", 1), r.certificates), InvalidInput);
}

TEST(Analyze, CorruptedSectionsAreRejected) {
  const InstanceData data = family("overparameterized", 2);
  const AnalyzeResult r = analyze(data);
  ASSERT_TRUE(r.certificates.has_w_mm);
  ASSERT_TRUE(r.certificates.has_w_star);
  {  // one W^mm multiplier changed
    CertificateBundle b = r.certificates;
    b.w_mm.inequality_multipliers.front().value += Rational(1, 7);
    const auto checks = verify_certificates(data, b);
    for (const auto& c : checks) {
      EXPECT_EQ(c.verified, c.section != "w_mm") << c.section << ": " << c.detail;
    }
  }
  {  // one witness entry changed
    CertificateBundle b = r.certificates;
    b.separability.w[3] += 1;
    const auto checks = verify_certificates(data, b);
    for (const auto& c : checks) {
      EXPECT_EQ(c.verified, c.section != "separability") << c.section << ": " << c.detail;
    }
  }
  {  // one W* coefficient changed
    CertificateBundle b = r.certificates;
    b.w_star.y[0] += Rational(1, 1000);
    const auto checks = verify_certificates(data, b);
    for (const auto& c : checks) {
      EXPECT_EQ(c.verified, c.section != "w_star") << c.section << ": " << c.detail;
    }
  }
  {  // W* without a compatibility section proves nothing
    CertificateBundle b = r.certificates;
    b.has_compatibility = false;
    const auto checks = verify_certificates(data, b);
    for (const auto& c : checks) {
      if (c.section == "w_star") {
        EXPECT_FALSE(c.verified);
      }
    }
  }
}

TEST(Analyze, IncompatibilityCertificateCorruptionIsRejected) {
  const InstanceData data = family("incompatible", 1);
  const AnalyzeResult r = analyze(data);
  ASSERT_EQ(r.certificates.compatibility_verdict, CompatibilityVerdict::kViolated);
  CertificateBundle b = r.certificates;
  std::size_t k = 0;
  while (k < b.violation_y.size() && b.violation_y[k] == 0) ++k;
  ASSERT_LT(k, b.violation_y.size());
  b.violation_y[k] += 1;  // A^T y = 0 no longer holds
  const auto checks = verify_certificates(data, b);
  ASSERT_FALSE(checks.empty());
  EXPECT_EQ(checks.front().section, "compatibility");
  EXPECT_FALSE(checks.front().verified);
}

TEST(Analyze, MalformedCertificateDocumentsNameTheField) {
  auto message = [](const nlohmann::json& doc) {
    try {
      certificates_from_json(doc);
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  nlohmann::json good = certificates_to_json(analyze(family("paper-toy", 1)).certificates);
  EXPECT_EQ(message(good), "accepted");
  nlohmann::json bad = good;
  bad["version"] = 2;
  EXPECT_NE(message(bad).find("version"), std::string::npos);
  bad = good;
  bad["instance"].erase("fingerprint");
  EXPECT_NE(message(bad).find("instance.fingerprint"), std::string::npos);
  bad = good;
  bad["w_star"]["y"][0] = "1/0";
  EXPECT_NE(message(bad).find("w_star.y[0]"), std::string::npos);
  bad = good;
  bad["w_star"]["radius"] = -1;
  EXPECT_NE(message(bad).find("w_star.radius"), std::string::npos);
  bad = good;
  bad["compatibility"]["verdict"] = "maybe";
  EXPECT_NE(message(bad).find("compatibility.verdict"), std::string::npos);
}

TEST(Analyze, UnsupportedPrecisionIsInvalidInput) {
  AnalyzeOptions o;
  o.precision = parse_precision("float");
  EXPECT_THROW(analyze(family("paper-toy", 1), o), InvalidInput);
}

TEST(Analyze, PrecisionCheckImprovesWithPrecision) {
  // The SVD solve of (C) in higher precision lands closer to the certified W*.
  const InstanceData data = family("overparameterized", 1);
  AnalyzeOptions o;
  o.precision = parse_precision("double");
  const double err_double = analyze(data, o).report["w_star"]["precision_check"]["max_abs_error"];
  o.precision = parse_precision("mpfr:40");
  const double err_mpfr = analyze(data, o).report["w_star"]["precision_check"]["max_abs_error"];
  EXPECT_LT(err_double, 1e-12);
  EXPECT_LT(err_mpfr, 1e-30);
}

}  // namespace
}  // namespace ntp
