// Tests of the claims (claims.hpp): verdicts on instances built to satisfy or break the
// hypotheses, the not_applicable reasons, the exit-code rule and the JUnit report.
#include "ntp/claims.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "ntp/test_support.hpp"

namespace ntp {
namespace {

using testing_support::family;

std::map<std::string, ClaimResult> by_name(const std::vector<ClaimResult>& rs) {
  std::map<std::string, ClaimResult> m;
  for (const auto& r : rs) m[r.name] = r;
  return m;
}

TEST(Claims, NamesAreTheDocumentedEight) {
  EXPECT_EQ(claim_names().size(), 8U);
  EXPECT_EQ(claim_names().front(), "entropy_attainment");
}

// d >= m with rank m: both conditions hold [T Lemma 1]; every claim holds there except possibly
// GD trend claims that stay inconclusive within the budget; none may be violated.
TEST(Claims, OverparameterizedInstanceHasNoViolation) {
  const auto rs = by_name(check_claims(family("overparameterized", 1)));
  for (const auto& [name, r] : rs) {
    EXPECT_NE(r.verdict, Verdict::kViolated) << name << ": " << r.reason;
    EXPECT_NE(r.verdict, Verdict::kNotApplicable) << name << ": " << r.reason;
    EXPECT_FALSE(r.rule.empty() && name != "lemma1_overparameterized") << name;
  }
  EXPECT_EQ(rs.at("entropy_attainment").verdict, Verdict::kHolds);
  EXPECT_EQ(rs.at("lemma1_overparameterized").verdict, Verdict::kHolds);
  EXPECT_EQ(rs.at("regularization_path").verdict, Verdict::kHolds);
  EXPECT_EQ(rs.at("gd_invariants").verdict, Verdict::kHolds);
}

// Separability fails: inf CE > H (claim 1, converse direction) and the GD claims do not apply,
// naming hypothesis (6).
TEST(Claims, InseparableInstanceConverseHoldsAndGdClaimsDoNotApply) {
  const auto rs = by_name(check_claims(family("inseparable", 1)));
  const ClaimResult& att = rs.at("entropy_attainment");
  EXPECT_EQ(att.verdict, Verdict::kHolds) << att.reason;
  EXPECT_GT(att.measured, 1e-3);  // the excess settles well above 0
  for (const char* n : {"gd_projection_to_w_star", "gd_direction_to_w_mm", "gd_norm_and_loss",
                        "regularization_path"}) {
    EXPECT_EQ(rs.at(n).verdict, Verdict::kNotApplicable) << n;
    EXPECT_NE(rs.at(n).reason.find("(6)"), std::string::npos) << rs.at(n).reason;
  }
}

// Compatibility fails: the same, naming hypothesis (C); the uniqueness claim does not apply.
TEST(Claims, IncompatibleInstanceConverseHoldsAndClaimsNameC) {
  const auto rs = by_name(check_claims(family("incompatible", 1)));
  EXPECT_EQ(rs.at("entropy_attainment").verdict, Verdict::kHolds);
  EXPECT_EQ(rs.at("log_odds_uniqueness").verdict, Verdict::kNotApplicable);
  EXPECT_NE(rs.at("gd_projection_to_w_star").reason.find("(C)"), std::string::npos);
}

TEST(Claims, Lemma1DoesNotApplyWhenDIsBelowM) {
  CheckOptions o;
  o.claims = {"lemma1_overparameterized"};
  const auto rs = check_claims(family("underparameterized", 1), o);
  ASSERT_EQ(rs.size(), 1U);
  EXPECT_EQ(rs[0].verdict, Verdict::kNotApplicable);
  EXPECT_NE(rs[0].reason.find("d = "), std::string::npos) << rs[0].reason;
}

TEST(Claims, OneHotHasTrivialF) {
  // F = {0} and W* = 0 [T Remark 1]: P_F(W_k) = W* for every k.
  CheckOptions o;
  o.claims = {"gd_projection_to_w_star", "log_odds_uniqueness"};
  const auto rs = by_name(check_claims(family("one-hot", 1), o));
  EXPECT_EQ(rs.at("gd_projection_to_w_star").verdict, Verdict::kHolds);
  EXPECT_EQ(rs.at("log_odds_uniqueness").verdict, Verdict::kHolds);
}

TEST(Claims, BadOptionsAreInvalidInput) {
  CheckOptions o;
  o.claims = {"no_such_claim"};
  EXPECT_THROW(check_claims(family("paper-toy", 1), o), InvalidInput);
  o.claims = {};
  o.budget_seconds = 0;
  EXPECT_THROW(check_claims(family("paper-toy", 1), o), InvalidInput);
  o.budget_seconds = 10;
  o.steps = 3;
  EXPECT_THROW(check_claims(family("paper-toy", 1), o), InvalidInput);
}

TEST(Claims, ExitCodeRule) {
  ClaimResult h;
  h.verdict = Verdict::kHolds;
  ClaimResult n = h;
  n.verdict = Verdict::kNotApplicable;
  ClaimResult i = h;
  i.verdict = Verdict::kInconclusive;
  ClaimResult v = h;
  v.verdict = Verdict::kViolated;
  EXPECT_EQ(claims_exit_code({h, n}), ExitCode::kAllHold);  // not_applicable is neither
  EXPECT_EQ(claims_exit_code({h, i, n}), ExitCode::kInconclusive);
  EXPECT_EQ(claims_exit_code({i, v}), ExitCode::kViolated);
}

TEST(Claims, JunitReportMapsVerdictsAndEscapes) {
  ClaimResult v;
  v.name = "a<b";
  v.verdict = Verdict::kViolated;
  v.reason = "x & \"y\"";
  ClaimResult i;
  i.name = "inc";
  i.verdict = Verdict::kInconclusive;
  i.reason = "budget";
  ClaimResult n;
  n.name = "na";
  n.verdict = Verdict::kNotApplicable;
  n.reason = "hypothesis (6) fails";
  const std::string x = claims_to_junit({{"@inst'1", "inst", {v, i, n}}});
  EXPECT_NE(x.find("tests=\"3\" failures=\"1\" skipped=\"1\""), std::string::npos) << x;
  EXPECT_NE(x.find("name=\"a&lt;b\""), std::string::npos) << x;
  EXPECT_NE(x.find("<failure message=\"x &amp; &quot;y&quot;\""), std::string::npos) << x;
  EXPECT_NE(x.find("<skipped message=\"inconclusive: budget\"/>"), std::string::npos) << x;
  EXPECT_NE(x.find("not_applicable: hypothesis (6) fails"), std::string::npos) << x;
  EXPECT_NE(x.find("@inst&apos;1"), std::string::npos) << x;
}

}  // namespace
}  // namespace ntp
