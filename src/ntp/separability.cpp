#include "ntp/separability.hpp"

#include <glpk.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "ntp/errors.hpp"

namespace ntp {

std::string to_string(SeparabilityCertificateKind k) {
  switch (k) {
    case SeparabilityCertificateKind::kNone:
      return "none";
    case SeparabilityCertificateKind::kWitness:
      return "witness";
    case SeparabilityCertificateKind::kFarkas:
      return "farkas";
  }
  return "none";
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

using SparseRow = std::map<std::int64_t, Rational>;

std::vector<std::int32_t> sorted_support(const ContextData& c) {
  std::vector<std::int32_t> s = c.tokens;
  std::sort(s.begin(), s.end());
  return s;
}

bool in_sorted(const std::vector<std::int32_t>& s, std::int32_t t) {
  return std::binary_search(s.begin(), s.end(), t);
}

/**
 * Gauss-Jordan in place on a dense rational matrix; pivots are searched in columns
 * [0, pivot_cols). Returns the pivot column of rows 0..r-1 (r = rank of those columns); on return
 * the matrix is in reduced row echelon form (rows r.. are zero).
 *
 * Each row is first scaled to integers (row scaling leaves the RREF unchanged), then the
 * fraction-free (Bareiss) Gauss-Jordan runs in GMP integers: every intermediate entry is a minor of
 * the input, so the division by the previous pivot is exact and no gcd is ever taken (mpq
 * Gauss-Jordan was 10x slower at paper-main size). At the end the pivot block is D*I and the RREF
 * is the integer matrix divided by D.
 */
std::vector<std::int64_t> gauss_jordan(std::vector<std::vector<Rational>>& a,
                                       std::int64_t pivot_cols) {
  const std::size_t rows = a.size();
  if (rows == 0) return {};
  const std::size_t cols = a[0].size();
  std::vector<std::vector<BigInt>> z(rows, std::vector<BigInt>(cols));
  for (std::size_t i = 0; i < rows; ++i) {
    BigInt l = 1;
    for (const auto& q : a[i]) {
      const BigInt den = boost::multiprecision::denominator(q);
      if (den != 1) l = boost::multiprecision::lcm(l, den);
    }
    for (std::size_t k = 0; k < cols; ++k) {
      z[i][k] = boost::multiprecision::numerator(a[i][k]) *
                (l / boost::multiprecision::denominator(a[i][k]));
    }
  }
  std::vector<std::int64_t> pivots;
  BigInt prev = 1;
  BigInt t;
  std::size_t r = 0;
  for (std::int64_t col = 0; col < pivot_cols && r < rows; ++col) {
    std::size_t p = r;
    while (p < rows && z[p][col] == 0) ++p;
    if (p == rows) continue;
    std::swap(z[r], z[p]);
    const BigInt piv = z[r][col];
    std::vector<char> in_r(cols, 0);
    for (std::size_t k = 0; k < cols; ++k) in_r[k] = z[r][k] != 0 ? 1 : 0;
    for (std::size_t i = 0; i < rows; ++i) {
      if (i == r) continue;
      const BigInt f = z[i][col];
      auto& row = z[i];
      for (std::size_t k = 0; k < cols; ++k) {  // row = (piv * row - f * z[r]) / prev, exactly
        const bool sub = f != 0 && in_r[k] != 0;
        if (row[k] == 0 && !sub) continue;
        t = piv * row[k];
        if (sub) t -= f * z[r][k];
        mpz_divexact(row[k].backend().data(), t.backend().data(), prev.backend().data());
      }
    }
    prev = piv;
    pivots.push_back(col);
    ++r;
  }
  // z is D * RREF in rows 0..r-1 (D = prev), zero below.
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t k = 0; k < cols; ++k) {
      a[i][k] = (i < r && z[i][k] != 0) ? Rational(z[i][k], prev) : Rational(0);
    }
  }
  return pivots;
}

/**
 * An exact solution x of rows * x = rhs close to x0: a sparse incremental Gauss-Jordan (pivot = the
 * column occurring in the fewest rows, to limit fill-in) gives the reduced row echelon form; the
 * non-pivot variables keep their values from x0 and the pivot variables are solved for.
 * std::nullopt when the system is inconsistent.
 */
std::optional<std::vector<Rational>> solve_near(const std::vector<SparseRow>& rows,
                                                const std::vector<Rational>& rhs,
                                                std::vector<Rational> x0) {
  std::unordered_map<std::int64_t, std::int64_t> count;
  for (const auto& row : rows) {
    for (const auto& [c, v] : row) ++count[c];
  }
  struct Pivot {
    std::int64_t col;
    SparseRow row;
    Rational rhs;
  };
  std::vector<Pivot> piv;
  std::unordered_map<std::int64_t, std::size_t> pivot_of_col;
  auto axpy = [](SparseRow& y, const Rational& f, const SparseRow& x) {  // y -= f x
    for (const auto& [k, v] : x) {
      auto [it, inserted] = y.try_emplace(k, 0);
      it->second -= f * v;
      if (it->second == 0) y.erase(it);
    }
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SparseRow row = rows[i];
    Rational b = rhs[i];
    std::vector<std::int64_t> hit;
    for (const auto& [c, v] : row) {
      if (pivot_of_col.count(c) != 0) hit.push_back(c);
    }
    for (std::int64_t c : hit) {
      const Pivot& p = piv[pivot_of_col[c]];
      const Rational f = row.at(c);
      axpy(row, f, p.row);
      b -= f * p.rhs;
    }
    if (row.empty()) {
      if (b != 0) return std::nullopt;
      continue;
    }
    std::int64_t q = row.begin()->first;
    for (const auto& [c, v] : row) {
      if (count[c] < count[q]) q = c;
    }
    const Rational inv = 1 / row.at(q);
    for (auto& [c, v] : row) v *= inv;
    b *= inv;
    for (auto& p : piv) {
      auto it = p.row.find(q);
      if (it == p.row.end()) continue;
      const Rational f = it->second;
      axpy(p.row, f, row);
      p.rhs -= f * b;
    }
    pivot_of_col[q] = piv.size();
    piv.push_back({q, std::move(row), std::move(b)});
  }
  std::vector<Rational> x = x0;
  for (const auto& p : piv) {
    Rational s = p.rhs;
    for (const auto& [k, v] : p.row) {
      if (k != p.col) s -= v * x0[k];
    }
    x[p.col] = s;
  }
  return x;
}

/** An LP in GLPK: rows are sparse (double), each row fixed at 0 or bounded below. */
struct GlpkDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

enum class LpStatus { kFeasible, kInfeasible };

/** Feasibility LP with free or nonnegative columns; the solution in *x when feasible. */
LpStatus solve_lp(std::int64_t num_cols, const std::vector<bool>& col_nonneg,
                  const std::vector<std::vector<std::pair<std::int64_t, double>>>& rows,
                  const std::vector<int>& row_type, const std::vector<double>& row_bound,
                  std::vector<double>* x, std::vector<bool>* basic = nullptr,
                  bool exact_basis = false) {
  glp_term_out(GLP_OFF);
  std::unique_ptr<glp_prob, GlpkDeleter> lp(glp_create_prob());
  glp_set_obj_dir(lp.get(), GLP_MIN);
  glp_add_cols(lp.get(), static_cast<int>(num_cols));
  for (std::int64_t c = 0; c < num_cols; ++c) {
    glp_set_col_bnds(lp.get(), static_cast<int>(c + 1), col_nonneg[c] ? GLP_LO : GLP_FR, 0.0, 0.0);
  }
  glp_add_rows(lp.get(), static_cast<int>(rows.size()));
  std::vector<int> ind;
  std::vector<double> val;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int gi = static_cast<int>(i + 1);
    glp_set_row_bnds(lp.get(), gi, row_type[i], row_bound[i], row_bound[i]);
    ind.assign(1, 0);
    val.assign(1, 0.0);
    for (const auto& [c, v] : rows[i]) {
      ind.push_back(static_cast<int>(c + 1));
      val.push_back(v);
    }
    glp_set_mat_row(lp.get(), gi, static_cast<int>(ind.size() - 1), ind.data(), val.data());
  }
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.presolve = GLP_ON;
  parm.msg_lev = GLP_MSG_OFF;
  const int ret = glp_simplex(lp.get(), &parm);
  if (ret == GLP_ENOPFS) return LpStatus::kInfeasible;
  if (ret != 0) {
    throw InternalError("separability LP: glp_simplex failed, got return code " +
                        std::to_string(ret));
  }
  if (exact_basis) {
    // Re-solve from the final basis in GLPK's rational arithmetic (the inputs are dyadic doubles,
    // so exact): the basis it ends on is exactly feasible. Warm-started, this is cheap.
    glp_smcp eparm;
    glp_init_smcp(&eparm);
    eparm.msg_lev = GLP_MSG_OFF;
    const int eret = glp_exact(lp.get(), &eparm);
    if (eret != 0) {
      throw InternalError("separability LP: glp_exact failed, got return code " +
                          std::to_string(eret));
    }
  }
  const int status = glp_get_status(lp.get());
  if (status == GLP_NOFEAS) return LpStatus::kInfeasible;
  if (status != GLP_OPT && status != GLP_FEAS) {
    throw InternalError("separability LP: unexpected GLPK status, got " + std::to_string(status));
  }
  x->resize(static_cast<std::size_t>(num_cols));
  for (std::int64_t c = 0; c < num_cols; ++c) {
    (*x)[c] = glp_get_col_prim(lp.get(), static_cast<int>(c + 1));
  }
  if (basic != nullptr) {
    basic->assign(static_cast<std::size_t>(num_cols), false);
    for (std::int64_t c = 0; c < num_cols; ++c) {
      (*basic)[c] = glp_get_col_stat(lp.get(), static_cast<int>(c + 1)) == GLP_BS;
    }
  }
  return LpStatus::kFeasible;
}

std::vector<std::pair<std::int64_t, double>> to_double(const SparseRow& row) {
  std::vector<std::pair<std::int64_t, double>> out;
  out.reserve(row.size());
  for (const auto& [c, v] : row) out.emplace_back(c, rational_to_double(v));
  return out;
}

}  // namespace

SeparabilityResult decide_separability(const InstanceData& data) {
  const auto t_start = Clock::now();
  SeparabilityResult res;
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  res.unknowns_w = V * d;
  std::vector<std::vector<std::int32_t>> supp(static_cast<std::size_t>(m));
  for (std::int64_t j = 0; j < m; ++j) {
    supp[j] = sorted_support(data.contexts[j]);
    const bool tokens_ok = !supp[j].empty() && supp[j].front() >= 0 && supp[j].back() < V &&
                           std::adjacent_find(supp[j].begin(), supp[j].end()) == supp[j].end();
    if (!tokens_ok || static_cast<std::int64_t>(data.contexts[j].embedding.size()) != d) {
      throw InvalidInput("separability: contexts[" + std::to_string(j) +
                         "] has an invalid support or embedding size (validate the instance)");
    }
    res.lp_equalities += static_cast<std::int64_t>(supp[j].size()) - 1;
    res.lp_inequalities += V - static_cast<std::int64_t>(supp[j].size());
  }

  // 1. Exact reduction: RREF of Hbar (d x m) gives the basis contexts B and C (r x m) with
  //    h_k = sum_i C[i][k] h_{B_i}.
  auto t0 = Clock::now();
  std::vector<std::vector<Rational>> hb(static_cast<std::size_t>(d),
                                        std::vector<Rational>(static_cast<std::size_t>(m)));
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t k = 0; k < d; ++k) hb[k][j] = data.contexts[j].embedding[k];
  }
  const std::vector<std::int64_t> basis = gauss_jordan(hb, m);
  const auto r = static_cast<std::int64_t>(basis.size());
  hb.resize(static_cast<std::size_t>(r));  // C = the first r rows
  const std::vector<std::vector<Rational>>& coef = hb;
  res.rank = r;
  res.lp_columns = V * r;
  // [H_B^T | I_r] -> [RREF | T]: its pivot columns I (r independent embedding coordinates) and
  // T = (H_B[I, :]^T)^{-1}, so W[:, I] = L_B T^T and W = 0 elsewhere gives W H_B = L_B.
  std::vector<std::vector<Rational>> ht(static_cast<std::size_t>(r),
                                        std::vector<Rational>(static_cast<std::size_t>(d + r)));
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t k = 0; k < d; ++k) ht[i][k] = data.contexts[basis[i]].embedding[k];
    ht[i][d + i] = 1;
  }
  const std::vector<std::int64_t> coords = gauss_jordan(ht, d);
  res.seconds_reduction = seconds_since(t0);
  if (static_cast<std::int64_t>(coords.size()) != r) {
    throw InternalError("separability: exact rank of H_B, got " + std::to_string(coords.size()) +
                        " for " + std::to_string(r));
  }

  auto finish = [&]() {
    res.seconds_total = seconds_since(t_start);
    return res;
  };

  if (res.lp_inequalities == 0) {  // (6b) is empty: W = 0 meets (6a)
    res.verdict = SeparabilityVerdict::kHolds;
    res.certificate.kind = SeparabilityCertificateKind::kWitness;
    res.certificate.w.assign(static_cast<std::size_t>(V * d), Rational(0));
    res.min_margin = 0;
    return finish();
  }

  if (r == 0) {
    // Every embedding is 0, so every logit is 0 and a (6b) row reads 0 >= 1: infeasible. The
    // Farkas certificate is y = 1 on one (6b) row, whose matrix (e_z - e_v) h_j^T is 0. (GLPK would
    // be given an LP without columns, which it refuses by aborting.)
    for (std::int64_t j = 0; j < m && res.certificate.inequality_multipliers.empty(); ++j) {
      const auto& sj = supp[static_cast<std::size_t>(j)];
      for (std::int32_t v = 0; v < V; ++v) {
        if (std::find(sj.begin(), sj.end(), v) != sj.end()) continue;
        res.certificate.inequality_multipliers.push_back({j, sj.front(), v, Rational(1)});
        break;
      }
    }
    res.verdict = SeparabilityVerdict::kViolated;
    res.certificate.kind = SeparabilityCertificateKind::kFarkas;
    std::string why;
    if (!verify_separability_certificate(data, res.certificate, &why)) {
      throw InternalError("separability: the zero-embedding Farkas certificate, got " + why);
    }
    return finish();
  }

  // 2. The LP in L_B (V x r, variable (v, i) at v*r + i). Anchor a_j = min S_j.
  std::vector<SparseRow> eq_rows, ineq_rows;
  struct RowId {
    std::int64_t j;
    std::int32_t z, v;
  };
  std::vector<RowId> eq_id, ineq_id;
  for (std::int64_t j = 0; j < m; ++j) {
    const std::int32_t a = supp[j].front();
    auto pair_row = [&](std::int32_t plus, std::int32_t minus) {
      SparseRow row;
      for (std::int64_t i = 0; i < r; ++i) {
        const Rational& c = coef[i][j];
        if (c == 0) continue;
        row[plus * r + i] += c;
        row[minus * r + i] -= c;
      }
      return row;
    };
    for (std::size_t t = 1; t < supp[j].size(); ++t) {  // (6a): (e_z - e_a)^T L c_j = 0
      eq_rows.push_back(pair_row(supp[j][t], a));
      eq_id.push_back({j, supp[j][t], a});
    }
    std::size_t t = 0;
    for (std::int32_t v = 0; v < V; ++v) {  // (6b): (e_a - e_v)^T L c_j >= 1
      if (t < supp[j].size() && supp[j][t] == v) {
        ++t;
        continue;
      }
      ineq_rows.push_back(pair_row(a, v));
      ineq_id.push_back({j, a, v});
    }
  }
  const std::int64_t n = V * r;
  constexpr double kMarginRhs = 2.0;  // (6b) asked with 2, so rounding leaves slack
  t0 = Clock::now();
  std::vector<std::vector<std::pair<std::int64_t, double>>> lp_rows;
  std::vector<int> row_type;
  std::vector<double> row_bound;
  for (const auto& row : eq_rows) {
    lp_rows.push_back(to_double(row));
    row_type.push_back(GLP_FX);
    row_bound.push_back(0.0);
  }
  for (const auto& row : ineq_rows) {
    lp_rows.push_back(to_double(row));
    row_type.push_back(GLP_LO);
    row_bound.push_back(kMarginRhs);
  }
  auto all_finite = [](const std::vector<std::vector<std::pair<std::int64_t, double>>>& rows) {
    for (const auto& row : rows) {
      for (const auto& e : row) {
        if (!std::isfinite(e.second)) return false;
      }
    }
    return true;
  };
  if (!all_finite(lp_rows)) {
    res.verdict = SeparabilityVerdict::kInconclusive;
    res.reason = "an LP coefficient (of h_k in the basis contexts) is beyond the double range";
    return finish();
  }
  std::vector<double> xf;
  const LpStatus primal = solve_lp(n, std::vector<bool>(static_cast<std::size_t>(n), false),
                                   lp_rows, row_type, row_bound, &xf);
  res.seconds_lp = seconds_since(t0);

  if (primal == LpStatus::kFeasible) {
    // 3. Exact witness.
    t0 = Clock::now();
    std::vector<Rational> x0(static_cast<std::size_t>(n));
    for (std::int64_t c = 0; c < n; ++c) x0[c] = rational_from_double(xf[c]);
    auto x = solve_near(eq_rows, std::vector<Rational>(eq_rows.size(), Rational(0)), x0);
    if (!x) {
      res.verdict = SeparabilityVerdict::kInconclusive;
      res.reason = "exact repair of (6a) failed: homogeneous system reported inconsistent";
      res.seconds_exact = seconds_since(t0);
      return finish();
    }
    std::vector<Rational> w(static_cast<std::size_t>(V * d), Rational(0));
    for (std::int64_t v = 0; v < V; ++v) {
      for (std::int64_t a = 0; a < r; ++a) {
        Rational s = 0;
        for (std::int64_t i = 0; i < r; ++i) {
          const Rational& t = ht[a][d + i];
          if (t != 0) s += (*x)[v * r + i] * t;
        }
        w[v * d + coords[a]] = s;
      }
    }
    // Smallest (6b) value, from the exact logits L_B c_j.
    std::optional<Rational> gmin;
    for (std::size_t q = 0; q < ineq_rows.size(); ++q) {
      Rational g = 0;
      for (const auto& [c, val] : ineq_rows[q]) g += val * (*x)[c];
      if (!gmin || g < *gmin) gmin = g;
    }
    if (*gmin <= 0) {
      res.verdict = SeparabilityVerdict::kInconclusive;
      res.reason = "exact repair of (6a) lost (6b): smallest margin " +
                   rational_to_decimal(*gmin, 6) + " <= 0";
      res.seconds_exact = seconds_since(t0);
      return finish();
    }
    if (*gmin < 1) {  // (6a) is homogeneous: scaling by 1/g restores (6b) >= 1 exactly
      const Rational s = 1 / *gmin;
      for (auto& e : w) e *= s;
      *gmin = 1;
    }
    res.certificate.kind = SeparabilityCertificateKind::kWitness;
    res.certificate.w = std::move(w);
    res.min_margin = *gmin;
    std::string why;
    if (verify_separability_certificate(data, res.certificate, &why)) {
      res.verdict = SeparabilityVerdict::kHolds;
    } else {
      res.verdict = SeparabilityVerdict::kInconclusive;
      res.reason = "witness W failed exact verification: " + why;
    }
    res.seconds_exact = seconds_since(t0);
    return finish();
  }

  // 4. Farkas: columns y (one per (6b) row, >= 0) then u (one per (6a) row, free); rows: the V*d
  //    entries of sum y (e_a - e_v) h_j^T + sum u (e_z - e_a) h_j^T = 0, then sum y = 1. Written in
  //    W-space (entries of h, small dyadics) rather than with the coefficients C (ratios of
  //    minors): smaller numbers in the exact repair, and the equalities are those the verifier
  //    checks.
  const auto ny = static_cast<std::int64_t>(ineq_rows.size());
  const auto nu = static_cast<std::int64_t>(eq_rows.size());
  const std::int64_t nd = V * d;
  std::vector<SparseRow> dual_rows(static_cast<std::size_t>(nd + 1));
  auto add_pair = [&](std::int64_t q, const RowId& id) {
    const auto& h = data.contexts[id.j].embedding;
    for (std::int64_t k = 0; k < d; ++k) {
      if (h[k] == 0) continue;
      dual_rows[id.z * d + k][q] += h[k];
      dual_rows[id.v * d + k][q] -= h[k];
    }
  };
  for (std::int64_t q = 0; q < ny; ++q) {
    add_pair(q, ineq_id[q]);
    dual_rows[nd][q] = 1;
  }
  for (std::int64_t q = 0; q < nu; ++q) add_pair(ny + q, eq_id[q]);
  std::vector<double> dual_rhs(static_cast<std::size_t>(nd + 1), 0.0);
  dual_rhs[nd] = 1.0;
  t0 = Clock::now();
  lp_rows.clear();
  for (const auto& row : dual_rows) lp_rows.push_back(to_double(row));
  std::vector<bool> nonneg(static_cast<std::size_t>(ny + nu), false);
  std::fill(nonneg.begin(), nonneg.begin() + ny, true);
  res.farkas_lp_rows = nd + 1;
  res.farkas_lp_columns = ny + nu;
  std::vector<double> yf;
  const LpStatus dual =
      solve_lp(ny + nu, nonneg, lp_rows, std::vector<int>(static_cast<std::size_t>(nd + 1), GLP_FX),
               dual_rhs, &yf);
  res.seconds_lp += seconds_since(t0);
  t0 = Clock::now();
  if (dual != LpStatus::kFeasible) {
    res.verdict = SeparabilityVerdict::kInconclusive;
    res.reason = "GLPK found both the separability LP and its Farkas alternative infeasible";
    res.seconds_exact = seconds_since(t0);
    return finish();
  }
  // Keep y_q > threshold (the active multipliers) and every u; the other columns are set to 0.
  // Solve the equalities exactly on those columns and check y >= 0; if a near-zero y became a
  // negative pivot, retry with a larger threshold.
  std::optional<std::vector<Rational>> z;
  // First the nonzero u only (a vertex has its nonbasic u at 0; fewer columns, less fill-in),
  // then every u.
  // Last, when every threshold fails (a degenerate vertex: the kept columns leave freedom and the
  // nearest exact solution leaves y >= 0): the columns of a basis that GLPK's exact simplex proves
  // feasible; on them the equalities have exactly one solution, that vertex, so y >= 0 exactly.
  struct Attempt {
    double threshold;
    bool all_u;
    bool exact_basis;
  };
  for (const Attempt at :
       {Attempt{1e-12, false, false}, Attempt{1e-12, true, false}, Attempt{1e-9, true, false},
        Attempt{1e-6, true, false}, Attempt{0, true, true}}) {
    const double threshold = at.threshold;
    std::vector<bool> basic;
    if (at.exact_basis) {
      t0 = Clock::now();
      if (solve_lp(ny + nu, nonneg, lp_rows,
                   std::vector<int>(static_cast<std::size_t>(nd + 1), GLP_FX), dual_rhs, &yf,
                   &basic, true) != LpStatus::kFeasible) {
        res.reason = "GLPK's exact simplex found the Farkas alternative infeasible";
        break;
      }
      res.seconds_lp += seconds_since(t0);
      t0 = Clock::now();
    }
    std::vector<Rational> z0(static_cast<std::size_t>(ny + nu), Rational(0));
    std::vector<bool> keep(static_cast<std::size_t>(ny + nu), true);
    for (std::int64_t q = 0; q < ny + nu; ++q) {
      if (at.exact_basis ? !basic[q]
                         : ((q < ny && !(yf[q] > threshold)) ||
                            (q >= ny && !at.all_u && !(std::abs(yf[q]) > threshold)))) {
        keep[q] = false;
      } else {
        z0[q] = rational_from_double(yf[q]);
      }
    }
    std::vector<SparseRow> kept_rows;
    std::vector<Rational> kept_rhs;
    for (std::int64_t c = 0; c <= nd; ++c) {
      SparseRow row;
      for (const auto& [q, val] : dual_rows[c]) {
        if (keep[q]) row.emplace(q, val);
      }
      kept_rows.push_back(std::move(row));
      kept_rhs.emplace_back(c == nd ? 1 : 0);
    }
    z = solve_near(kept_rows, kept_rhs, z0);
    if (!z) {
      res.reason =
          "exact Farkas repair failed: the equalities on the active multipliers are "
          "inconsistent (" +
          (at.exact_basis ? std::string("exact basis") : "threshold " + std::to_string(threshold)) +
          ")";
      continue;
    }
    const auto neg =
        std::find_if(z->begin(), z->begin() + ny, [](const Rational& y) { return y < 0; });
    if (neg != z->begin() + ny) {
      res.reason =
          "exact Farkas repair gave a negative multiplier on (6b) row " +
          std::to_string(neg - z->begin()) + " (" +
          (at.exact_basis ? std::string("exact basis") : "threshold " + std::to_string(threshold)) +
          ")";
      z.reset();
      continue;
    }
    res.reason.clear();
    break;
  }
  if (!z) {
    res.verdict = SeparabilityVerdict::kInconclusive;
    res.seconds_exact = seconds_since(t0);
    return finish();
  }
  auto& cert = res.certificate;
  cert.kind = SeparabilityCertificateKind::kFarkas;
  for (std::int64_t q = 0; q < ny + nu; ++q) {
    if ((*z)[q] == 0) continue;
    const RowId& id = q < ny ? ineq_id[q] : eq_id[q - ny];
    auto& list = q < ny ? cert.inequality_multipliers : cert.equality_multipliers;
    list.push_back({id.j, id.z, id.v, (*z)[q]});
  }
  std::string why;
  if (verify_separability_certificate(data, cert, &why)) {
    res.verdict = SeparabilityVerdict::kViolated;
  } else {
    res.verdict = SeparabilityVerdict::kInconclusive;
    res.reason = "Farkas certificate failed exact verification: " + why;
  }
  res.seconds_exact = seconds_since(t0);
  return finish();
}

bool verify_separability_certificate(const InstanceData& data,
                                     const SeparabilityCertificate& certificate, std::string* why) {
  auto fail = [&](const std::string& msg) {
    if (why != nullptr) *why = msg;
    return false;
  };
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  std::vector<std::vector<std::int32_t>> supp(static_cast<std::size_t>(m));
  for (std::int64_t j = 0; j < m; ++j) {
    supp[j] = sorted_support(data.contexts[j]);
    if (supp[j].empty() || supp[j].front() < 0 || supp[j].back() >= V) {
      return fail("context " + std::to_string(j) + " has an empty or out-of-range support");
    }
    if (static_cast<std::int64_t>(data.contexts[j].embedding.size()) != d) {
      return fail("context " + std::to_string(j) + " has an embedding of the wrong size");
    }
  }

  if (certificate.kind == SeparabilityCertificateKind::kWitness) {
    const auto& w = certificate.w;
    if (static_cast<std::int64_t>(w.size()) != V * d) {
      return fail("witness W has " + std::to_string(w.size()) +
                  " entries, expected V*d = " + std::to_string(V * d));
    }
    std::vector<Rational> logit(static_cast<std::size_t>(V));
    for (std::int64_t j = 0; j < m; ++j) {
      const auto& h = data.contexts[j].embedding;
      for (std::int64_t v = 0; v < V; ++v) {  // l_j = W h_j, exactly
        Rational s = 0;
        for (std::int64_t k = 0; k < d; ++k) {
          if (h[k] != 0 && w[v * d + k] != 0) s += w[v * d + k] * h[k];
        }
        logit[v] = std::move(s);
      }
      const Rational& c = logit[supp[j].front()];
      for (std::int32_t z : supp[j]) {  // (6a): (e_z - e_a)^T W h_j == 0
        if (logit[z] != c) {
          return fail("(6a) fails: context " + std::to_string(j) + " tokens " + std::to_string(z) +
                      " and " + std::to_string(supp[j].front()) + " have different logits");
        }
      }
      for (std::int32_t v = 0; v < V; ++v) {  // (6b): c_j - l_{j,v} >= 1
        if (in_sorted(supp[j], v)) continue;
        if (c - logit[v] < 1) {
          return fail("(6b) fails: context " + std::to_string(j) + " token " + std::to_string(v) +
                      " margin " + rational_to_decimal(c - logit[v], 6) + " < 1");
        }
      }
    }
    return true;
  }

  if (certificate.kind == SeparabilityCertificateKind::kFarkas) {
    // coef[j][t]: coefficient of e_t in the V-vector multiplying h_j^T.
    std::vector<std::map<std::int32_t, Rational>> coef(static_cast<std::size_t>(m));
    Rational ysum = 0;
    for (int pass = 0; pass < 2; ++pass) {
      const bool ineq = pass == 0;
      const auto& list =
          ineq ? certificate.inequality_multipliers : certificate.equality_multipliers;
      for (std::size_t q = 0; q < list.size(); ++q) {
        const auto& mu = list[q];
        const std::string where =
            std::string(ineq ? "(6b)" : "(6a)") + " multiplier " + std::to_string(q);
        if (mu.context < 0 || mu.context >= m) return fail(where + ": context out of range");
        if (mu.z < 0 || mu.z >= V || mu.v < 0 || mu.v >= V) {
          return fail(where + ": token out of range");
        }
        const auto& s = supp[mu.context];
        if (!in_sorted(s, mu.z)) return fail(where + ": z not in S_j");
        if (ineq && in_sorted(s, mu.v)) return fail(where + ": v in S_j");
        if (!ineq && (!in_sorted(s, mu.v) || mu.z == mu.v)) {
          return fail(where + ": v not another token of S_j");
        }
        if (ineq) {
          if (mu.value < 0) return fail(where + ": negative");
          ysum += mu.value;
        }
        coef[mu.context][mu.z] += mu.value;
        coef[mu.context][mu.v] -= mu.value;
      }
    }
    if (!(ysum > 0)) return fail("the (6b) multipliers sum to 0");
    // sum_j coef_j h_j^T == 0: row t of the V x d matrix is sum_j coef_j[t] h_j.
    std::map<std::int32_t, std::vector<Rational>> rows;
    for (std::int64_t j = 0; j < m; ++j) {
      const auto& h = data.contexts[j].embedding;
      for (const auto& [t, cv] : coef[j]) {
        if (cv == 0) continue;
        auto [it, inserted] = rows.try_emplace(t, static_cast<std::size_t>(d), Rational(0));
        for (std::int64_t k = 0; k < d; ++k) {
          if (h[k] != 0) it->second[k] += cv * h[k];
        }
      }
    }
    for (const auto& [t, row] : rows) {
      for (std::int64_t k = 0; k < d; ++k) {
        if (row[k] != 0) {
          return fail("the combination is not zero at entry (" + std::to_string(t) + ", " +
                      std::to_string(k) + ")");
        }
      }
    }
    return true;
  }
  return fail("certificate has kind none");
}

}  // namespace ntp
