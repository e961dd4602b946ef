#include "ntp/subspace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>

#include "ntp/generators.hpp"
#include "ntp/scalar.hpp"

namespace ntp {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// Tolerance for a projection of a V x d matrix of norm `scale`: a few hundred ulps times the
// reduction length.
double proj_tol(const SubspaceBasis& f, double scale) {
  return 100.0 * static_cast<double>(f.V * f.d) * kEps * std::max(scale, 1.0);
}

InstanceData family(const std::string& name, std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.family = name;
  o.seed = seed;
  return generate(o);
}

TEST(Subspace, OneHotHasZeroSubspace) {
  const InstanceData data = family("one-hot");
  EXPECT_EQ(anchor_rows(data).size(), 0U);
  EXPECT_EQ(exact_dim_f(data), 0);
  const auto inst = to_scalar<double>(data);
  const SubspaceBasis f = subspace_basis(inst);
  EXPECT_EQ(f.rank, 0);
  const Eigen::MatrixXd w = Eigen::MatrixXd::Random(inst.V, inst.d);
  EXPECT_EQ(project_f(f, w).norm(), 0.0);
  EXPECT_EQ(project_perp(f, w), w);
}

TEST(Subspace, BasisEmbeddingsDimIsSumOfSupportSizesMinusOne) {
  const std::vector<std::vector<std::int32_t>> supports{{0, 1, 2}, {1, 3}, {4}, {0, 4}, {2, 3, 4}};
  const InstanceData data = basis_embedding_instance(6, supports, uniform_probabilities(supports));
  EXPECT_EQ(exact_dim_f(data), 2 + 1 + 0 + 1 + 2);
  const SubspaceBasis f = subspace_basis(to_scalar<double>(data));
  EXPECT_EQ(f.rank, 6);
  EXPECT_EQ(f.basis.rows(), 6 * 5);
  // Orthonormal columns.
  EXPECT_LT((f.basis.transpose() * f.basis - Eigen::MatrixXd::Identity(6, 6)).norm(), 1e3 * kEps);
}

TEST(Subspace, RepeatedContextDoesNotDoubleDim) {
  const std::vector<std::vector<std::int32_t>> supports{{0, 1, 2}, {0, 1, 2}, {3, 4}};
  InstanceData data = basis_embedding_instance(5, supports, uniform_probabilities(supports));
  data.contexts[1].embedding = data.contexts[0].embedding;
  EXPECT_EQ(anchor_rows(data).size(), 5U);
  EXPECT_EQ(exact_dim_f(data), 3);
  EXPECT_EQ(subspace_basis(to_scalar<double>(data)).rank, 3);
}

TEST(Subspace, AnchorRowsAreSortedWithExactRatios) {
  const std::vector<std::vector<std::int32_t>> supports{{3, 1, 2}};
  const std::vector<std::vector<Rational>> probs{{Rational(1, 2), Rational(1, 8), Rational(3, 8)}};
  const InstanceData data = basis_embedding_instance(4, supports, probs);
  const auto rows = anchor_rows(data);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].anchor, 1);
  EXPECT_EQ(rows[0].token, 2);
  EXPECT_EQ(rows[0].ratio, Rational(3));
  EXPECT_EQ(rows[1].token, 3);
  EXPECT_EQ(rows[1].ratio, Rational(4));
  const RationalMatrix g = generator_matrix_exact(data);
  EXPECT_EQ(g(0, 2), 1);  // +h_0 at (z=2, i=0), h_0 = e_0
  EXPECT_EQ(g(0, 1), -1);
}

TEST(Subspace, ProjectionsAreComplementaryAndIdempotent) {
  const auto inst = to_scalar<double>(family("paper-toy"));
  const SubspaceBasis f = subspace_basis(inst);
  ASSERT_GT(f.rank, 0);
  for (int t = 0; t < 5; ++t) {
    const Eigen::MatrixXd w = Eigen::MatrixXd::Random(inst.V, inst.d) * (t + 1);
    const Eigen::MatrixXd pf = project_f(f, w);
    const Eigen::MatrixXd pp = project_perp(f, w);
    const double tol = proj_tol(f, w.norm());
    EXPECT_LT((pf + pp - w).norm(), tol);
    EXPECT_LT((project_f(f, pf) - pf).norm(), tol);
    EXPECT_LT(project_f(f, pp).norm(), tol);  // P_F of an element of F^perp is 0
    EXPECT_LT(std::abs((pf.array() * pp.array()).sum()), tol * w.norm());  // <P_F W, P_perp W> = 0
  }
  // Each generator lies in F: P_perp(generator) = 0. F^perp: the generators' inner products
  // with P_perp(W) vanish, i.e. (e_z - e_zj)^T P_perp(W) h_j = 0 (6a).
  const Eigen::MatrixXd g = generator_matrix(inst);
  const Eigen::MatrixXd w = Eigen::MatrixXd::Random(inst.V, inst.d);
  const Eigen::MatrixXd pp = project_perp(f, w);
  for (Eigen::Index r = 0; r < g.rows(); ++r) {
    const Eigen::VectorXd row = g.row(r).transpose();
    const Eigen::MatrixXd gr = unvec(row, inst.V, inst.d);
    EXPECT_LT(project_perp(f, gr).norm(), proj_tol(f, gr.norm()));
    EXPECT_LT(std::abs(g.row(r).dot(vec(pp))), proj_tol(f, pp.norm()));
  }
}

TEST(Subspace, ExactDimEqualsNumericRankOnFamilies) {
  for (const std::string name : {"overparameterized", "incompatible", "inseparable", "paper-toy",
                                 "underparameterized", "one-hot"}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const InstanceData data = family(name, seed);
      const SubspaceBasis f = subspace_basis(to_scalar<double>(data));
      EXPECT_EQ(exact_dim_f(data), f.rank) << name << " seed " << seed;
      // The decision has a clear gap: sigma_r well above the tolerance, sigma_{r+1} below it.
      if (f.rank > 0) {
        EXPECT_GT(f.sigma_r, 1e6 * f.tolerance) << name;
      }
      EXPECT_LE(f.sigma_next, f.tolerance) << name;
    }
  }
}

TEST(Subspace, StructuredLeftNullSpaceMatchesGenericElimination) {
  // left_null_space_basis (structured) against the plain elimination of A^T, on small families
  // and on hand-made twins.
  std::vector<InstanceData> cases;
  for (const std::string name : {"overparameterized", "incompatible", "inseparable", "paper-toy",
                                 "underparameterized", "one-hot"}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) cases.push_back(family(name, seed));
  }
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    GeneratorOptions o;
    o.family = "underparameterized";
    o.seed = seed;
    o.vocab_size = 5;
    o.embedding_dim = 2;
    o.num_contexts = 8;
    o.support_size = 3;
    cases.push_back(generate(o));  // d << m: a large left null space
  }
  for (const InstanceData& data : cases) {
    const RationalMatrix a = generator_matrix_exact(data);
    const auto structured = left_null_space_basis(data);
    const auto generic = integer_null_space(transpose(a));
    EXPECT_EQ(structured.size(), generic.size()) << data.name;
    EXPECT_EQ(exact_dim_f(data), reduced_row_echelon(a).rank()) << data.name;
    // Each structured vector is in the left null space, and together they are independent.
    RationalMatrix y(static_cast<std::int64_t>(structured.size()), a.rows());
    for (std::size_t b = 0; b < structured.size(); ++b) {
      for (std::int64_t r = 0; r < a.rows(); ++r) {
        y(static_cast<std::int64_t>(b), r) = Rational(structured[b][static_cast<std::size_t>(r)]);
      }
    }
    EXPECT_TRUE(multiply(y, a).is_zero()) << data.name;
    EXPECT_EQ(rank(y), y.rows()) << data.name;
  }
}

// The numeric basis in every instantiated scalar type: rank equals the exact dim F, projections
// complementary and idempotent to the type's precision.
template <class S>
class SubspaceTyped : public ::testing::Test {
 protected:
  void SetUp() override { set_mpfr_digits(50); }
};
using SubspaceScalars = ::testing::Types<double, long double, Float128, Mpfr>;
struct SubspaceScalarName {
  template <class S>
  static std::string GetName(int) {
    return ScalarTraits<S>::name();
  }
};
TYPED_TEST_SUITE(SubspaceTyped, SubspaceScalars, SubspaceScalarName);

TYPED_TEST(SubspaceTyped, RankAndProjections) {
  using S = TypeParam;
  using std::abs;
  for (const std::string name : {"paper-toy", "incompatible", "inseparable"}) {
    const InstanceData data = family(name);
    const Instance<S> inst = to_scalar<S>(data);
    const SubspaceBasisT<S> f = subspace_basis(inst);
    EXPECT_EQ(f.rank, exact_dim_f(data)) << name;
    EXPECT_TRUE(f.sigma_r > S(1e6) * f.tolerance) << name;
    EXPECT_TRUE(f.sigma_next <= f.tolerance) << name;
    Matrix<S> w(inst.V, inst.d);
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      for (Eigen::Index k = 0; k < w.cols(); ++k) {
        w(i, k) = ScalarTraits<S>::from_rational(
            Rational(static_cast<long>((i * 7 + k * 3) % 11) - 5, 4));
      }
    }
    const Matrix<S> pf = project_f(f, w);
    const Matrix<S> pp = project_perp(f, w);
    const Matrix<S> ppf = project_f(f, pf);
    const Matrix<S> pfp = project_f(f, pp);
    const S tol = S(1000.0 * static_cast<double>(inst.V * inst.d)) * ScalarTraits<S>::epsilon() *
                  (S(1) + w.norm());
    const Matrix<S> sum = pf + pp - w;
    const Matrix<S> idem = ppf - pf;
    EXPECT_TRUE(sum.norm() <= tol) << name;
    EXPECT_TRUE(idem.norm() <= tol) << name;
    EXPECT_TRUE(pfp.norm() <= tol) << name << " " << ScalarTraits<S>::to_double(pfp.norm());
  }
}

TEST(Subspace, PaperMainDimIs250) {
  const InstanceData data = family("paper-main");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(exact_dim_f(data), 250);
  const auto t1 = std::chrono::steady_clock::now();
  const SubspaceBasis f = subspace_basis(to_scalar<double>(data));
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(f.rank, 250);
  EXPECT_GT(f.sigma_r, 1e6 * f.tolerance);
  std::cout << "paper-main: exact dim F " << std::chrono::duration<double>(t1 - t0).count()
            << " s, double basis " << std::chrono::duration<double>(t2 - t1).count()
            << " s, sigma_r " << f.sigma_r << ", sigma_next " << f.sigma_next << ", tolerance "
            << f.tolerance << "\n";
}

}  // namespace
}  // namespace ntp
