#include "ntp/flint_linalg.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/exact.hpp"
#include "ntp/instance.hpp"
#include "ntp/rational.hpp"
#include "ntp/rng.hpp"
#include "ntp/token_rows.hpp"

namespace ntp {
namespace {

IntegerMatrix integer_matrix(const std::vector<std::vector<std::int64_t>>& rows) {
  IntegerMatrix a(static_cast<std::int64_t>(rows.size()),
                  rows.empty() ? 0 : static_cast<std::int64_t>(rows.front().size()));
  for (std::int64_t i = 0; i < a.rows; ++i) {
    for (std::int64_t j = 0; j < a.cols; ++j) {
      a(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    }
  }
  return a;
}

/** Entry (i, c) of the solution X = x / den as an exact rational. */
Rational solution_entry(const IntegerSolution& s, std::int64_t i, std::int64_t c) {
  return Rational(s.x(i, c), s.den);
}

TEST(FlintLinalg, SolveTwoByTwoKnownAnswer) {
  // A = [[2, 1], [1, 3]], det 5, A^{-1} = (1/5) [[3, -1], [-1, 2]], b = (3, 5):
  // x = (1/5) (9 - 5, -3 + 10) = (4/5, 7/5).
  const IntegerMatrix a = integer_matrix({{2, 1}, {1, 3}});
  const IntegerMatrix b = integer_matrix({{3}, {5}});
  const auto s = solve_exact(a, b);
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->den, 0);
  EXPECT_EQ(solution_entry(*s, 0, 0), Rational(4, 5));
  EXPECT_EQ(solution_entry(*s, 1, 0), Rational(7, 5));
  EXPECT_EQ(determinant(a), 5);
}

TEST(FlintLinalg, DeterminantKnownAnswers) {
  // Cofactor expansion along the first row: 1 (50 - 48) - 2 (40 - 42) + 3 (32 - 35) = -3.
  EXPECT_EQ(determinant(integer_matrix({{1, 2, 3}, {4, 5, 6}, {7, 8, 10}})), -3);
  // Row 2 = 2 * row 1: singular.
  EXPECT_EQ(determinant(integer_matrix({{1, 2}, {2, 4}})), 0);
  // The empty product: det of the 0 x 0 matrix is 1.
  EXPECT_EQ(determinant(IntegerMatrix(0, 0)), 1);
  // diag(2^100, -3): the product of the diagonal, far beyond 64 bits.
  IntegerMatrix big(2, 2);
  big(0, 0) = BigInt(1) << 100;
  big(1, 1) = -3;
  EXPECT_EQ(determinant(big), -3 * (BigInt(1) << 100));
  EXPECT_THROW(determinant(IntegerMatrix(2, 3)), InvalidInput);
}

TEST(FlintLinalg, SolveRejectsSingularAndMisshapenSystems) {
  const IntegerMatrix singular = integer_matrix({{1, 2}, {2, 4}});
  EXPECT_FALSE(solve_exact(singular, integer_matrix({{1}, {2}})).has_value());
  EXPECT_THROW(solve_exact(IntegerMatrix(2, 3), IntegerMatrix(2, 1)), InvalidInput);
  EXPECT_THROW(solve_exact(IntegerMatrix(2, 2), IntegerMatrix(3, 1)), InvalidInput);
  // 0 x 0 system: the empty solution with denominator 1.
  const auto empty = solve_exact(IntegerMatrix(0, 0), IntegerMatrix(0, 2));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->x.rows, 0);
  EXPECT_EQ(empty->x.cols, 2);
  EXPECT_EQ(empty->den, 1);
}

TEST(FlintLinalg, SolveAgreesWithRationalGaussJordan) {
  // Deterministic integer matrices in [-40, 40] with right-hand sides of about 2^90 (multiword):
  // FLINT's solution must equal exact.hpp's rational elimination entry by entry, and A x = den b
  // must hold exactly (checked with the FLINT-free product of exact.hpp).
  Rng rng(20240611);
  int solved = 0;
  for (const std::int64_t n : {1, 3, 7, 12}) {
    IntegerMatrix a(n, n);
    RationalMatrix aq(n, n);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        const auto v = static_cast<std::int64_t>(rng.uniform_int(81)) - 40;
        a(i, j) = v;
        aq(i, j) = v;
      }
    }
    const std::int64_t k = 2;
    IntegerMatrix b(n, k);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t c = 0; c < k; ++c) {
        b(i, c) = (BigInt(static_cast<std::int64_t>(rng.uniform_int(1000)) - 500) << 80) +
                  static_cast<std::int64_t>(rng.uniform_int(1000));
      }
    }
    const BigInt det = determinant(a);
    const auto s = solve_exact(a, b);
    ASSERT_EQ(s.has_value(), det != 0) << "n = " << n;
    if (!s) continue;
    ++solved;
    EXPECT_GT(s->den, 0);
    for (std::int64_t c = 0; c < k; ++c) {
      std::vector<Rational> rhs(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) rhs[static_cast<std::size_t>(i)] = Rational(b(i, c));
      const auto ref = solve(aq, rhs);
      ASSERT_TRUE(ref.has_value());
      std::vector<Rational> x(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) {
        x[static_cast<std::size_t>(i)] = solution_entry(*s, i, c);
        EXPECT_EQ(x[static_cast<std::size_t>(i)], (*ref)[static_cast<std::size_t>(i)])
            << "n = " << n << ", entry " << i << ", column " << c;
      }
      EXPECT_EQ(multiply(aq, x), rhs) << "n = " << n;
    }
    // Cramer: det(A) * A^{-1} is an integer matrix, so den divides |det A|.
    EXPECT_EQ(abs(det) % s->den, 0) << "n = " << n;
  }
  EXPECT_GE(solved, 3);
}

TEST(FlintLinalg, MultiplyAndPrincipalSubmatrix) {
  // [[1, 2], [3, 4]] [[5], [6]] = [[17], [39]].
  const IntegerMatrix p = multiply(integer_matrix({{1, 2}, {3, 4}}), integer_matrix({{5}, {6}}));
  ASSERT_EQ(p.rows, 2);
  ASSERT_EQ(p.cols, 1);
  EXPECT_EQ(p(0, 0), 17);
  EXPECT_EQ(p(1, 0), 39);
  EXPECT_THROW(multiply(IntegerMatrix(2, 3), IntegerMatrix(2, 3)), InvalidInput);
  const IntegerMatrix m = integer_matrix({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
  const IntegerMatrix s = principal_submatrix(m, {0, 2});
  ASSERT_EQ(s.rows, 2);
  EXPECT_EQ(s(0, 0), 1);
  EXPECT_EQ(s(0, 1), 3);
  EXPECT_EQ(s(1, 0), 7);
  EXPECT_EQ(s(1, 1), 9);
}

TEST(FlintLinalg, IndependentRowsOfGramWithARepeatedRow) {
  // R has rows r0 = (1, 0, 2), r1 = (0, 1, 1), r2 = r0 (a repeat), r3 = (1, 1, 0);
  // det [r0; r1; r3] = 1 (0 - 1) - 0 + 2 (0 - 1) = -3 != 0, so rank R = 3 and the greedy choice
  // keeps r0, r1, skips the repeat r2 and keeps r3.
  const IntegerMatrix r = integer_matrix({{1, 0, 2}, {0, 1, 1}, {1, 0, 2}, {1, 1, 0}});
  IntegerMatrix rt(3, 4);
  for (std::int64_t i = 0; i < 4; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) rt(j, i) = r(i, j);
  }
  const IntegerMatrix gram = multiply(r, rt);
  const std::vector<std::int64_t> idx = independent_rows_of_gram(gram);
  EXPECT_EQ(idx, (std::vector<std::int64_t>{0, 1, 3}));
  // det of the Gram matrix of the kept rows = det([r0; r1; r3])^2 = 9 (Cauchy-Binet, square case).
  EXPECT_EQ(determinant(principal_submatrix(gram, idx)), 9);
  // Of two equal rows the earlier is kept: rows (r1, r0, r0), Gram entries <r_i, r_k>.
  const IntegerMatrix g2 = integer_matrix({{2, 2, 2}, {2, 5, 5}, {2, 5, 5}});
  EXPECT_EQ(independent_rows_of_gram(g2), (std::vector<std::int64_t>{0, 1}));
  EXPECT_TRUE(independent_rows_of_gram(IntegerMatrix(0, 0)).empty());
  EXPECT_TRUE(independent_rows_of_gram(IntegerMatrix(2, 2)).empty());  // R = 0
  EXPECT_THROW(independent_rows_of_gram(IntegerMatrix(2, 3)), InvalidInput);
}

TEST(FlintLinalg, BitLength) {
  // 2^(bits-1) <= |x| < 2^bits.
  EXPECT_EQ(bit_length(BigInt(0)), 0);
  EXPECT_EQ(bit_length(BigInt(1)), 1);
  EXPECT_EQ(bit_length(BigInt(255)), 8);
  EXPECT_EQ(bit_length(BigInt(256)), 9);
  EXPECT_EQ(bit_length(BigInt(-256)), 9);
  EXPECT_EQ(bit_length(BigInt(1) << 200), 201);
}

// ---- token_rows.hpp: the integer forms of the rows (e_a - e_b) h_j^T. ----

/** Three contexts, V = 4, d = 2, embeddings with denominators 2, 3 and 4 (lcm 12). */
InstanceData small_instance() {
  InstanceData data;
  data.vocab_size = 4;
  data.embedding_dim = 2;
  const std::vector<std::vector<Rational>> h = {
      {Rational(1, 2), Rational(1)}, {Rational(-2, 3), Rational(0)}, {Rational(3, 4), Rational(5)}};
  const std::vector<std::vector<std::int32_t>> s = {{2, 0}, {1}, {3, 1, 0}};
  for (std::size_t j = 0; j < h.size(); ++j) {
    ContextData c;
    c.embedding = h[j];
    c.weight = Rational(1, 3);
    c.tokens = s[j];
    c.probabilities.assign(s[j].size(), Rational(1, static_cast<long>(s[j].size())));
    data.contexts.push_back(std::move(c));
  }
  validate_and_normalise(data);
  return data;
}

/** The V x d rational matrix (e_a - e_b) h_j^T (row-major). */
std::vector<Rational> explicit_row(const InstanceData& data, const TokenPairRow& r) {
  const std::int64_t d = data.embedding_dim;
  std::vector<Rational> w(static_cast<std::size_t>(data.vocab_size * d), Rational(0));
  const auto& h = data.contexts[static_cast<std::size_t>(r.context)].embedding;
  for (std::int64_t i = 0; i < d; ++i) {
    w[static_cast<std::size_t>(r.a * d + i)] += h[static_cast<std::size_t>(i)];
    w[static_cast<std::size_t>(r.b * d + i)] -= h[static_cast<std::size_t>(i)];
  }
  return w;
}

TEST(FlintLinalgTokenRows, AnchorAndReducedRowsKnownLists) {
  const InstanceData data = small_instance();
  // Anchor z_j = min S_j: S_0 = {0, 2} gives (2, 0); S_1 = {1} none; S_2 = {0, 1, 3} gives
  // (1, 0), (3, 0).
  const auto eq = equality_rows(data);
  ASSERT_EQ(eq.size(), 3U);
  const std::vector<std::vector<std::int64_t>> eq_expected = {{0, 2, 0}, {2, 1, 0}, {2, 3, 0}};
  for (std::size_t k = 0; k < eq.size(); ++k) {
    EXPECT_EQ(eq[k].context, eq_expected[k][0]);
    EXPECT_EQ(eq[k].a, eq_expected[k][1]);
    EXPECT_EQ(eq[k].b, eq_expected[k][2]);
  }
  // (z_j, v) for v not in S_j, v ascending: sum_j (V - |S_j|) = 2 + 3 + 1 = 6 rows.
  const auto in = reduced_inequality_rows(data);
  const std::vector<std::vector<std::int64_t>> in_expected = {{0, 0, 1}, {0, 0, 3}, {1, 1, 0},
                                                              {1, 1, 2}, {1, 1, 3}, {2, 0, 2}};
  ASSERT_EQ(in.size(), in_expected.size());
  for (std::size_t k = 0; k < in.size(); ++k) {
    EXPECT_EQ(in[k].context, in_expected[k][0]);
    EXPECT_EQ(in[k].a, in_expected[k][1]);
    EXPECT_EQ(in[k].b, in_expected[k][2]);
  }
}

TEST(FlintLinalgTokenRows, GramCombinationAndLogitsMatchExplicitRows) {
  const InstanceData data = small_instance();
  const ScaledEmbeddings emb = scale_embeddings(data);
  EXPECT_EQ(emb.scale, 12);  // lcm(2, 3, 4)
  // h_int = 12 h: h_0 = (6, 12), h_1 = (-8, 0), h_2 = (9, 60).
  EXPECT_EQ(emb.h(0, 0), 6);
  EXPECT_EQ(emb.h(1, 0), 12);
  EXPECT_EQ(emb.h(0, 1), -8);
  EXPECT_EQ(emb.h(1, 2), 60);
  EXPECT_EQ(emb.gram(0, 2), 6 * 9 + 12 * 60);
  std::vector<TokenPairRow> rows = equality_rows(data);
  for (const auto& r : reduced_inequality_rows(data)) rows.push_back(r);
  const IntegerMatrix g = row_gram(emb, rows);
  const Rational s2 = Rational(emb.scale * emb.scale);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto x = explicit_row(data, rows[r]);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const auto y = explicit_row(data, rows[k]);
      Rational dot = 0;
      for (std::size_t e = 0; e < x.size(); ++e) dot += x[e] * y[e];
      EXPECT_EQ(Rational(g(static_cast<std::int64_t>(r), static_cast<std::int64_t>(k))), s2 * dot)
          << "rows " << r << ", " << k;
    }
  }
  // combine_rows = scale * sum c_k row_k; integer_logits = W_int h_int.
  std::vector<BigInt> c(rows.size());
  for (std::size_t k = 0; k < c.size(); ++k) c[k] = static_cast<std::int64_t>(k) * 3 - 7;
  const IntegerMatrix w = combine_rows(emb, rows, c, data.vocab_size);
  std::vector<Rational> expected(static_cast<std::size_t>(data.vocab_size * data.embedding_dim),
                                 Rational(0));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto x = explicit_row(data, rows[k]);
    for (std::size_t e = 0; e < x.size(); ++e) expected[e] += Rational(c[k]) * x[e];
  }
  for (std::size_t e = 0; e < expected.size(); ++e) {
    EXPECT_EQ(Rational(w.data[e]), Rational(emb.scale) * expected[e]) << "entry " << e;
  }
  const IntegerMatrix l = integer_logits(w, emb);
  for (std::int64_t v = 0; v < data.vocab_size; ++v) {
    for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
      Rational lv = 0;  // (W h_j)_v with W = the exact combination
      for (std::int64_t i = 0; i < data.embedding_dim; ++i) {
        lv += expected[static_cast<std::size_t>(v * data.embedding_dim + i)] *
              data.contexts[static_cast<std::size_t>(j)].embedding[static_cast<std::size_t>(i)];
      }
      EXPECT_EQ(Rational(l(v, j)), s2 * lv);
    }
  }
}

}  // namespace
}  // namespace ntp
