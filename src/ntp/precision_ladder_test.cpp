#include "ntp/precision_ladder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/subspace.hpp"

namespace ntp {
namespace {

const double kLn2 = std::log(2.0);

InstanceData family(const std::string& name, std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.family = name;
  o.seed = seed;
  return generate(o);
}

// Expected horizons from the IEEE formats themselves (p significand bits, emin, subnormals down
// to 2^(emin - p + 1)): (a) 1 + x == 1 iff x <= 2^-p, (b) x < 2^emin, (c) x rounds to 0 iff
// x <= 2^(emin - p) (half the smallest subnormal, ties to even).
struct IeeeFormat {
  const char* name;
  int p;
  int emin;
  double tol;  ///< R is rounded into the type before exp (float: ulp(R) ~ 1e-5)
};

TEST(PrecisionLadder, HorizonsOfIeeeTypesMatchTheirFormats) {
  for (const IeeeFormat f :
       {IeeeFormat{"float", 24, -126, 1e-4}, IeeeFormat{"double", 53, -1022, 1e-6},
        IeeeFormat{"long-double", 64, -16382, 1e-6}, IeeeFormat{"float128", 113, -16382, 1e-6}}) {
    SCOPED_TRACE(f.name);
    const HorizonTable h = measure_horizons(parse_precision(f.name));
    EXPECT_NEAR(h.measured_one_plus, f.p * kLn2, f.tol);
    EXPECT_NEAR(h.measured_full_width, f.p * kLn2, f.tol);
    EXPECT_NEAR(h.measured_subnormal, -f.emin * kLn2, f.tol * 10);
    EXPECT_NEAR(h.measured_zero, (f.p - f.emin) * kLn2, f.tol * 10);
    EXPECT_TRUE(h.has_subnormals);
    // ScalarTraits' predictions (theory.md §6): (a), (b) within the tolerance, (c) within ln 2.
    EXPECT_NEAR(h.predicted_one_plus, h.measured_one_plus, f.tol);
    EXPECT_NEAR(h.predicted_subnormal, h.measured_subnormal, f.tol * 10);
    EXPECT_GE(h.measured_zero, h.predicted_zero - f.tol * 10);
    EXPECT_LE(h.measured_zero, h.predicted_zero + kLn2 + f.tol * 10);
  }
}

TEST(PrecisionLadder, HorizonsQuotedByTheory) {
  // theory.md §6 and the issue: float 16.6; double 36.7, 708.4, 745.1.
  EXPECT_NEAR(measure_horizons(parse_precision("float")).measured_one_plus, 16.6, 0.05);
  const HorizonTable d = measure_horizons(parse_precision("double"));
  EXPECT_NEAR(d.measured_one_plus, 36.7, 0.05);
  EXPECT_NEAR(d.measured_subnormal, 708.4, 0.05);
  EXPECT_NEAR(d.measured_zero, 745.1, 0.05);
}

TEST(PrecisionLadder, HorizonsOfWideExponentTypes) {
  // MPFR at 60 digits: 200 bits (Boost rounds 60 decimal digits up to whole bits); no subnormals,
  // e^-R reaches 0 only near -emin ln 2 (emin about -2^30).
  const HorizonTable m = measure_horizons(parse_precision("mpfr:60"));
  const double bits = std::ceil(60 * std::log2(10.0));
  EXPECT_NEAR(m.measured_one_plus, m.predicted_one_plus, 1e-6);
  EXPECT_GE(m.measured_one_plus, (bits - 2) * kLn2);
  EXPECT_LE(m.measured_one_plus, (bits + 2) * kLn2);
  EXPECT_FALSE(m.has_subnormals);
  EXPECT_GT(m.measured_zero, 1e8);
  // cpp_bin_float<50>: wide exponent as well (theory.md §6).
  const HorizonTable b = measure_horizons(parse_precision("mp50"));
  EXPECT_NEAR(b.measured_one_plus, b.predicted_one_plus, 1e-6);
  EXPECT_GT(b.measured_zero, 1e8);
  // double-double keeps 1 + x as an unevaluated pair until x underflows: (a) is near double's
  // (c); an operand with all 106 bits in use loses x below about 2^-107 (a').
  const HorizonTable dd = measure_horizons(parse_precision("dd"));
  EXPECT_GT(dd.measured_one_plus, 700);
  EXPECT_GE(dd.measured_full_width, 104 * kLn2);
  EXPECT_LE(dd.measured_full_width, 110 * kLn2);
  EXPECT_NEAR(dd.update_horizon(), dd.measured_full_width, 0);
}

TEST(PrecisionLadder, ParseLadderRejectsBadLists) {
  EXPECT_EQ(parse_ladder("float,double,dd").size(), 3U);
  EXPECT_EQ(parse_ladder(kDefaultLadder).size(), 8U);
  for (const char* bad : {"", "double", "double,", ",double", "double,quad", "double,double",
                          "double,mpfr:5", "double,,dd"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(parse_ladder(bad), InvalidInput);
  }
  const auto l = parse_ladder("mpfr:200,double,qd");
  EXPECT_EQ(top_rung(l), 0U);
}

TEST(PrecisionLadder, ExactRankProjectorMatchesTheSvdProjection) {
  // incompatible has dependent generators: the pivoted Cholesky must stop at the exact dim F.
  for (const char* name : {"paper-toy", "incompatible", "overparameterized", "one-hot"}) {
    SCOPED_TRACE(name);
    const InstanceData data = family(name);
    const auto inst = to_scalar<double>(data);
    const SubspaceBasis f = subspace_basis(inst);
    set_mpfr_digits(40);
    const ExactRankProjector proj(data);
    EXPECT_EQ(proj.rank(), exact_dim_f(data));
    Eigen::MatrixXd w = Eigen::MatrixXd::Random(inst.V, inst.d);
    const Eigen::MatrixXd pd = project_f(f, w);
    const Matrix<Mpfr> wm = from_double_matrix<Mpfr>(w);
    const Matrix<Mpfr> pm = proj.project_f(wm);
    double diff = 0;
    for (Eigen::Index i = 0; i < w.size(); ++i) {
      diff = std::max(diff, std::abs(pd.data()[i] - ScalarTraits<Mpfr>::to_double(pm.data()[i])));
    }
    EXPECT_LE(diff, 1e-12 * std::max(1.0, w.norm()));
    // Idempotent at the working precision.
    const Mpfr again = (proj.project_f(pm) - pm).norm();
    EXPECT_LE(ScalarTraits<Mpfr>::to_double(again), 1e-30);
  }
}

TEST(PrecisionLadder, DoubleAndFloatAgainstMpfrOnShortGd) {
  LadderOptions o;
  o.ladder = parse_ladder("float,double,mpfr:60");
  o.optimizer.steps = 100;
  const LadderResult r = run_ladder(family("paper-toy"), o);
  ASSERT_EQ(r.rungs.size(), 3U);
  EXPECT_EQ(r.top, 2U);
  EXPECT_EQ(r.cap_digits, 60);
  const RungResult& fl = r.rungs[0];
  const RungResult& db = r.rungs[1];
  ASSERT_EQ(db.points.size(), fl.points.size());
  ASSERT_GT(db.points.size(), 10U);
  for (std::size_t i = 1; i < db.points.size(); ++i) {  // step 0: W = 0 exactly everywhere
    SCOPED_TRACE(db.points[i].step);
    for (const auto& x : {db.points[i].excess, db.points[i].w, db.points[i].p_f}) {
      ASSERT_TRUE(x.has_value());
      EXPECT_GE(*x, 12);
      EXPECT_LE(*x, 17);
    }
    ASSERT_TRUE(fl.points[i].w.has_value());
    EXPECT_LE(*fl.points[i].w, 8);
    EXPECT_GE(*fl.points[i].w, 3);
  }
  // Step 0: W = 0 in every rung: W agrees exactly (the cap), the direction is undefined.
  EXPECT_EQ(*db.points[0].w, 60);
  EXPECT_FALSE(db.points[0].perp_direction.has_value());
  // No horizon is near in 100 GD steps; both rungs are evidence for the whole run.
  EXPECT_FALSE(db.cross_one_plus.has_value());
  EXPECT_EQ(db.evidence_last_step, 100);
  EXPECT_FALSE(r.rungs[2].compared);
  EXPECT_EQ(r.rungs[2].evidence_last_step, 100);
}

TEST(PrecisionLadder, IdenticalRungAgreesToTheCap) {
  LadderOptions o;
  o.ladder = {parse_precision("double"), parse_precision("double")};  // the API allows it
  o.optimizer.steps = 30;
  o.optimizer.kind = OptimizerKind::kNGD;
  const LadderResult r = run_ladder(family("paper-toy"), o);
  EXPECT_EQ(r.top, 1U);
  for (const auto& a : r.rungs[0].points) {
    EXPECT_EQ(a.excess.value_or(-1), 16);
    EXPECT_EQ(a.w.value_or(-1), 16);
    EXPECT_EQ(a.p_f.value_or(-1), 16);
    if (a.step > 0) {
      EXPECT_EQ(a.perp_direction.value_or(-1), 16);
    }
  }
}

TEST(PrecisionLadder, FloatCrossesItsHorizonUnderFastNgd) {
  // One-hot data (F = {0}): NGD with eta = 1 grows ||W|| by about one per step and R with it, so
  // R passes float's horizons (a) = 16.6 and (c) / 2 = 52 (where NGD's ||grad||^2 underflows)
  // within a few hundred steps.
  LadderOptions o;
  o.ladder = parse_ladder("float,dd");
  o.optimizer.kind = OptimizerKind::kNGD;
  o.optimizer.eta = Rational(1);
  o.optimizer.steps = 400;
  const LadderResult r = run_ladder(family("one-hot"), o);
  const RungResult& fl = r.rungs[0];
  const double horizon = fl.horizons.evidence_horizon(OptimizerKind::kNGD);
  EXPECT_NEAR(horizon, fl.horizons.measured_zero / 2, 1e-12);
  ASSERT_GT(r.max_top_min_gap, horizon);
  ASSERT_TRUE(fl.cross_one_plus.has_value());
  // At the crossing step R exceeds the threshold, at the step before it does not.
  for (std::size_t i = 1; i < fl.points.size(); ++i) {
    if (fl.points[i].step == *fl.cross_one_plus) {
      EXPECT_GT(fl.points[i].top_min_gap, fl.horizons.measured_one_plus);
      EXPECT_LE(fl.points[i - 1].top_min_gap, fl.horizons.measured_one_plus);
    }
  }
  // Evidence ends before the first recorded step past the evidence horizon.
  std::int64_t past = -1;
  for (const auto& a : fl.points) {
    if (past < 0 && a.top_min_gap > horizon) past = a.step;
  }
  ASSERT_GE(past, 0);
  EXPECT_LT(fl.evidence_last_step, past);
  EXPECT_FALSE(fl.evidence_reason.empty());
  // P_F(W) = 0 in every rung (F = {0}): exact agreement, the cap.
  EXPECT_EQ(fl.points.back().p_f.value_or(-1), r.cap_digits);
}

TEST(PrecisionLadder, RejectsBadOptions) {
  LadderOptions o;
  o.ladder = parse_ladder("float,double");
  o.optimizer.steps = 0;
  EXPECT_THROW(run_ladder(family("paper-toy"), o), InvalidInput);
  o.optimizer.steps = 5;
  o.ladder.resize(1);
  EXPECT_THROW(run_ladder(family("paper-toy"), o), InvalidInput);
}

}  // namespace
}  // namespace ntp
