// Precision agreement of the reference GD (issue "Foundation"): double and MPFR at 50 digits agree
// to 1e-12 relative on the first 1000 steps of paper-main. The MPFR run is the reference (its
// rounding, ~1e-50, is invisible at 1e-12), so the measured gap is double's own accumulated error.
#include <gtest/gtest.h>

#include "ntp/generators.hpp"
#include "ntp/train.hpp"

namespace ntp {
namespace {

double max_rel_diff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  const double n = b.norm();
  return n == 0 ? a.norm() : (a - b).norm() / n;
}

void expect_agreement(const OptimizerOptions& opt, double tol) {
  GeneratorOptions g;
  g.family = "paper-main";
  g.seed = 1;
  const InstanceData data = generate(g);
  const TrainResult d = train(data, opt, parse_precision("double"));
  const TrainResult mp = train(data, opt, parse_precision("mpfr:50"));
  ASSERT_EQ(d.step, mp.step);
  double worst_w = 0;
  double worst_excess = 0;
  for (std::size_t i = 0; i < d.step.size(); ++i) {
    worst_w = std::max(worst_w, max_rel_diff(d.weights[i], mp.weights[i]));
    worst_excess = std::max(worst_excess, std::fabs(d.excess[i] - mp.excess[i]) / mp.excess[i]);
    EXPECT_LE(std::fabs(d.ce[i] - mp.ce[i]), tol * mp.ce[i]) << "step " << d.step[i];
  }
  ::testing::Test::RecordProperty("worst_relative_W", std::to_string(worst_w));
  ::testing::Test::RecordProperty("worst_relative_excess", std::to_string(worst_excess));
  std::printf("eta %s: worst relative difference over %zu checkpoints: W %.3g, excess %.3g\n",
              rational_to_string(opt.eta.value()).c_str(), d.step.size(), worst_w, worst_excess);
  EXPECT_LE(worst_w, tol);
  EXPECT_LE(worst_excess, tol);
}

TEST(GdDoubleVsMpfr50, PaperMainFirst1000StepsAtThePapersEta) {
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.steps = 1000;
  opt.eta = Rational(1, 2);  // the paper's GD step (theory.md §5)
  expect_agreement(opt, 1e-12);
}

TEST(GdDoubleVsMpfr50, NormalizedGdFirst1000Steps) {
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kNGD;
  opt.steps = 1000;
  opt.eta = Rational(1, 100);
  expect_agreement(opt, 1e-12);
}

}  // namespace
}  // namespace ntp
