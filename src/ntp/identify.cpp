#include "ntp/identify.hpp"

#include <Eigen/SVD>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>

#include "ntp/instance_io.hpp"
#include "ntp/loss.hpp"
#include "ntp/rng.hpp"

namespace ntp {

namespace {

using nlohmann::json;

// ------------------------------------------------------------------------------------------------
// Exact helpers on RationalMatrix.

RationalMatrix sub(const RationalMatrix& a, const RationalMatrix& b) {
  RationalMatrix out(a.rows(), a.cols());
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    for (std::int64_t j = 0; j < a.cols(); ++j) out(i, j) = a(i, j) - b(i, j);
  }
  return out;
}

RationalMatrix select_cols(const RationalMatrix& x, const std::vector<std::int64_t>& idx) {
  RationalMatrix out(x.rows(), static_cast<std::int64_t>(idx.size()));
  for (std::int64_t i = 0; i < x.rows(); ++i) {
    for (std::size_t k = 0; k < idx.size(); ++k)
      out(i, static_cast<std::int64_t>(k)) = x(i, idx[k]);
  }
  return out;
}

RationalMatrix vcat(const RationalMatrix& a, const RationalMatrix& b) {
  RationalMatrix out(a.rows() + b.rows(), a.cols());
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    for (std::int64_t j = 0; j < a.cols(); ++j) out(i, j) = a(i, j);
  }
  for (std::int64_t i = 0; i < b.rows(); ++i) {
    for (std::int64_t j = 0; j < b.cols(); ++j) out(a.rows() + i, j) = b(i, j);
  }
  return out;
}

/** Gd = g - g(., y0) 1^T. */
RationalMatrix token_differences(const RationalMatrix& g, std::int64_t pivot) {
  RationalMatrix out(g.rows(), g.cols());
  for (std::int64_t i = 0; i < g.rows(); ++i) {
    for (std::int64_t j = 0; j < g.cols(); ++j) out(i, j) = g(i, j) - g(i, pivot);
  }
  return out;
}

/** Projection of the columns of y onto the column space of x: B (B^T B)^{-1} B^T y with B the
 * pivot columns of x (a basis of its column space). */
RationalMatrix project_exact(const RationalMatrix& x, const RationalMatrix& y) {
  const auto piv = reduced_row_echelon(x).pivot_columns;
  if (piv.empty()) return RationalMatrix(y.rows(), y.cols());
  const RationalMatrix b = select_cols(x, piv);
  const RationalMatrix bt = transpose(b);
  return multiply(b, multiply(inverse(multiply(bt, b)), multiply(bt, y)));
}

double to_d(const Rational& q) { return rational_to_double(q); }

Eigen::MatrixXd to_double_matrix(const RationalMatrix& m) {
  Eigen::MatrixXd out(m.rows(), m.cols());
  for (std::int64_t i = 0; i < m.rows(); ++i) {
    for (std::int64_t j = 0; j < m.cols(); ++j) out(i, j) = to_d(m(i, j));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// The two linear-algebra backends with one interface: exact (rationals, exact ranks) and float
// (double, ranks by SVD with the tolerance of the header).

struct ExactOps {
  using Mat = RationalMatrix;
  static constexpr bool kExact = true;
  static Mat convert(const RationalMatrix& m) { return m; }
  static Mat zeros(std::int64_t r, std::int64_t c) { return RationalMatrix(r, c); }
  static void set(Mat& m, std::int64_t i, std::int64_t j, const Rational& v) { m(i, j) = v; }
  static std::int64_t rows(const Mat& m) { return m.rows(); }
  static std::int64_t cols(const Mat& m) { return m.cols(); }
  static std::int64_t rank(const Mat& m) {
    return (m.rows() == 0 || m.cols() == 0) ? 0 : ntp::rank(m);
  }
  static Mat mul(const Mat& a, const Mat& b) { return multiply(a, b); }
  static Mat tr(const Mat& a) { return transpose(a); }
  static Mat minus(const Mat& a, const Mat& b) { return sub(a, b); }
  static Mat pick(const Mat& x, const std::vector<std::int64_t>& idx) {
    return select_cols(x, idx);
  }
  static Mat stack(const Mat& a, const Mat& b) { return vcat(a, b); }
  static Mat project(const Mat& onto, const Mat& y) { return project_exact(onto, y); }
  /** Basis of colspace(x)^perp: the null space of x^T (integer primitive columns). */
  static Mat complement(const Mat& x) {
    if (x.cols() == 0) return RationalMatrix::identity(x.rows());
    return null_space_basis(transpose(x));
  }
  static double norm(const Mat& m) {
    Rational s = 0;
    for (std::int64_t i = 0; i < m.rows(); ++i) {
      for (std::int64_t j = 0; j < m.cols(); ++j) s += m(i, j) * m(i, j);
    }
    return std::sqrt(to_d(s));
  }
  static bool negligible(const Mat& residual, double /*scale*/, double /*bound*/) {
    return residual.is_zero();
  }
  static json to_json(const Mat& m) {
    json out = json::array();
    for (std::int64_t i = 0; i < m.rows(); ++i) {
      json row = json::array();
      for (std::int64_t j = 0; j < m.cols(); ++j) row.push_back(rational_to_json(m(i, j)));
      out.push_back(row);
    }
    return out;
  }
  static json vec_json(const Mat& m, std::int64_t col) {
    json v = json::array();
    for (std::int64_t i = 0; i < m.rows(); ++i) v.push_back(rational_to_json(m(i, col)));
    return v;
  }
  /** fhat_b fhat_a^+ and its inverse transpose (A_map^+)^T, from r independent columns J of fhat_a:
   * with C = fhat_a[:, J], D = fhat_b[:, J]: A_map = D (C^T C)^{-1} C^T, (A_map^+)^T =
   * D (D^T D)^{-1} C^T (A_map A_map^+ = P_{span D}, A_map^+ A_map = P_{span C}). */
  static std::pair<Mat, Mat> maps(const Mat& fa, const Mat& fb) {
    const auto piv = reduced_row_echelon(fa).pivot_columns;
    if (piv.empty()) return {Mat(fb.rows(), fa.rows()), Mat(fb.rows(), fa.rows())};
    const Mat c = select_cols(fa, piv);
    const Mat d = select_cols(fb, piv);
    const Mat ct = transpose(c);
    const Mat dt = transpose(d);
    Mat a_map = multiply(d, multiply(inverse(multiply(ct, c)), ct));
    const Mat dtd = multiply(dt, d);
    if (rank(dtd) != dtd.rows()) return {a_map, Mat(fb.rows(), fa.rows())};
    Mat b_map = multiply(d, multiply(inverse(dtd), ct));
    return {std::move(a_map), std::move(b_map)};
  }
  static double cond(const Mat& /*m*/) { return 1; }
  /** A counterexample step: the invisible basis vector itself (exact decisions need no scale). */
  static Mat add_to_col(Mat x, std::int64_t col, const Mat& basis, std::int64_t k, int sign) {
    for (std::int64_t i = 0; i < x.rows(); ++i) x(i, col) += sign * basis(i, k);
    return x;
  }
};

struct FloatOps {
  using Mat = Eigen::MatrixXd;
  static constexpr bool kExact = false;
  static Mat convert(const RationalMatrix& m) { return to_double_matrix(m); }
  static Mat zeros(std::int64_t r, std::int64_t c) { return Mat::Zero(r, c); }
  static void set(Mat& m, std::int64_t i, std::int64_t j, const Rational& v) { m(i, j) = to_d(v); }
  static std::int64_t rows(const Mat& m) { return m.rows(); }
  static std::int64_t cols(const Mat& m) { return m.cols(); }
  static double u() { return std::numeric_limits<double>::epsilon(); }
  /** Number of singular values > kRankTolFactor * u * max(rows, cols) * sigma_max. */
  static std::int64_t rank_of(const Eigen::VectorXd& s, std::int64_t r, std::int64_t c) {
    if (s.size() == 0 || s(0) == 0) return 0;
    const double tol = kRankTolFactor * u() * static_cast<double>(std::max(r, c)) * s(0);
    std::int64_t k = 0;
    while (k < s.size() && s(k) > tol) ++k;
    return k;
  }
  static std::int64_t rank(const Mat& m) {
    if (m.size() == 0) return 0;
    Eigen::JacobiSVD<Mat> svd(m);
    return rank_of(svd.singularValues(), m.rows(), m.cols());
  }
  static Mat mul(const Mat& a, const Mat& b) { return a * b; }
  static Mat tr(const Mat& a) { return a.transpose(); }
  static Mat minus(const Mat& a, const Mat& b) { return a - b; }
  static Mat pick(const Mat& x, const std::vector<std::int64_t>& idx) {
    Mat out(x.rows(), static_cast<Eigen::Index>(idx.size()));
    for (std::size_t k = 0; k < idx.size(); ++k)
      out.col(static_cast<Eigen::Index>(k)) = x.col(idx[k]);
    return out;
  }
  static Mat stack(const Mat& a, const Mat& b) {
    Mat out(a.rows() + b.rows(), a.cols());
    out << a, b;
    return out;
  }
  static Mat project(const Mat& onto, const Mat& y) {
    if (onto.size() == 0) return Mat::Zero(y.rows(), y.cols());
    Eigen::JacobiSVD<Mat> svd(onto, Eigen::ComputeThinU);
    const auto r = rank_of(svd.singularValues(), onto.rows(), onto.cols());
    const Mat ur = svd.matrixU().leftCols(r);
    return ur * (ur.transpose() * y);
  }
  /** Orthonormal basis of colspace(x)^perp: the trailing left singular vectors. */
  static Mat complement(const Mat& x) {
    if (x.cols() == 0) return Mat::Identity(x.rows(), x.rows());
    Eigen::JacobiSVD<Mat> svd(x, Eigen::ComputeFullU);
    const auto r = rank_of(svd.singularValues(), x.rows(), x.cols());
    return svd.matrixU().rightCols(x.rows() - r);
  }
  static double norm(const Mat& m) { return m.norm(); }
  /** ||residual|| <= bound * ||scale-matrix|| (relative residual test). */
  static bool negligible(const Mat& residual, double scale, double bound) {
    return residual.norm() <= bound * scale;
  }
  static json to_json(const Mat& m) {
    json out = json::array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      json row = json::array();
      for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(m(i, j));
      out.push_back(row);
    }
    return out;
  }
  static json vec_json(const Mat& m, std::int64_t col) {
    json v = json::array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) v.push_back(m(i, col));
    return v;
  }
  static Mat pinv(const Mat& m) {
    if (m.size() == 0) return Mat::Zero(m.cols(), m.rows());
    Eigen::JacobiSVD<Mat> svd(m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const auto r = rank_of(svd.singularValues(), m.rows(), m.cols());
    Mat out = Mat::Zero(m.cols(), m.rows());
    for (std::int64_t k = 0; k < r; ++k) {
      out += svd.matrixV().col(k) * (svd.matrixU().col(k).transpose() / svd.singularValues()(k));
    }
    return out;
  }
  static std::pair<Mat, Mat> maps(const Mat& fa, const Mat& fb) {
    Mat a_map = fb * pinv(fa);
    Mat b_map = pinv(a_map).transpose();
    return {std::move(a_map), std::move(b_map)};
  }
  /** sigma_max / sigma_r of m at its numerical rank r (1 for the zero matrix). */
  static double cond(const Mat& m) {
    if (m.size() == 0) return 1;
    Eigen::JacobiSVD<Mat> svd(m);
    const auto r = rank_of(svd.singularValues(), m.rows(), m.cols());
    return r == 0 ? 1 : svd.singularValues()(0) / svd.singularValues()(r - 1);
  }
  /** A counterexample step: the unit invisible vector scaled to the largest column of x. */
  static Mat add_to_col(Mat x, std::int64_t col, const Mat& basis, std::int64_t k, int sign) {
    double scale = x.colwise().norm().maxCoeff();
    if (!(scale > 0)) scale = 1;
    x.col(col) += sign * scale * basis.col(k);
    return x;
  }
};

template <class Ops>
typename Ops::Mat ones_row(std::int64_t k) {
  auto m = Ops::zeros(1, k);
  for (std::int64_t j = 0; j < k; ++j) Ops::set(m, 0, j, Rational(1));
  return m;
}

template <class Ops>
typename Ops::Mat row_of(const std::vector<Rational>& v) {
  auto m = Ops::zeros(1, static_cast<std::int64_t>(v.size()));
  for (std::size_t j = 0; j < v.size(); ++j) Ops::set(m, 0, static_cast<std::int64_t>(j), v[j]);
  return m;
}

/**
 * The four property tests on the columns of X (see identify.hpp). Row space inclusion
 * rank[D; T] == rank D says T = C D for some C: relational C = [A_R a_R], probe C = [w^T b],
 * steering C = v.
 */
template <class Ops>
bool holds_on(const Property& p, const typename Ops::Mat& X) {
  std::vector<std::int64_t> first;
  std::vector<std::int64_t> second;
  for (const auto& [u, v] : p.pairs) {
    first.push_back(u);
    second.push_back(v);
  }
  switch (p.kind) {
    case PropertyKind::kParallel: {
      // All differences X(b_i) - X(a_i) on one line through 0: rank <= 1.
      const auto U = Ops::minus(Ops::pick(X, second), Ops::pick(X, first));
      return Ops::rank(U) <= 1;
    }
    case PropertyKind::kRelational: {
      const auto D =
          Ops::stack(Ops::pick(X, first), ones_row<Ops>(static_cast<std::int64_t>(first.size())));
      const auto T = Ops::pick(X, second);
      return Ops::rank(Ops::stack(D, T)) == Ops::rank(D);
    }
    case PropertyKind::kProbe: {
      const auto D = Ops::stack(Ops::pick(X, p.items),
                                ones_row<Ops>(static_cast<std::int64_t>(p.items.size())));
      const auto T = row_of<Ops>(p.values);
      return Ops::rank(Ops::stack(D, T)) == Ops::rank(D);
    }
    case PropertyKind::kSteering: {
      const auto D = row_of<Ops>(p.values);
      const auto T = Ops::minus(Ops::pick(X, second), Ops::pick(X, first));
      return Ops::rank(Ops::stack(D, T)) == Ops::rank(D);
    }
  }
  return false;
}

std::vector<std::int64_t> involved_items(const Property& p) {
  std::vector<std::int64_t> out;
  for (const auto& [u, v] : p.pairs) {
    out.push_back(v);
    out.push_back(u);
  }
  for (auto x : p.items) out.push_back(x);
  std::vector<std::int64_t> uniq;
  for (auto x : out) {
    if (std::find(uniq.begin(), uniq.end(), x) == uniq.end()) uniq.push_back(x);
  }
  return uniq;
}

// ------------------------------------------------------------------------------------------------
// Equivalence of the log-odds in a floating precision S.

struct EquivalenceStats {
  double max_difference = 0;  ///< max |Lambda_a - Lambda_b|
  double worst_ratio = 0;     ///< max |Lambda_a - Lambda_b| / tau (0 when everything is 0)
  std::int64_t x = 0;
  std::int64_t y = 0;
  double la = 0;
  double lb = 0;
  double tau = 0;
  bool holds = true;
};

template <class S>
Matrix<S> to_scalar_matrix(const RationalMatrix& m) {
  Matrix<S> out(m.rows(), m.cols());
  for (std::int64_t i = 0; i < m.rows(); ++i) {
    for (std::int64_t j = 0; j < m.cols(); ++j) out(i, j) = ScalarTraits<S>::from_rational(m(i, j));
  }
  return out;
}

/** Lambda and s(x, y) = sum_i |f_i(x)| (|g_i(y)| + |g_i(y0)|) in S (plain loops: no GEMM). */
template <class S>
void log_odds_in(const Matrix<S>& f, const Matrix<S>& g, std::int64_t pivot, Matrix<S>& lam,
                 Matrix<S>& scale) {
  using std::abs;
  const auto n = f.cols();
  const auto V = g.cols();
  const auto M = f.rows();
  lam.resize(n, V);
  scale.resize(n, V);
  for (Eigen::Index x = 0; x < n; ++x) {
    for (Eigen::Index y = 0; y < V; ++y) {
      S acc(0);
      S sc(0);
      for (Eigen::Index i = 0; i < M; ++i) {
        acc += f(i, x) * (g(i, y) - g(i, pivot));
        sc += abs(f(i, x)) * (abs(g(i, y)) + abs(g(i, pivot)));
      }
      lam(x, y) = acc;
      scale(x, y) = sc;
    }
  }
}

template <class S>
EquivalenceStats equivalence_in(const Predictor& a, const Predictor& b, std::int64_t pivot,
                                const Rational& tolerance) {
  using std::abs;
  Matrix<S> la, sa, lb, sb;
  log_odds_in<S>(to_scalar_matrix<S>(a.f), to_scalar_matrix<S>(a.g), pivot, la, sa);
  log_odds_in<S>(to_scalar_matrix<S>(b.f), to_scalar_matrix<S>(b.g), pivot, lb, sb);
  const S eps = ScalarTraits<S>::epsilon();
  const S ma(static_cast<double>(a.dim() + 2));
  const S mb(static_cast<double>(b.dim() + 2));
  const S factor(kEquivalenceTolFactor);
  const S t = ScalarTraits<S>::from_rational(tolerance);
  EquivalenceStats st;
  bool first = true;
  for (Eigen::Index x = 0; x < la.rows(); ++x) {
    for (Eigen::Index y = 0; y < la.cols(); ++y) {
      const S d = abs(la(x, y) - lb(x, y));
      const S tau = factor * eps * (ma * sa(x, y) + mb * sb(x, y)) + t;
      const double dd = ScalarTraits<S>::to_double(d);
      const double td = ScalarTraits<S>::to_double(tau);
      if (d > tau) st.holds = false;
      // The worst entry: the largest d/tau (d itself where tau = 0).
      const double ratio =
          td > 0 ? dd / td : (dd > 0 ? std::numeric_limits<double>::infinity() : 0);
      st.max_difference = std::max(st.max_difference, dd);
      if (first || ratio > st.worst_ratio) {
        first = false;
        st.worst_ratio = ratio;
        st.x = x;
        st.y = y;
        st.la = ScalarTraits<S>::to_double(la(x, y));
        st.lb = ScalarTraits<S>::to_double(lb(x, y));
        st.tau = td;
      }
    }
  }
  return st;
}

EquivalenceStats equivalence_float(const Predictor& a, const Predictor& b, std::int64_t pivot,
                                   const Rational& tolerance, const PrecisionSpec& p) {
  switch (p.kind) {
    case Precision::kFloat:
      return equivalence_in<float>(a, b, pivot, tolerance);
    case Precision::kDouble:
      return equivalence_in<double>(a, b, pivot, tolerance);
    case Precision::kLongDouble:
      return equivalence_in<long double>(a, b, pivot, tolerance);
    case Precision::kDD:
      return equivalence_in<dd_real>(a, b, pivot, tolerance);
    case Precision::kQD:
      return equivalence_in<qd_real>(a, b, pivot, tolerance);
    case Precision::kFloat128:
      return equivalence_in<Float128>(a, b, pivot, tolerance);
    case Precision::kMp50:
      return equivalence_in<Mp50>(a, b, pivot, tolerance);
    case Precision::kMpfr:
      set_mpfr_digits(p.mpfr_digits);
      return equivalence_in<Mpfr>(a, b, pivot, tolerance);
  }
  return equivalence_in<double>(a, b, pivot, tolerance);
}

// ------------------------------------------------------------------------------------------------
// Structure of one predictor and the pair.

template <class Ops>
struct Structure {
  typename Ops::Mat f, g, gd, lambda;
  std::int64_t M = 0, rank_f = 0, rank_g = 0, rank_lambda = 0;
  typename Ops::Mat fhat;  ///< P_G f
  typename Ops::Mat gtil;  ///< P_F g (translation-invariant properties: g itself, not Gd)
  bool diverse = false;
  double invisible_context_norm = 0;  ///< ||f - P_G f||_F
  double invisible_token_norm = 0;    ///< ||Gd - P_F Gd||_F
};

template <class Ops>
Structure<Ops> structure_of(const Predictor& p, std::int64_t pivot) {
  Structure<Ops> s;
  s.M = p.dim();
  s.f = Ops::convert(p.f);
  s.g = Ops::convert(p.g);
  s.gd = Ops::convert(token_differences(p.g, pivot));
  s.lambda = Ops::mul(Ops::tr(s.f), s.gd);
  s.rank_f = Ops::rank(s.f);
  s.rank_g = Ops::rank(s.gd);
  s.rank_lambda = Ops::rank(s.lambda);
  s.fhat = Ops::project(s.gd, s.f);
  s.gtil = Ops::project(s.f, s.g);
  s.diverse = s.rank_f == s.M && s.rank_g == s.M;
  s.invisible_context_norm = Ops::norm(Ops::minus(s.f, s.fhat));
  s.invisible_token_norm = Ops::norm(Ops::minus(s.gd, Ops::project(s.f, s.gd)));
  return s;
}

template <class Ops>
json structure_json(const Predictor& p, const Structure<Ops>& s) {
  json j;
  j["name"] = p.name;
  j["dim"] = s.M;
  j["num_contexts"] = p.num_contexts();
  j["vocab_size"] = p.vocab_size();
  j["rank_contexts"] = s.rank_f;
  j["rank_token_differences"] = s.rank_g;
  j["rank_log_odds"] = s.rank_lambda;
  j["diverse"] = s.diverse;
  j["invisible_context_dim"] = s.M - s.rank_g;
  j["invisible_token_dim"] = s.M - s.rank_f;
  j["invisible_context_norm"] = s.invisible_context_norm;
  j["invisible_token_norm"] = s.invisible_token_norm;
  return j;
}

struct Tally {
  bool violated = false;
  bool inconclusive = false;
  void add(Verdict v) {
    if (v == Verdict::kViolated) violated = true;
    if (v == Verdict::kInconclusive) inconclusive = true;
  }
};

/** Recovery of the map between the identified parts (identify.hpp). */
template <class Ops>
json recover(const Structure<Ops>& a, const Structure<Ops>& b, Tally& tally) {
  json r;
  const auto [a_map, b_map] = Ops::maps(a.fhat, b.fhat);
  const auto res_f = Ops::minus(b.fhat, Ops::mul(a_map, a.fhat));
  const auto ghat_a = Ops::project(a.fhat, a.gd);
  const auto ghat_b = Ops::project(b.fhat, b.gd);
  const auto res_g = Ops::minus(ghat_b, Ops::mul(b_map, ghat_a));
  const double n = static_cast<double>(std::max({a.M, b.M, Ops::cols(a.f)}));
  // Context side: A_map = fhat_b fhat_a^+ costs cond(fhat_a); the token side also inverts A_map
  // ((A_map^+)^T), which costs cond(A_map) more.
  const double cond = Ops::cond(a.fhat);
  const double cond_map = Ops::cond(a_map);
  const double bound = kMapTolFactor * std::numeric_limits<double>::epsilon() * n * cond;
  const double bound_g = bound * cond_map;
  const bool ok_f = Ops::negligible(res_f, Ops::norm(b.fhat), bound);
  const bool ok_g = Ops::negligible(res_g, Ops::norm(ghat_b), bound_g);
  r["statement"] =
      "A_map fhat_a = fhat_b and (A_map^+)^T P_S Gd_a = P_S Gd_b (identified parts linearly "
      "related, theory.md 7c)";
  r["identified_dim"] = a.rank_lambda;
  r["map"] = Ops::to_json(a_map);
  r["map_rank"] = Ops::rank(a_map);
  r["residual_contexts"] = Ops::norm(res_f);
  r["residual_tokens"] = Ops::norm(res_g);
  if constexpr (Ops::kExact) {
    r["rule"] = "exact: both residuals are exactly 0";
  } else {
    r["rule"] =
        "float (double): ||residual|| <= kMapTolFactor u max(M_a, M_b, n) cond(fhat_a) ||target|| "
        "(contexts), times cond(A_map) for the tokens";
    r["relative_bound"] = bound;
    r["relative_bound_tokens"] = bound_g;
    r["condition_number"] = cond;
    r["map_condition_number"] = cond_map;
    r["relative_residual_contexts"] =
        Ops::norm(b.fhat) > 0 ? Ops::norm(res_f) / Ops::norm(b.fhat) : 0;
    r["relative_residual_tokens"] =
        Ops::norm(ghat_b) > 0 ? Ops::norm(res_g) / Ops::norm(ghat_b) : 0;
  }
  Verdict v = Verdict::kHolds;
  if (!(ok_f && ok_g)) v = Ops::kExact ? Verdict::kViolated : Verdict::kInconclusive;
  r["verdict"] = to_string(v);
  if (v == Verdict::kInconclusive) {
    r["reason"] =
        "map residual above the rounding bound (ill-conditioned or not equivalent enough)";
  }
  tally.add(v);
  // Under diversity in both: the full symmetry b = (A f_a, A^{-T} g_a + c 1^T) [D].
  if (a.diverse && b.diverse && a.M == b.M) {
    json sym;
    const auto g0a = Ops::pick(a.g, {0});
    const auto g0b = Ops::pick(b.g, {0});
    const auto c = Ops::minus(g0b, Ops::mul(b_map, g0a));
    auto cfull = Ops::zeros(b.M, Ops::cols(b.g));
    for (std::int64_t j = 0; j < Ops::cols(b.g); ++j) {
      for (std::int64_t i = 0; i < b.M; ++i) {
        cfull(i, j) = c(i, 0);
      }
    }
    const auto res_sym = Ops::minus(Ops::minus(b.g, Ops::mul(b_map, a.g)), cfull);
    const auto res_ctx = Ops::minus(b.f, Ops::mul(a_map, a.f));
    sym["A"] = Ops::to_json(a_map);
    sym["A_inverse_transpose"] = Ops::to_json(b_map);
    sym["c"] = Ops::vec_json(c, 0);
    sym["residual_f"] = Ops::norm(res_ctx);
    sym["residual_g"] = Ops::norm(res_sym);
    const bool ok = Ops::negligible(res_ctx, Ops::norm(b.f), bound) &&
                    Ops::negligible(res_sym, Ops::norm(b.g), bound_g);
    const Verdict sv =
        ok ? Verdict::kHolds : (Ops::kExact ? Verdict::kViolated : Verdict::kInconclusive);
    sym["statement"] =
        "f_b = A f_a and g_b = A^{-T} g_a + c 1^T (diversity: the symmetry is recovered)";
    sym["verdict"] = to_string(sv);
    tally.add(sv);
    r["symmetry"] = sym;
  } else {
    r["symmetry"] = nullptr;
  }
  return r;
}

/**
 * A predictor equivalent to a (same dimension) in which p fails, built from a's invisible
 * components (identify.hpp). First candidate: a with its invisible components removed (f := P_G f
 * for the context space, g := P_F g for the token space), equivalent since Lambda = (P_G f)^T Gd =
 * f^T P_F Gd; it refutes every property that relies on invisible components. A probe that holds
 * on the identified components holds in every equivalent predictor (w_b = (A_map^+)^T w ignores
 * the invisible part), so none exists then. Otherwise, for the context space, g' = P_F g and
 * f'' = f + s n e_x^T with n orthogonal to span(P_F Gd), so f''^T (P_F Gd) = f^T Gd (the token
 * space symmetrically, f' = P_G f and n orthogonal to span(P_G f)): every invisible basis vector on
 * every item of p, then pairs of them on pairs of items.
 */
template <class Ops>
json counterexample(const Property& p, const Structure<Ops>& a, std::int64_t pivot) {
  const bool ctx = p.space == EmbeddingSpace::kContext;
  json out;
  const auto report = [&](const typename Ops::Mat& f2, const typename Ops::Mat& g2,
                          const typename Ops::Mat& X2, json changes) {
    out["found"] = true;
    out["space"] = to_string(p.space);
    out["changes"] = std::move(changes);
    // Verify: the counterexample (f2, g2) has the log-odds of a.
    const std::vector<std::int64_t> piv(static_cast<std::size_t>(Ops::cols(g2)), pivot);
    const auto lam2 = Ops::mul(Ops::tr(f2), Ops::minus(g2, Ops::pick(g2, piv)));
    out["log_odds_change"] = Ops::norm(Ops::minus(lam2, a.lambda));
    out["holds_after"] = holds_on<Ops>(p, X2);
  };
  const auto& Xhat = ctx ? a.fhat : a.gtil;
  if (!holds_on<Ops>(p, Xhat)) {
    out["construction"] = ctx ? "f := P_G f (invisible context components removed)"
                              : "g := P_F g (invisible token components removed)";
    report(ctx ? a.fhat : a.f, ctx ? a.g : a.gtil, Xhat, json::array());
    return out;
  }
  if (p.kind == PropertyKind::kProbe) {
    out["found"] = false;
    out["impossible"] = true;
    out["reason"] =
        "a probe on the identified components holds in every equivalent predictor: w_b = "
        "(A_map^+)^T w reads the identified part and ignores the invisible one";
    return out;
  }
  // The other side projected, so that the invisible space of this side is (span ...)^perp.
  const auto other = ctx ? Ops::project(a.f, a.gd) : Ops::project(a.gd, a.f);
  const auto basis = Ops::complement(other);
  const auto f_other = ctx ? a.f : other;
  const auto g_other = ctx ? Ops::project(a.f, a.g) : a.g;
  const auto& X = ctx ? a.f : a.g;
  const auto items = involved_items(p);
  out["invisible_dim"] = Ops::cols(basis);
  out["construction"] = ctx ? "g := P_F g, then f(x) += n with n orthogonal to span(P_F Gd)"
                            : "f := P_G f, then g(y) += n with n orthogonal to span(P_G f)";
  const auto found = [&](const typename Ops::Mat& X2, json changes) {
    report(ctx ? X2 : f_other, ctx ? g_other : X2, X2, std::move(changes));
  };
  const auto k_n = Ops::cols(basis);
  for (std::int64_t k = 0; k < k_n; ++k) {
    for (auto item : items) {
      for (int sign : {1, -1}) {
        auto X2 = Ops::add_to_col(X, item, basis, k, sign);
        if (!holds_on<Ops>(p, X2)) {
          json ch = json::array();
          ch.push_back({{"item", item}, {"added", Ops::vec_json(Ops::minus(X2, X), item)}});
          found(X2, ch);
          return out;
        }
      }
    }
  }
  for (std::int64_t k1 = 0; k1 < k_n; ++k1) {
    for (std::int64_t k2 = 0; k2 < k_n; ++k2) {
      for (auto i1 : items) {
        for (auto i2 : items) {
          if (i1 == i2 || (k1 == k2 && k_n > 1)) continue;
          auto X2 = Ops::add_to_col(Ops::add_to_col(X, i1, basis, k1, 1), i2, basis, k2, 1);
          if (!holds_on<Ops>(p, X2)) {
            json ch = json::array();
            ch.push_back({{"item", i1}, {"added", Ops::vec_json(Ops::minus(X2, X), i1)}});
            ch.push_back({{"item", i2}, {"added", Ops::vec_json(Ops::minus(X2, X), i2)}});
            found(X2, ch);
            return out;
          }
        }
      }
    }
  }
  out["found"] = false;
  return out;
}

template <class Ops>
json property_report(const Property& p, const Structure<Ops>& a, const Structure<Ops>& b,
                     bool equivalent, std::int64_t pivot, Tally& tally) {
  const bool ctx = p.space == EmbeddingSpace::kContext;
  json r;
  r["name"] = p.name;
  r["kind"] = to_string(p.kind);
  r["space"] = to_string(p.space);
  r["expect"] = to_string(p.expect);
  const bool ha = holds_on<Ops>(p, ctx ? a.f : a.g);
  const bool hb = holds_on<Ops>(p, ctx ? b.f : b.g);
  const bool ia = holds_on<Ops>(p, ctx ? a.fhat : a.gtil);
  const bool ib = holds_on<Ops>(p, ctx ? b.fhat : b.gtil);
  r["holds_in_a"] = ha;
  r["holds_in_b"] = hb;
  r["holds_on_identified_a"] = ia;
  r["holds_on_identified_b"] = ib;
  const bool diverse = a.diverse && b.diverse;
  r["diverse"] = diverse;
  json cex = nullptr;
  if (ha && !a.diverse) cex = counterexample<Ops>(p, a, pivot);
  r["counterexample"] = cex;
  const bool cex_found = cex.is_object() && cex.value("found", false);
  Verdict v = Verdict::kHolds;
  std::string statement;
  std::string why;
  if (p.expect == Expectation::kTransfers) {
    statement = "holds in b iff it holds in a";
  } else {
    statement = "holds in a, and an equivalent predictor of a's dimension violates it";
  }
  if (!equivalent) {
    v = Verdict::kNotApplicable;
    why = "a and b are not distribution-equivalent";
  } else if (ia != ib) {
    // [D]: the identified parts are related by an isomorphism, so they agree.
    v = Ops::kExact ? Verdict::kViolated : Verdict::kInconclusive;
    why =
        "the identified parts disagree although a and b are equivalent (contradicts theory.md 7c"
        "; in float mode a rank decision near the tolerance)";
  } else if (p.expect == Expectation::kTransfers) {
    if (ha == hb) {
      if (diverse) {
        why = std::string(
                  "all-or-none [I]: both predictors are diverse, b = A_map a on the whole "
                  "space, so the property ") +
              (ha ? "holds in both" : "fails in both");
      } else if (ha && ia && p.kind == PropertyKind::kProbe) {
        why =
            "holds in both, and in every equivalent predictor: a probe on the identified "
            "components ignores the invisible ones";
      } else if (ha) {
        why =
            "holds in both, but is not guaranteed: without diversity it " +
            std::string(ia ? "holds on the identified subspace and needs the invisible components "
                             "to cooperate"
                           : "relies on invisible components") +
            (cex_found ? "; an equivalent predictor violating it is given as counterexample" : "");
      } else {
        why = std::string("fails in both") +
              (ia ? " although it holds on the identified subspace (broken by invisible components)"
                  : "; it also fails on the identified subspace");
      }
    } else {
      v = diverse ? (Ops::kExact ? Verdict::kViolated : Verdict::kInconclusive)
                  : Verdict::kViolated;
      if (diverse) {
        why = "contradicts all-or-none [I]: both predictors are diverse";
      } else {
        why = std::string("does not transfer: it ") +
              (ha ? "holds in a but fails in b" : "fails in a but holds in b") + "; " +
              (ia ? "it holds on the identified subspace, and the invisible components of the "
                    "predictor where it fails break it"
                  : "it relies on invisible components (it fails on the identified subspace)");
      }
    }
  } else {  // kCanFail
    if (!ha) {
      v = Verdict::kNotApplicable;
      why = "does not hold in a";
    } else if (a.diverse) {
      v = Verdict::kViolated;
      why =
          "identified: a is diverse (rank Lambda = M), so every equivalent predictor of its "
          "dimension is a linear image of a and keeps the property [I]";
    } else if (cex.is_object() && cex.value("impossible", false)) {
      v = Verdict::kViolated;
      why = "cannot fail: " + cex.value("reason", std::string());
    } else if (cex_found) {
      why = std::string("not identified: ") +
            (ia ? "it holds on the identified subspace, but "
                : "it relies on invisible components; ") +
            "changing invisible components breaks it (counterexample)";
    } else if (!hb) {
      why = "not identified: b itself is equivalent to a and violates it";
    } else {
      v = Verdict::kInconclusive;
      why = "no counterexample found among single and double changes of invisible components";
    }
  }
  r["statement"] = statement;
  r["verdict"] = to_string(v);
  r["explanation"] = why;
  tally.add(v);
  return r;
}

void check_property_indices(const std::vector<Property>& props, std::int64_t n, std::int64_t V) {
  std::vector<Problem> problems;
  for (const auto& p : props) {
    const std::int64_t lim = p.space == EmbeddingSpace::kContext ? n : V;
    const std::string what =
        p.space == EmbeddingSpace::kContext ? "a context index" : "a token index";
    const auto check = [&](std::int64_t v, const std::string& path) {
      if (v < 0 || v >= lim) {
        problems.push_back({path, "must be " + what + " in [0, " + std::to_string(lim) + "), got " +
                                      std::to_string(v)});
      }
    };
    for (std::size_t i = 0; i < p.pairs.size(); ++i) {
      check(p.pairs[i].first, p.path + ".pairs[" + std::to_string(i) + "][0]");
      check(p.pairs[i].second, p.path + ".pairs[" + std::to_string(i) + "][1]");
    }
    for (std::size_t i = 0; i < p.items.size(); ++i) {
      check(p.items[i], p.path + ".items[" + std::to_string(i) + "]");
    }
    const std::size_t want = p.kind == PropertyKind::kProbe ? p.items.size() : p.pairs.size();
    if ((p.kind == PropertyKind::kProbe || p.kind == PropertyKind::kSteering) &&
        p.values.size() != want) {
      problems.push_back(
          {p.path, "needs one value per " +
                       std::string(p.kind == PropertyKind::kProbe ? "item" : "pair") + " (" +
                       std::to_string(want) + "), got " + std::to_string(p.values.size())});
    }
  }
  if (!problems.empty()) throw InvalidInput("identify: invalid property", std::move(problems));
}

template <class Ops>
void analyse(const Predictor& a, const Predictor& b, const std::vector<Property>& props,
             std::int64_t pivot, bool equivalent, json& report, Tally& tally) {
  const auto sa = structure_of<Ops>(a, pivot);
  const auto sb = structure_of<Ops>(b, pivot);
  report["a"] = structure_json(a, sa);
  report["b"] = structure_json(b, sb);
  if (equivalent) {
    report["recovery"] = recover<Ops>(sa, sb, tally);
  } else {
    report["recovery"] = nullptr;
  }
  json pr = json::array();
  for (const auto& p : props)
    pr.push_back(property_report<Ops>(p, sa, sb, equivalent, pivot, tally));
  report["properties"] = pr;
}

}  // namespace

// ------------------------------------------------------------------------------------------------

std::string to_string(PropertyKind k) {
  switch (k) {
    case PropertyKind::kParallel:
      return "parallel";
    case PropertyKind::kRelational:
      return "relational";
    case PropertyKind::kProbe:
      return "probe";
    case PropertyKind::kSteering:
      return "steering";
  }
  return "parallel";
}
std::string to_string(EmbeddingSpace s) {
  return s == EmbeddingSpace::kContext ? "context" : "token";
}
std::string to_string(Expectation e) {
  return e == Expectation::kTransfers ? "transfers" : "can_fail";
}

RationalMatrix inverse(const RationalMatrix& a) {
  if (a.rows() != a.cols()) {
    throw InvalidInput("inverse: matrix must be square, got " + std::to_string(a.rows()) + " x " +
                       std::to_string(a.cols()));
  }
  const std::int64_t n = a.rows();
  RationalMatrix aug(n, 2 * n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) aug(i, j) = a(i, j);
    aug(i, n + i) = 1;
  }
  const RowEchelon e = reduced_row_echelon(std::move(aug));
  if (e.rank() < n || e.pivot_columns[static_cast<std::size_t>(n - 1)] != n - 1) {
    throw InvalidInput("inverse: matrix must be invertible, got rank " + std::to_string(rank(a)) +
                       " of " + std::to_string(n));
  }
  RationalMatrix out(n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) out(i, j) = e.rref(i, n + j);
  }
  return out;
}

RationalMatrix log_odds(const Predictor& p, std::int64_t pivot) {
  return multiply(transpose(p.f), token_differences(p.g, pivot));
}

bool property_holds(const Property& prop, const RationalMatrix& X) {
  check_property_indices({prop}, X.cols(), X.cols());
  return holds_on<ExactOps>(prop, X);
}

IdentifyResult identify(const Predictor& a, const Predictor& b, const std::vector<Property>& props,
                        const IdentifyOptions& opts) {
  std::vector<Problem> problems;
  if (b.num_contexts() != a.num_contexts()) {
    problems.push_back({"b.context_embeddings", "must have as many contexts as a (" +
                                                    std::to_string(a.num_contexts()) + "), got " +
                                                    std::to_string(b.num_contexts())});
  }
  if (b.vocab_size() != a.vocab_size()) {
    problems.push_back({"b.token_embeddings", "must have as many tokens as a (" +
                                                  std::to_string(a.vocab_size()) + "), got " +
                                                  std::to_string(b.vocab_size())});
  }
  if (a.g.rows() != a.f.rows() || b.g.rows() != b.f.rows() || a.dim() < 1 || b.dim() < 1) {
    problems.push_back({"dim", "f and g must have the same number >= 1 of rows, got " +
                                   std::to_string(a.f.rows()) + "/" + std::to_string(a.g.rows()) +
                                   " and " + std::to_string(b.f.rows()) + "/" +
                                   std::to_string(b.g.rows())});
  }
  if (opts.pivot < 0 || opts.pivot >= a.vocab_size()) {
    problems.push_back({"--pivot", "must be a token index in [0, " +
                                       std::to_string(a.vocab_size()) + "), got " +
                                       std::to_string(opts.pivot)});
  }
  if (opts.tolerance < 0) {
    problems.push_back({"--tolerance", "must be >= 0, got " + rational_to_string(opts.tolerance)});
  }
  if (!problems.empty()) throw InvalidInput("identify: invalid input", std::move(problems));
  check_property_indices(props, a.num_contexts(), a.vocab_size());

  const bool exact = opts.arithmetic == Arithmetic::kExact ||
                     (opts.arithmetic == Arithmetic::kAuto && a.exact && b.exact);
  json report;
  report["format"] = "ntp-identify";
  report["version"] = 1;
  report["arithmetic"] = exact ? "exact" : "float";
  report["precision"] = exact ? json(nullptr) : json(opts.precision.name());
  report["pivot_token"] = opts.pivot;
  report["tolerance"] = rational_to_json(opts.tolerance);
  Tally tally;

  // Equivalence: Lambda_a == Lambda_b (theory.md 7c).
  json eq;
  eq["statement"] = "Lambda_a(x, y) = Lambda_b(x, y) for all x, y (distribution-equivalent)";
  bool equivalent = false;
  if (exact) {
    const RationalMatrix la = log_odds(a, opts.pivot);
    const RationalMatrix lb = log_odds(b, opts.pivot);
    Rational worst = -1;
    std::int64_t wx = 0, wy = 0;
    for (std::int64_t x = 0; x < la.rows(); ++x) {
      for (std::int64_t y = 0; y < la.cols(); ++y) {
        const Rational d = abs(la(x, y) - lb(x, y));
        if (d > worst) {
          worst = d;
          wx = x;
          wy = y;
        }
      }
    }
    equivalent = worst <= opts.tolerance;
    eq["rule"] = "exact: max |Lambda_a - Lambda_b| <= T (T = --tolerance, default 0)";
    eq["max_discrepancy"] = rational_to_json(worst);
    eq["worst"] = {{"context", wx},
                   {"token", wy},
                   {"a", rational_to_json(la(wx, wy))},
                   {"b", rational_to_json(lb(wx, wy))},
                   {"difference", rational_to_json(la(wx, wy) - lb(wx, wy))}};
  } else {
    const EquivalenceStats st = equivalence_float(a, b, opts.pivot, opts.tolerance, opts.precision);
    equivalent = st.holds;
    eq["rule"] =
        "float: |Lambda_a - Lambda_b| <= tau(x, y) = kEquivalenceTolFactor eps_P ((M_a + 2) s_a + "
        "(M_b + 2) s_b) + T at every entry, s(x, y) = sum_i |f_i(x)| (|g_i(y)| + |g_i(y0)|)";
    eq["max_discrepancy"] = st.max_difference;
    eq["worst_ratio"] = st.worst_ratio;
    eq["worst"] = {{"context", st.x},
                   {"token", st.y},
                   {"a", st.la},
                   {"b", st.lb},
                   {"difference", st.la - st.lb},
                   {"tolerance", st.tau}};
  }
  const Verdict ev = equivalent ? Verdict::kHolds : Verdict::kViolated;
  eq["verdict"] = to_string(ev);
  tally.add(ev);
  report["equivalence"] = eq;

  if (exact) {
    analyse<ExactOps>(a, b, props, opts.pivot, equivalent, report, tally);
  } else {
    analyse<FloatOps>(a, b, props, opts.pivot, equivalent, report, tally);
  }
  IdentifyResult res;
  res.exit_code = tally.violated       ? ExitCode::kViolated
                  : tally.inconclusive ? ExitCode::kInconclusive
                                       : ExitCode::kAllHold;
  report["verdict"] = to_string(tally.violated       ? Verdict::kViolated
                                : tally.inconclusive ? Verdict::kInconclusive
                                                     : Verdict::kHolds);
  report["exit_code"] = static_cast<int>(res.exit_code);
  res.report = std::move(report);
  return res;
}

std::string format_identify(const json& r) {
  std::ostringstream o;
  const auto num = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  o << "identify (" << r.value("arithmetic", "?");
  if (r.contains("precision") && r["precision"].is_string())
    o << ", " << r["precision"].get<std::string>();
  o << "; pivot token " << r.value("pivot_token", 0) << ")\n";
  for (const char* side : {"a", "b"}) {
    if (!r.contains(side)) continue;
    const json& s = r[side];
    o << "  " << side << ": " << (s.value("name", "").empty() ? "(unnamed)" : s.value("name", ""))
      << "  M = " << s.value("dim", 0) << ", n = " << s.value("num_contexts", 0)
      << ", V = " << s.value("vocab_size", 0) << ", rank Lambda = " << s.value("rank_log_odds", 0)
      << (s.value("diverse", false) ? ", diverse" : ", NOT diverse")
      << "; invisible dims: contexts " << s.value("invisible_context_dim", 0) << ", tokens "
      << s.value("invisible_token_dim", 0) << "\n";
  }
  const json& eq = r["equivalence"];
  o << "equivalence: " << eq.value("verdict", "?")
    << "  max |Lambda_a - Lambda_b| = " << num(eq["max_discrepancy"]) << " (worst at context "
    << eq["worst"].value("context", 0) << ", token " << eq["worst"].value("token", 0) << ")\n";
  if (r.contains("recovery") && r["recovery"].is_object()) {
    const json& rc = r["recovery"];
    o << "recovery: " << rc.value("verdict", "?") << "  identified dim "
      << rc.value("identified_dim", 0) << ", map rank " << rc.value("map_rank", 0) << ", residuals "
      << num(rc["residual_contexts"]) << " / " << num(rc["residual_tokens"]);
    if (rc["symmetry"].is_object())
      o << "; symmetry (A f, A^-T g + c): " << rc["symmetry"].value("verdict", "?");
    o << "\n";
  }
  if (r.contains("properties")) {
    for (const auto& p : r["properties"]) {
      o << "property " << (p.value("name", "").empty() ? p.value("kind", "?") : p.value("name", ""))
        << " [" << p.value("kind", "?") << ", " << p.value("space", "?") << ", expect "
        << p.value("expect", "?") << "]: " << p.value("verdict", "?")
        << "  (a: " << (p.value("holds_in_a", false) ? "holds" : "fails")
        << ", b: " << (p.value("holds_in_b", false) ? "holds" : "fails") << ")\n    "
        << p.value("explanation", "") << "\n";
      if (p["counterexample"].is_object() && p["counterexample"].value("found", false)) {
        o << "    counterexample: change of " << p["counterexample"]["changes"].size()
          << " item(s) along invisible directions; log-odds change "
          << num(p["counterexample"]["log_odds_change"]) << "\n";
      }
    }
  }
  o << "verdict: " << r.value("verdict", "?") << " (exit " << r.value("exit_code", 0) << ")\n";
  return o.str();
}

// ------------------------------------------------------------------------------------------------
// Readers.

namespace {

std::string preview(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

struct Reader {
  std::vector<Problem> problems;
  void add(const std::string& path, const std::string& msg) {
    if (problems.size() < 1000) problems.push_back({path, msg});
  }
  std::optional<Rational> number(const json& v, const std::string& path) {
    if (v.is_number_integer()) {
      return v.is_number_unsigned() ? Rational(BigInt(v.get<std::uint64_t>()))
                                    : Rational(BigInt(v.get<std::int64_t>()));
    }
    if (v.is_number_float()) {
      const double x = v.get<double>();
      if (!std::isfinite(x)) {
        add(path, "must be a finite number, got " + preview(v));
        return std::nullopt;
      }
      return rational_from_double(x);
    }
    if (v.is_string()) {
      if (auto q = parse_rational(v.get<std::string>())) return q;
      add(path,
          "must be a number or a string holding a decimal or a rational (\"0.1\", \"1/3\"), got " +
              preview(v));
      return std::nullopt;
    }
    add(path, "must be a number, got " + preview(v));
    return std::nullopt;
  }
  std::optional<std::int64_t> integer(const json& v, const std::string& path, std::int64_t lo,
                                      std::int64_t hi) {
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) ||
        v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi) {
      add(path, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], got " + preview(v));
      return std::nullopt;
    }
    return v.get<std::int64_t>();
  }
  void header(const json& doc, const char* format, const std::set<std::string>& keys) {
    for (const auto& [k, v] : doc.items()) {
      if (keys.count(k) == 0) {
        add(k, std::string("is not a field of ") + format +
                   " version 1 (put free-form data under \"extra\"), got " + preview(v));
      }
    }
    if (!doc.contains("format") || doc["format"] != format) {
      add("format", std::string("must be \"") + format + "\", got " +
                        (doc.contains("format") ? preview(doc["format"]) : std::string("nothing")));
    }
    if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"] != 1) {
      add("version", "must be 1, got " + (doc.contains("version") ? preview(doc["version"])
                                                                  : std::string("nothing")));
    }
  }
};

json parse_document(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidInput(what + ": JSON syntax error at byte " + std::to_string(e.byte) +
                       ", got malformed JSON (" + std::string(e.what()).substr(0, 160) + ")");
  } catch (const json::exception& e) {
    throw InvalidInput(what +
                       ": a JSON number must be a finite double (write larger or exact values "
                       "as strings), got " +
                       std::string(e.what()).substr(0, 160));
  }
}

std::string read_text(const std::string& path, const std::string& kind) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot read " + kind + " file: " + path + " could not be opened, got " +
                  std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  constexpr std::streamoff kMax = std::streamoff{1} << 30;
  if (size < 0 || size > kMax) {
    throw InvalidInput(kind + " file " + path + ": size must be at most 1 GiB, got " +
                       std::to_string(static_cast<long long>(size)) + " bytes");
  }
  in.seekg(0);
  text.resize(static_cast<std::size_t>(size));
  in.read(text.data(), size);
  if (!in)
    throw IoError("cannot read " + kind + " file: " + path + " read failed, got a short read");
  return text;
}

/** Reads an array of `count` rows of `dim` numbers into the columns of m (dim x count). */
void read_columns(Reader& r, const json& rows, const std::string& path, std::int64_t dim,
                  RationalMatrix& m) {
  m = RationalMatrix(dim, static_cast<std::int64_t>(rows.size()));
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const std::string p = path + "[" + std::to_string(j) + "]";
    const json& row = rows[j];
    if (!row.is_array() || static_cast<std::int64_t>(row.size()) != dim) {
      r.add(p,
            "must be an array of dim = " + std::to_string(dim) + " numbers, got " + preview(row));
      continue;
    }
    for (std::int64_t i = 0; i < dim; ++i) {
      if (auto q = r.number(row[static_cast<std::size_t>(i)], p + "[" + std::to_string(i) + "]")) {
        m(i, static_cast<std::int64_t>(j)) = *q;
      }
    }
  }
}

}  // namespace

Predictor read_predictor_json(const std::string& text, const std::string& source) {
  const std::string what = "invalid predictor file " + source;
  const json doc = parse_document(text, "predictor file " + source);
  if (!doc.is_object())
    throw InvalidInput(what, {{"(document)", "must be a JSON object, got " + preview(doc)}});
  Reader r;
  r.header(doc, "ntp-predictor",
           {"format", "version", "name", "description", "exact", "dim", "context_embeddings",
            "token_embeddings", "extra"});
  Predictor p;
  std::int64_t dim = 0;
  if (!doc.contains("dim")) {
    r.add("dim", "is required, got nothing");
  } else if (auto d = r.integer(doc["dim"], "dim", 1, kMaxPredictorDim)) {
    dim = *d;
  }
  if (doc.contains("name")) {
    if (doc["name"].is_string()) {
      p.name = doc["name"].get<std::string>();
    } else {
      r.add("name", "must be a string, got " + preview(doc["name"]));
    }
  }
  if (doc.contains("description") && !doc["description"].is_string()) {
    r.add("description", "must be a string, got " + preview(doc["description"]));
  }
  if (doc.contains("exact")) {
    if (doc["exact"].is_boolean()) {
      p.exact = doc["exact"].get<bool>();
    } else {
      r.add("exact", "must be true or false, got " + preview(doc["exact"]));
    }
  }
  const auto table = [&](const char* key, std::int64_t min_rows) -> const json* {
    if (!doc.contains(key)) {
      r.add(key, "is required, got nothing");
      return nullptr;
    }
    const json& v = doc[key];
    if (!v.is_array() || static_cast<std::int64_t>(v.size()) < min_rows) {
      r.add(key, "must be an array of at least " + std::to_string(min_rows) + " rows, got " +
                     preview(v));
      return nullptr;
    }
    if (dim > 0 && static_cast<std::int64_t>(v.size()) * dim > kMaxPredictorEntries) {
      r.add(key, "must have at most " + std::to_string(kMaxPredictorEntries) +
                     " entries (rows x dim), got " + std::to_string(v.size()) + " x " +
                     std::to_string(dim));
      return nullptr;
    }
    return &v;
  };
  const json* ctx = table("context_embeddings", 1);
  const json* tok = table("token_embeddings", 2);
  if (!r.problems.empty()) throw InvalidInput(what, std::move(r.problems));
  read_columns(r, *ctx, "context_embeddings", dim, p.f);
  read_columns(r, *tok, "token_embeddings", dim, p.g);
  if (!r.problems.empty()) throw InvalidInput(what, std::move(r.problems));
  return p;
}

Predictor read_predictor_file(const std::string& path) {
  return read_predictor_json(read_text(path, "predictor"), path == "-" ? "<stdin>" : path);
}

std::vector<Property> read_property_json(const std::string& text, const std::string& source) {
  const std::string what = "invalid property file " + source;
  const json doc = parse_document(text, "property file " + source);
  if (!doc.is_object())
    throw InvalidInput(what, {{"(document)", "must be a JSON object, got " + preview(doc)}});
  Reader r;
  r.header(doc, "ntp-property", {"format", "version", "properties", "description", "extra"});
  if (!doc.contains("properties") || !doc["properties"].is_array()) {
    r.add("properties",
          "must be an array of properties, got " +
              (doc.contains("properties") ? preview(doc["properties"]) : std::string("nothing")));
    throw InvalidInput(what, std::move(r.problems));
  }
  static const std::set<std::string> kKeys = {"name",    "kind",      "space",  "pairs", "items",
                                              "targets", "strengths", "expect", "extra"};
  std::vector<Property> out;
  const json& arr = doc["properties"];
  constexpr std::int64_t kMaxIndex = std::numeric_limits<std::int32_t>::max();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const json& e = arr[i];
    const std::string path = "properties[" + std::to_string(i) + "]";
    Property p;
    p.path = path;
    if (!e.is_object()) {
      r.add(path, "must be an object, got " + preview(e));
      continue;
    }
    for (const auto& [k, v] : e.items()) {
      if (kKeys.count(k) == 0)
        r.add(path + "." + k, "is not a field of a property, got " + preview(v));
    }
    if (e.contains("name")) {
      if (e["name"].is_string()) {
        p.name = e["name"].get<std::string>();
      } else {
        r.add(path + ".name", "must be a string, got " + preview(e["name"]));
      }
    }
    const std::string kind =
        e.contains("kind") && e["kind"].is_string() ? e["kind"].get<std::string>() : "";
    if (kind == "parallel") {
      p.kind = PropertyKind::kParallel;
    } else if (kind == "relational") {
      p.kind = PropertyKind::kRelational;
    } else if (kind == "probe") {
      p.kind = PropertyKind::kProbe;
    } else if (kind == "steering") {
      p.kind = PropertyKind::kSteering;
    } else {
      r.add(path + ".kind",
            "must be \"parallel\", \"relational\", \"probe\" or \"steering\", got " +
                (e.contains("kind") ? preview(e["kind"]) : std::string("nothing")));
      continue;
    }
    if (e.contains("space")) {
      if (e["space"] == "context") {
        p.space = EmbeddingSpace::kContext;
      } else if (e["space"] == "token") {
        p.space = EmbeddingSpace::kToken;
      } else {
        r.add(path + ".space", "must be \"context\" or \"token\", got " + preview(e["space"]));
      }
    }
    if (e.contains("expect")) {
      if (e["expect"] == "transfers") {
        p.expect = Expectation::kTransfers;
      } else if (e["expect"] == "can_fail") {
        p.expect = Expectation::kCanFail;
      } else {
        r.add(path + ".expect",
              "must be \"transfers\" or \"can_fail\", got " + preview(e["expect"]));
      }
    }
    const bool wants_pairs = p.kind != PropertyKind::kProbe;
    const std::size_t min_pairs = p.kind == PropertyKind::kParallel ? 2 : 1;
    const auto index = [&](const json& v, const std::string& pp) {
      return r.integer(v, pp, 0, kMaxIndex).value_or(0);
    };
    if (wants_pairs) {
      if (!e.contains("pairs") || !e["pairs"].is_array() || e["pairs"].size() < min_pairs) {
        r.add(path + ".pairs",
              "must be an array of at least " + std::to_string(min_pairs) +
                  " index pairs [i, j], got " +
                  (e.contains("pairs") ? preview(e["pairs"]) : std::string("nothing")));
      } else {
        for (std::size_t k = 0; k < e["pairs"].size(); ++k) {
          const json& pr = e["pairs"][k];
          const std::string pp = path + ".pairs[" + std::to_string(k) + "]";
          if (!pr.is_array() || pr.size() != 2) {
            r.add(pp, "must be a pair [i, j] of indices, got " + preview(pr));
            continue;
          }
          p.pairs.emplace_back(index(pr[0], pp + "[0]"), index(pr[1], pp + "[1]"));
        }
      }
      if (e.contains("items"))
        r.add(path + ".items", "is only for kind probe, got " + preview(e["items"]));
    } else {
      if (!e.contains("items") || !e["items"].is_array() || e["items"].empty()) {
        r.add(path + ".items",
              "must be a non-empty array of indices, got " +
                  (e.contains("items") ? preview(e["items"]) : std::string("nothing")));
      } else {
        for (std::size_t k = 0; k < e["items"].size(); ++k) {
          p.items.push_back(index(e["items"][k], path + ".items[" + std::to_string(k) + "]"));
        }
      }
      if (e.contains("pairs"))
        r.add(path + ".pairs", "is not for kind probe, got " + preview(e["pairs"]));
    }
    const auto values = [&](const char* key, std::size_t want) {
      const json& v = e[key];
      const std::string pp = path + "." + key;
      if (!v.is_array() || v.size() != want) {
        r.add(pp, "must be an array of " + std::to_string(want) + " numbers (one per " +
                      (p.kind == PropertyKind::kProbe ? "item" : "pair") + "), got " + preview(v));
        return;
      }
      for (std::size_t k = 0; k < v.size(); ++k) {
        p.values.push_back(
            r.number(v[k], pp + "[" + std::to_string(k) + "]").value_or(Rational(0)));
      }
    };
    if (p.kind == PropertyKind::kProbe) {
      if (!e.contains("targets")) {
        r.add(path + ".targets", "is required for kind probe, got nothing");
      } else {
        values("targets", p.items.size());
      }
    } else if (e.contains("targets")) {
      r.add(path + ".targets", "is only for kind probe, got " + preview(e["targets"]));
    }
    if (p.kind == PropertyKind::kSteering) {
      if (e.contains("strengths")) {
        values("strengths", p.pairs.size());
      } else {
        p.values.assign(p.pairs.size(), Rational(1));
      }
    } else if (e.contains("strengths")) {
      r.add(path + ".strengths", "is only for kind steering, got " + preview(e["strengths"]));
    }
    out.push_back(std::move(p));
  }
  if (!r.problems.empty()) throw InvalidInput(what, std::move(r.problems));
  return out;
}

std::vector<Property> read_property_file(const std::string& path) {
  return read_property_json(read_text(path, "property"), path == "-" ? "<stdin>" : path);
}

json predictor_to_json(const Predictor& p) {
  json doc;
  doc["format"] = "ntp-predictor";
  doc["version"] = 1;
  if (!p.name.empty()) doc["name"] = p.name;
  doc["exact"] = p.exact;
  doc["dim"] = p.dim();
  const auto rows = [](const RationalMatrix& m) {
    json out = json::array();
    for (std::int64_t j = 0; j < m.cols(); ++j) {
      json row = json::array();
      for (std::int64_t i = 0; i < m.rows(); ++i) row.push_back(rational_to_json(m(i, j)));
      out.push_back(row);
    }
    return out;
  };
  doc["context_embeddings"] = rows(p.f);
  doc["token_embeddings"] = rows(p.g);
  return doc;
}

json properties_to_json(const std::vector<Property>& props) {
  json arr = json::array();
  for (const auto& p : props) {
    json e;
    if (!p.name.empty()) e["name"] = p.name;
    e["kind"] = to_string(p.kind);
    e["space"] = to_string(p.space);
    e["expect"] = to_string(p.expect);
    if (p.kind == PropertyKind::kProbe) {
      e["items"] = p.items;
      json t = json::array();
      for (const auto& v : p.values) t.push_back(rational_to_json(v));
      e["targets"] = t;
    } else {
      json pr = json::array();
      for (const auto& [u, v] : p.pairs) pr.push_back({u, v});
      e["pairs"] = pr;
      if (p.kind == PropertyKind::kSteering) {
        json s = json::array();
        for (const auto& v : p.values) s.push_back(rational_to_json(v));
        e["strengths"] = s;
      }
    }
    arr.push_back(e);
  }
  return {{"format", "ntp-property"}, {"version", 1}, {"properties", arr}};
}

// ------------------------------------------------------------------------------------------------
// Constructions.

RationalMatrix random_dyadic_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                                    int bits) {
  Rng rng(seed, 17);
  const std::uint64_t half = std::uint64_t{1} << bits;
  const Rational unit = Rational(1) / Rational(BigInt(half));
  RationalMatrix m(rows, cols);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      const auto k = static_cast<std::int64_t>(rng.uniform_int(2 * half + 1)) -
                     static_cast<std::int64_t>(half);
      m(i, j) = Rational(BigInt(k)) * unit;
    }
  }
  return m;
}

RationalMatrix random_unimodular(std::int64_t M, std::uint64_t seed) {
  Rng rng(seed, 23);
  RationalMatrix lo = RationalMatrix::identity(M);
  RationalMatrix up = RationalMatrix::identity(M);
  for (std::int64_t i = 0; i < M; ++i) {
    for (std::int64_t j = 0; j < i; ++j) {
      lo(i, j) = static_cast<std::int64_t>(rng.uniform_int(3)) - 1;
      up(j, i) = static_cast<std::int64_t>(rng.uniform_int(3)) - 1;
    }
  }
  return multiply(lo, up);
}

Predictor random_predictor(std::int64_t M, std::int64_t n, std::int64_t V, std::uint64_t seed) {
  Predictor p;
  p.name = "random M=" + std::to_string(M) + " seed=" + std::to_string(seed);
  p.exact = true;
  p.f = random_dyadic_matrix(M, n, 2 * seed + 1);
  p.g = random_dyadic_matrix(M, V, 2 * seed + 2);
  return p;
}

Predictor apply_symmetry(const Predictor& p, const RationalMatrix& A,
                         const std::vector<Rational>& c) {
  if (A.rows() != p.dim() || A.cols() != p.dim() ||
      static_cast<std::int64_t>(c.size()) != p.dim()) {
    throw InvalidInput("apply_symmetry: A must be M x M and c of size M (M = " +
                       std::to_string(p.dim()) + "), got " + std::to_string(A.rows()) + " x " +
                       std::to_string(A.cols()) + " and " + std::to_string(c.size()));
  }
  Predictor q = p;
  q.name = p.name + " (symmetry image)";
  q.f = multiply(A, p.f);
  q.g = multiply(transpose(inverse(A)), p.g);
  for (std::int64_t i = 0; i < q.g.rows(); ++i) {
    for (std::int64_t j = 0; j < q.g.cols(); ++j) q.g(i, j) += c[static_cast<std::size_t>(i)];
  }
  return q;
}

Predictor nondiverse_predictor(std::int64_t M, std::int64_t r, std::int64_t n, std::int64_t V,
                               std::uint64_t seed) {
  Predictor p;
  p.name = "non-diverse M=" + std::to_string(M) + " r=" + std::to_string(r);
  p.exact = true;
  p.f =
      multiply(random_dyadic_matrix(M, r, 3 * seed + 1), random_dyadic_matrix(r, n, 3 * seed + 2));
  p.g = random_dyadic_matrix(M, V, 3 * seed + 3);
  return p;
}

TrainedPair trained_pair(std::int64_t n, std::int64_t V, std::int64_t dim_a, std::int64_t dim_b,
                         std::uint64_t seed_table, std::uint64_t seed_a, std::uint64_t seed_b) {
  if (n < 1 || n > V - 1 || dim_a < n || dim_b < n) {
    throw InvalidInput("trained_pair: need 1 <= n <= V - 1 and dims >= n, got n = " +
                       std::to_string(n) + ", V = " + std::to_string(V) + ", dims " +
                       std::to_string(dim_a) + ", " + std::to_string(dim_b));
  }
  TrainedPair out;
  // The table: softmax of a base predictor's logits, in double through log_sum_exp.
  Rng rng(seed_table, 31);
  Eigen::MatrixXd f0(n, n), g0(n, V);
  for (Eigen::Index i = 0; i < f0.size(); ++i) f0.data()[i] = rng.normal();
  for (Eigen::Index i = 0; i < g0.size(); ++i) g0.data()[i] = rng.normal();
  const Eigen::MatrixXd logits = f0.transpose() * g0;  // n x V
  Eigen::MatrixXd log_t(n, V);
  out.table.assign(static_cast<std::size_t>(n), std::vector<double>(static_cast<std::size_t>(V)));
  for (Eigen::Index x = 0; x < n; ++x) {
    const Vector<double> row = logits.row(x).transpose();
    const double lse = log_sum_exp<double>(row);
    for (Eigen::Index y = 0; y < V; ++y) {
      log_t(x, y) = row(y) - lse;
      out.table[static_cast<std::size_t>(x)][static_cast<std::size_t>(y)] = std::exp(log_t(x, y));
    }
  }
  // The table's log-odds against token 0, in double (exact rationals from here on).
  RationalMatrix L(n, V);
  for (Eigen::Index x = 0; x < n; ++x) {
    for (Eigen::Index y = 0; y < V; ++y) L(x, y) = rational_from_double(log_t(x, y) - log_t(x, 0));
  }
  const auto fit = [&](std::int64_t M, std::uint64_t seed) {
    Predictor p;
    p.name = "fitted M=" + std::to_string(M) + " seed=" + std::to_string(seed);
    p.exact = false;
    p.f = random_dyadic_matrix(M, n, 5 * seed + 1, 8);
    const RationalMatrix ft = transpose(p.f);
    // Gd = f (f^T f)^{-1} L: the minimum-norm exact solution of f^T Gd = L (in span F).
    RationalMatrix gd = multiply(p.f, multiply(inverse(multiply(ft, p.f)), L));
    if (M > n) {
      // Invisible token components: random directions orthogonal to span F.
      const RationalMatrix r = random_dyadic_matrix(M, V, 5 * seed + 2, 8);
      const RationalMatrix rperp = sub(r, project_exact(p.f, r));
      for (std::int64_t i = 0; i < M; ++i) {
        for (std::int64_t y = 1; y < V; ++y) gd(i, y) += rperp(i, y);
      }
    }
    const RationalMatrix g0col = random_dyadic_matrix(M, 1, 5 * seed + 3, 8);
    p.g = RationalMatrix(M, V);
    for (std::int64_t i = 0; i < M; ++i) {
      for (std::int64_t y = 0; y < V; ++y) {
        p.g(i, y) = rational_from_double(rational_to_double(g0col(i, 0) + gd(i, y)));
      }
    }
    return p;
  };
  out.a = fit(dim_a, seed_a);
  out.b = fit(dim_b, seed_b);
  return out;
}

}  // namespace ntp
