#include "ntp/fast_kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ntp/generators.hpp"
#include "ntp/loss.hpp"
#include "ntp/train.hpp"

namespace ntp {
namespace {

// Distance in ulps between a and the correctly rounded b (from long double: exp's result is
// rounded to double once more, so "ulps" here are double ulps of the true value).
double ulps(double a, long double exact) {
  const double b = static_cast<double>(exact);
  if (a == b) return 0.0;
  const double ulp = std::nextafter(b, std::numeric_limits<double>::infinity()) - b;
  return static_cast<double>(std::fabs(static_cast<long double>(a) - exact) / ulp);
}

// exp_in_place against expl over the range the kernel uses (x <= 0), through gradual underflow:
// glibc documents at most 4 ulp for its vector exp; ordinary std::exp is within 1.
TEST(FastExp, WithinFourUlpsDownToSubnormalsAndZero) {
  std::vector<double> x;
  for (int i = 0; i <= 40000; ++i) x.push_back(-0.0187 * i);  // 0 .. -748 (past the zero cut)
  for (double v : {0.0, -1e-300, -1e-17, -0.5, -700.0, -708.39, -708.4, -720.0, -744.4, -745.13,
                   -745.14, -746.0, -1000.0, -std::numeric_limits<double>::infinity()}) {
    x.push_back(v);
  }
  std::vector<double> y = x;
  fast::exp_in_place(y.data(), static_cast<std::int64_t>(y.size()));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double want = std::exp(static_cast<long double>(x[i]));
    if (static_cast<double>(want) < std::numeric_limits<double>::min()) {
      // Subnormal or zero results: within one subnormal step of the true value.
      EXPECT_LE(std::fabs(static_cast<long double>(y[i]) - want),
                static_cast<long double>(std::numeric_limits<double>::denorm_min()))
          << "x=" << x[i];
      continue;
    }
    worst = std::max(worst, ulps(y[i], want));
  }
  EXPECT_LE(worst, 4.0) << (fast::vector_exp_active() ? "libmvec" : "scalar exp");
  RecordProperty("worst_ulps", std::to_string(worst));
}

// The column primitives against their definitions, on random masks, lengths 1..37 (tails), in
// both bodies: AVX2 (when the CPU has it) and scalar, so "bit-identical with and without AVX2"
// is checked on every machine that has AVX2.
void check_columns_against_definitions() {
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal(0.0, 30.0);
  for (std::int64_t V = 1; V <= 37; ++V) {
    for (int rep = 0; rep < 20; ++rep) {
      std::vector<double> l(static_cast<std::size_t>(V));
      std::vector<std::uint8_t> in(static_cast<std::size_t>(V));
      for (auto& v : l) v = normal(gen);
      for (auto& b : in) b = static_cast<std::uint8_t>(gen() % 3 == 0);
      in[static_cast<std::size_t>(gen() % static_cast<std::uint64_t>(V))] = 1;
      const double max_in = 3.25;
      double mo = -std::numeric_limits<double>::infinity();
      for (std::int64_t v = 0; v < V; ++v) {
        if (in[static_cast<std::size_t>(v)] == 0) mo = std::max(mo, l[static_cast<std::size_t>(v)]);
      }
      std::vector<double> c(static_cast<std::size_t>(V));
      EXPECT_EQ(fast::shift_column(l.data(), in.data(), max_in, c.data(), V), mo);
      for (std::int64_t v = 0; v < V; ++v) {
        const auto i = static_cast<std::size_t>(v);
        EXPECT_EQ(c[i], l[i] - (in[i] != 0 ? max_in : mo));
      }
      // masked_sum: four interleaved partial sums, (s0 + s1) + (s2 + s3), then the tail in order.
      double s[4] = {0, 0, 0, 0};
      std::int64_t v = 0;
      for (; v + 4 <= V; v += 4) {
        for (int k = 0; k < 4; ++k) {
          s[k] +=
              in[static_cast<std::size_t>(v + k)] != 0 ? 0.0 : l[static_cast<std::size_t>(v + k)];
        }
      }
      double want = (s[0] + s[1]) + (s[2] + s[3]);
      for (; v < V; ++v)
        want += in[static_cast<std::size_t>(v)] != 0 ? 0.0 : l[static_cast<std::size_t>(v)];
      EXPECT_EQ(fast::masked_sum(l.data(), in.data(), V), want);
      std::vector<double> scaled = l;
      fast::masked_scale(scaled.data(), in.data(), 0.375, V);
      for (std::int64_t u = 0; u < V; ++u) {
        const auto i = static_cast<std::size_t>(u);
        EXPECT_EQ(scaled[i], in[i] != 0 ? l[i] : l[i] * 0.375);
      }
    }
  }
}

TEST(FastColumns, MatchTheirDefinitionsBitForBit) {
  const bool avx2 = fast::avx2_columns_active();
  if (avx2) {
    SCOPED_TRACE("AVX2 bodies");
    check_columns_against_definitions();
  }
  fast::set_avx2_columns_enabled(false);
  {
    SCOPED_TRACE("scalar bodies");
    EXPECT_FALSE(fast::avx2_columns_active());
    check_columns_against_definitions();
  }
  fast::set_avx2_columns_enabled(avx2);
  EXPECT_EQ(fast::avx2_columns_active(), avx2);
}

// The double kernel with OpenBLAS GEMMs against the same kernel on Eigen's products: the same
// values up to the products' rounding (different summation orders), on paper-main at a point
// where the gradient is not small.
TEST(FastGemm, BlasAndEigenKernelsAgree) {
  GeneratorOptions options;
  options.family = "paper-main";
  const Instance<double> inst = to_scalar<double>(generate(options));
  std::mt19937_64 gen(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd W(inst.V, inst.d);
  for (Eigen::Index i = 0; i < W.size(); ++i) W(i) = normal(gen);
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd g_blas(inst.V, inst.d);
  Eigen::MatrixXd g_eigen(inst.V, inst.d);
  const bool blas = fast::blas_active();
  const LossValue<double> a = loss_and_gradient(inst, W, ws, &g_blas);
  fast::set_blas_enabled(false);
  const LossValue<double> b = loss_and_gradient(inst, W, ws, &g_eigen);
  fast::set_blas_enabled(blas);
  EXPECT_NEAR(a.ce, b.ce, 1e-13 * b.ce);
  EXPECT_NEAR(a.excess, b.excess, 1e-12 * b.excess);
  EXPECT_LE((g_blas - g_eigen).cwiseAbs().maxCoeff(), 1e-13 * g_eigen.cwiseAbs().maxCoeff());
  // gemm() itself on a product with exact dyadic entries and short sums: exact either way.
  Eigen::MatrixXd A(3, 2), B(2, 4), C(3, 4), Bt(4, 2), Ct(3, 4);
  A << 1, 2, 3, 4, 5, 6;
  B << 1, -1, 0.5, 2, 0.25, 3, -2, 1;
  Bt = B.transpose();
  fast::gemm(A.data(), B.data(), C.data(), 3, 4, 2, false);
  fast::gemm(A.data(), Bt.data(), Ct.data(), 3, 4, 2, true);
  EXPECT_EQ(C, A * B);
  EXPECT_EQ(Ct, A * B);
}

// Item 6 of issue 7: the reference build keeps OpenBLAS on one thread, because two threads do
// change bits: the benchmark shapes agree, odd ones need not (0.3.21 here: (333,77,1001) and
// (2000,3,700) differ in the last bits). This test records how large the differences are (a few
// ulps of the sums' magnitude), so a future OpenBLAS that changes more than rounding shows up.
TEST(FastGemm, ThreadsCanChangeBits) {
  if (!fast::blas_active()) GTEST_SKIP() << "built without OpenBLAS";
#ifdef NTP_REFERENCE_BUILD
  EXPECT_EQ(fast::blas_threads(), 1) << "the reference build runs OpenBLAS on one thread";
#endif
  const int before = fast::blas_threads();
  std::mt19937_64 gen(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  struct Shape {
    std::int64_t V, d, m;
  };
  for (const Shape s : {Shape{256, 128, 128}, Shape{333, 77, 1001}, Shape{2000, 3, 700}}) {
    Eigen::MatrixXd W(s.V, s.d), H(s.d, s.m), Cf(s.V, s.m);
    for (Eigen::Index i = 0; i < W.size(); ++i) W(i) = normal(gen);
    for (Eigen::Index i = 0; i < H.size(); ++i) H(i) = normal(gen);
    for (Eigen::Index i = 0; i < Cf.size(); ++i) Cf(i) = normal(gen);
    Eigen::MatrixXd L1(s.V, s.m), L2(s.V, s.m), G1(s.V, s.d), G2(s.V, s.d);
    fast::set_blas_threads(1);
    fast::gemm(W.data(), H.data(), L1.data(), s.V, s.m, s.d, false);
    fast::gemm(Cf.data(), H.data(), G1.data(), s.V, s.d, s.m, true);
    fast::set_blas_threads(2);
    fast::gemm(W.data(), H.data(), L2.data(), s.V, s.m, s.d, false);
    fast::gemm(Cf.data(), H.data(), G2.data(), s.V, s.d, s.m, true);
    const std::string label =
        "(" + std::to_string(s.V) + "," + std::to_string(s.d) + "," + std::to_string(s.m) + ")";
    // Each evaluation of a dot product of length n is within gamma_n sum |a_k b_k| of the exact
    // value (Higham, Thm 3.5: gamma_n = n eps / (1 - n eps), eps = 2^-53), so two evaluations
    // differ by at most twice that, entry by entry.
    const double u = std::numeric_limits<double>::epsilon() / 2;
    const auto gamma = [u](std::int64_t n) {
      return static_cast<double>(n) * u / (1 - static_cast<double>(n) * u);
    };
    const Eigen::MatrixXd bound_l = 2 * gamma(s.d) * (W.cwiseAbs() * H.cwiseAbs());
    const Eigen::MatrixXd bound_g = 2 * gamma(s.m) * (Cf.cwiseAbs() * H.cwiseAbs().transpose());
    EXPECT_TRUE(((L1 - L2).cwiseAbs().array() <= bound_l.array()).all()) << label;
    EXPECT_TRUE(((G1 - G2).cwiseAbs().array() <= bound_g.array()).all()) << label;
  }
  fast::set_blas_threads(before);
}

}  // namespace
}  // namespace ntp
