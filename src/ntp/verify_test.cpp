#include "ntp/verify.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ntp/compatibility.hpp"
#include "ntp/generators.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/separability.hpp"
#include "ntp/train.hpp"
#include "ntp/w_star.hpp"

namespace ntp {
namespace {

InstanceData small_instance() {
  GeneratorOptions g;
  g.family = "overparameterized";
  g.seed = 3;
  return generate(g);
}

OptimizerOptions gd_options(const InstanceData& data, std::int64_t steps) {
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.steps = steps;
  opt.eta = default_eta(OptimizerKind::kGD, summarize(data));
  return opt;
}

/** A candidate trajectory made by our own implementation in `precision`. */
CandidateTrajectory own_run(const InstanceData& data, const OptimizerOptions& opt,
                            const PrecisionSpec& precision, NpyDtype dtype) {
  const TrainResult r = train(data, opt, precision);
  CandidateTrajectory t;
  t.steps = r.step;
  t.weights = r.weights;
  t.dtype = dtype;
  t.loss = r.ce;
  return t;
}

VerifyOptions fast_options() {
  VerifyOptions o;
  o.reference_objects = false;
  return o;
}

// The reference's own runs are correct candidates: double (f8) and float (f4, judged by float's
// epsilon), with their reported losses.
TEST(VerifyTrajectory, OwnDoubleAndFloatRunsPass) {
  const InstanceData data = small_instance();
  const OptimizerOptions opt = gd_options(data, 300);
  for (const auto& [prec, dtype] :
       {std::pair{PrecisionSpec{Precision::kDouble, 0}, NpyDtype::kFloat64},
        std::pair{PrecisionSpec{Precision::kFloat, 0}, NpyDtype::kFloat32}}) {
    const CandidateTrajectory t = own_run(data, opt, prec, dtype);
    const VerifyResult r = verify_trajectory(data, t, opt, nullptr, fast_options());
    EXPECT_EQ(r.exit, ExitCode::kAllHold) << prec.name() << "\n" << format_verify(r.report);
    EXPECT_TRUE(r.report["trajectory"]["first_failing_step"].is_null());
    EXPECT_EQ(r.report["trajectory"]["compared"].get<std::size_t>(), t.steps.size());
  }
}

TEST(VerifyTrajectory, OwnNgdAndAdamRunsPass) {
  const InstanceData data = small_instance();
  for (OptimizerKind kind : {OptimizerKind::kNGD, OptimizerKind::kAdam}) {
    OptimizerOptions opt;
    opt.kind = kind;
    opt.steps = 200;
    opt.eta = default_eta(kind, summarize(data));
    const CandidateTrajectory t =
        own_run(data, opt, PrecisionSpec{Precision::kDouble, 0}, NpyDtype::kFloat64);
    const VerifyResult r = verify_trajectory(data, t, opt, nullptr, fast_options());
    EXPECT_EQ(r.exit, ExitCode::kAllHold) << optimizer_name(kind) << "\n"
                                          << format_verify(r.report);
  }
}

// A GD run with eta 1% too large differs from the replay at step 1 by 1% of W_1: flagged there.
TEST(VerifyTrajectory, WrongEtaFailsAtStepOne) {
  const InstanceData data = small_instance();
  const OptimizerOptions opt = gd_options(data, 100);
  OptimizerOptions wrong = opt;
  wrong.eta = *opt.eta * Rational(101, 100);
  const CandidateTrajectory t =
      own_run(data, wrong, PrecisionSpec{Precision::kDouble, 0}, NpyDtype::kFloat64);
  const VerifyResult r = verify_trajectory(data, t, opt, nullptr, fast_options());
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_EQ(r.report["trajectory"]["first_failing_step"].get<std::int64_t>(), 1);
  EXPECT_NEAR(r.report["trajectory"]["first_failure"]["error_candidate"].get<double>(), 0.01, 1e-6);
}

// W_{k+1} stored as step k: step 0 is then W_1 != W0 = 0.
TEST(VerifyTrajectory, OffByOneFailsAtStepZero) {
  const InstanceData data = small_instance();
  OptimizerOptions opt = gd_options(data, 20);
  CandidateTrajectory t =
      own_run(data, opt, PrecisionSpec{Precision::kDouble, 0}, NpyDtype::kFloat64);
  ASSERT_GE(t.steps.size(), 3u);
  ASSERT_EQ(t.steps[0], 0);
  ASSERT_EQ(t.steps[1], 1);
  t.weights.erase(t.weights.begin());
  t.steps.pop_back();
  t.loss.clear();
  const VerifyResult r = verify_trajectory(data, t, opt, nullptr, fast_options());
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_EQ(r.report["trajectory"]["first_failing_step"].get<std::int64_t>(), 0);
}

// The pass rule by construction: the candidate is the dd run rounded to double (error ~u_d), so
// a perturbation of relative size delta at step 10 passes when delta is well below the per-step
// allowance tolerance u_c (k + 1) = 16 * 2^-53 * 11 ~ 2e-14 and fails when it is well above it
// (the double replay's own error, the other term, is of the order of u_d here).
TEST(VerifyTrajectory, PerturbationAtTheBound) {
  const InstanceData data = small_instance();
  const OptimizerOptions opt = gd_options(data, 10);
  const CandidateTrajectory base =
      own_run(data, opt, PrecisionSpec{Precision::kDD, 0}, NpyDtype::kFloat64);
  const VerifyOptions o = fast_options();
  for (const auto& [delta, expect_fail] :
       {std::pair{1e-15, false}, std::pair{1e-12, true}, std::pair{1e-6, true}}) {
    CandidateTrajectory t = base;
    t.loss.clear();
    const std::size_t k = 10;  // step 10
    ASSERT_EQ(t.steps[k], 10);
    const double scale = t.weights[k].cwiseAbs().maxCoeff();
    t.weights[k](2, 3) += delta * scale;
    const VerifyResult r = verify_trajectory(data, t, opt, nullptr, o);
    EXPECT_EQ(r.exit, expect_fail ? ExitCode::kViolated : ExitCode::kAllHold)
        << delta << "\n"
        << format_verify(r.report);
    if (expect_fail) {
      EXPECT_EQ(r.report["trajectory"]["first_failing_step"].get<std::int64_t>(), 10);
      EXPECT_EQ(r.report["trajectory"]["first_failure"]["worst_entry"]["row"].get<int>(), 2);
      EXPECT_EQ(r.report["trajectory"]["first_failure"]["worst_entry"]["col"].get<int>(), 3);
    }
  }
}

TEST(VerifyTrajectory, NonFiniteCheckpointFails) {
  const InstanceData data = small_instance();
  const OptimizerOptions opt = gd_options(data, 20);
  CandidateTrajectory t =
      own_run(data, opt, PrecisionSpec{Precision::kDouble, 0}, NpyDtype::kFloat64);
  t.weights[5](1, 1) = std::numeric_limits<double>::quiet_NaN();
  const VerifyResult r = verify_trajectory(data, t, opt, nullptr, fast_options());
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_EQ(r.report["trajectory"]["first_failing_step"].get<std::int64_t>(), 5);
}

TEST(VerifyTrajectory, WrongReportedLossFails) {
  const InstanceData data = small_instance();
  const OptimizerOptions opt = gd_options(data, 20);
  CandidateTrajectory t =
      own_run(data, opt, PrecisionSpec{Precision::kDouble, 0}, NpyDtype::kFloat64);
  t.loss[7] *= 1 + 1e-9;
  const VerifyResult r = verify_trajectory(data, t, opt, nullptr, fast_options());
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_EQ(r.report["trajectory"]["first_failing_step"].get<std::int64_t>(), 7);
  EXPECT_EQ(r.report["trajectory"]["first_failure"]["loss"]["status"], "fail");
}

// Known answers: at W = W* + R W^mm the log-odds error is ~0 (W* solves (C)), P_F W = W*, and
// P_perp W = R W^mm, so cos(P_perp W, W^mm) = 1; every GD invariant holds (W in F + F^perp
// directions of the form (e_z - e_v) h_j^T: zero column sums, rows in span{h_j}).
TEST(VerifyWeights, KnownAnswersAtWStarPlusWmm) {
  GeneratorOptions g;
  g.family = "paper-toy";
  g.seed = 4;  // separable (generators.hpp)
  const InstanceData data = generate(g);
  const CompatibilityResult c = check_compatibility(data);
  ASSERT_EQ(c.verdict, Verdict::kHolds);
  const WStarResult ws = enclose_w_star(data, c.verdict);
  ASSERT_TRUE(ws.computed);
  const SeparabilityResult sep = decide_separability(data);
  ASSERT_EQ(sep.verdict, Verdict::kHolds);
  const MaxMarginResult mm = compute_w_mm(data, sep.verdict);
  ASSERT_EQ(mm.status, MaxMarginStatus::kProven);
  CandidateWeights cw;
  cw.W = ws.w_double + 5.0 * mm.w_double;
  const VerifyResult r = verify_weights(data, cw);
  EXPECT_EQ(r.exit, ExitCode::kAllHold) << format_verify(r.report);
  const auto& p = r.report["point"];
  const double scale = cw.W.cwiseAbs().maxCoeff();
  EXPECT_LT(p["log_odds"]["worst_error"].get<double>(), 64 * 0x1.0p-53 * scale * 10);
  EXPECT_LT(p["theory"]["distance_P_F_W_to_W_star"].get<double>(), 1e-12 * scale);
  EXPECT_NEAR(p["theory"]["cos_P_perp_W_W_mm"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(p["verdicts"]["column_sums"]["verdict"], "holds");
}

// Adding a constant to one column breaks 1^T W = 0 (GD's invariant), by far more than rounding.
TEST(VerifyWeights, ColumnSumViolationIsFlagged) {
  const InstanceData data = small_instance();
  const TrainResult run = train(data, gd_options(data, 50), PrecisionSpec{Precision::kDouble, 0});
  CandidateWeights cw;
  cw.W = run.final_weights;
  VerifyOptions o = fast_options();
  o.steps_taken = 50;
  EXPECT_EQ(verify_weights(data, cw, nullptr, o).exit, ExitCode::kAllHold);
  cw.W.col(4).array() += 1e-6;
  const VerifyResult r = verify_weights(data, cw, nullptr, o);
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_EQ(r.report["point"]["verdicts"]["column_sums"]["verdict"], "violated");
  EXPECT_EQ(r.report["point"]["verdicts"]["column_sums"]["worst_column"].get<int>(), 4);
  o.gd_invariants = false;  // Adam: not an invariant
  EXPECT_EQ(verify_weights(data, cw, nullptr, o).exit, ExitCode::kAllHold);
}

TEST(VerifyWeights, ReportedLossAndNonFinite) {
  const InstanceData data = small_instance();
  const TrainResult run = train(data, gd_options(data, 30), PrecisionSpec{Precision::kDouble, 0});
  CandidateWeights cw;
  cw.W = run.final_weights;
  VerifyOptions o = fast_options();
  o.reported_loss = run.ce.back();
  EXPECT_EQ(verify_weights(data, cw, nullptr, o).exit, ExitCode::kAllHold);
  o.reported_loss = run.ce.back() + 1e-10;
  EXPECT_EQ(verify_weights(data, cw, nullptr, o).exit, ExitCode::kViolated);
  o.reported_loss = std::numeric_limits<double>::quiet_NaN();
  cw.W(0, 0) = std::numeric_limits<double>::infinity();
  const VerifyResult r = verify_weights(data, cw, nullptr, o);
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_EQ(r.report["point"]["verdicts"]["finite"]["verdict"], "violated");
}

NpyArray int_array(std::vector<std::int64_t> v) {
  NpyArray a;
  a.dtype = NpyDtype::kInt64;
  a.shape = {static_cast<std::int64_t>(v.size())};
  a.i64 = std::move(v);
  return a;
}

NpyArray float_array(std::vector<std::int64_t> shape, NpyDtype dtype = NpyDtype::kFloat32) {
  NpyArray a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.f64.assign(static_cast<std::size_t>(a.size()), 0.0);
  return a;
}

std::string error_of(const std::map<std::string, NpyArray>& arrays) {
  try {
    (void)candidate_trajectory_from_arrays(arrays, 3, 2, "npz file T.npz");
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

TEST(CandidateTrajectory, BadArraysAreInvalidInput) {
  EXPECT_EQ(error_of({{"W", float_array({2, 3, 2})}}),
            "npz file T.npz: array step is missing (expected int64 [K])");
  EXPECT_EQ(error_of({{"step", int_array({0, 1})}}),
            "npz file T.npz: array W is missing (expected float [K, V, d])");
  EXPECT_EQ(error_of({{"step", int_array({0, 2, 1})}, {"W", float_array({3, 3, 2})}}),
            "npz file T.npz: array step must be strictly increasing, got 2 then 1 at entry 2");
  EXPECT_EQ(error_of({{"step", int_array({-1})}, {"W", float_array({1, 3, 2})}}),
            "npz file T.npz: array step entry 0 must be in [0, 100000000], got -1");
  EXPECT_NE(error_of({{"step", int_array({0, 1})}, {"W", float_array({2, 2, 3})}}).find("shape"),
            std::string::npos);
  EXPECT_NE(error_of({{"step", int_array({0})}, {"W", float_array({1, 3, 2}, NpyDtype::kInt32)}})
                .find("array W must be float32 or float64, got i4"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          {{"step", int_array({0})}, {"W", float_array({1, 3, 2})}, {"loss", float_array({2})}})
          .find("array loss"),
      std::string::npos);
  EXPECT_EQ(error_of({{"step", int_array({0, 5})}, {"W", float_array({2, 3, 2})}}), "");
}

TEST(VerifyTrajectory, RejectsMissingEta) {
  const InstanceData data = small_instance();
  OptimizerOptions opt;
  CandidateTrajectory t;
  t.steps = {0};
  t.weights = {Eigen::MatrixXd::Zero(data.vocab_size, data.embedding_dim)};
  EXPECT_THROW((void)verify_trajectory(data, t, opt), InvalidInput);
}

}  // namespace
}  // namespace ntp
