#include "ntp/max_margin.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include "ntp/errors.hpp"
#include "ntp/flint_linalg.hpp"
#include "ntp/token_rows.hpp"

namespace ntp {

std::string to_string(MaxMarginStatus s) {
  switch (s) {
    case MaxMarginStatus::kProven:
      return "proven";
    case MaxMarginStatus::kNotSeparable:
      return "not_separable";
    case MaxMarginStatus::kTooLarge:
      return "too_large";
    case MaxMarginStatus::kInconclusive:
      return "inconclusive";
  }
  return "unknown";
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/**
 * Goldfarb-Idnani dual active-set method for  min 1/2 ||w||^2  s.t.  N_e^T w = 0, N_i^T w >= 1,
 * with the identity Hessian (so the method's J matrix is the Q factor of the active normals).
 * Columns 0..num_eq-1 of `normals` are the equalities, the rest the inequalities.
 */
class DualActiveSet {
 public:
  DualActiveSet(const Eigen::MatrixXd& normals, Eigen::Index num_eq)
      : n_(normals), num_eq_(num_eq), dim_(normals.rows()) {
    const Eigen::Index cap = std::min(dim_, normals.cols()) + 1;
    q_mat_.setZero(dim_, cap);
    r_mat_.setZero(cap, cap);
    u_.setZero(cap);
    w_.setZero(dim_);
    norms_ = normals.colwise().norm().transpose();
  }

  /** Runs to the optimum; false (with reason) if the float QP looks infeasible or stalls. */
  bool solve(std::int64_t max_iterations, std::string* why) {
    for (Eigen::Index e = 0; e < num_eq_; ++e) {
      Eigen::VectorXd z;
      Eigen::VectorXd c;
      project(n_.col(e), &z, &c);
      if (z.norm() > kDependence * std::max(norms_(e), 1e-300)) append(e, z, c, 0.0);
    }
    const Eigen::Index num_in = n_.cols() - num_eq_;
    while (iterations_ < max_iterations) {
      // The most violated inequality (scaled by its norm), among the inactive ones.
      Eigen::Index p = -1;
      double worst = -kViolation;
      const Eigen::VectorXd s = n_.rightCols(num_in).transpose() * w_;
      for (Eigen::Index k = 0; k < num_in; ++k) {
        const Eigen::Index col = num_eq_ + k;
        if (is_active(col) || norms_(col) == 0) continue;
        const double viol = (s(k) - 1.0) / norms_(col);
        if (viol < worst) {
          worst = viol;
          p = col;
        }
      }
      if (p < 0) return true;
      double up = 0;  // multiplier of the entering constraint
      for (;;) {
        ++iterations_;
        if (iterations_ > max_iterations) break;
        Eigen::VectorXd z;
        Eigen::VectorXd c;
        project(n_.col(p), &z, &c);
        const Eigen::VectorXd r =
            q_ > 0 ? Eigen::VectorXd(
                         r_mat_.topLeftCorner(q_, q_).triangularView<Eigen::Upper>().solve(c))
                   : Eigen::VectorXd();
        const double sp = n_.col(p).dot(w_) - 1.0;
        const double inf = std::numeric_limits<double>::infinity();
        const bool full_rank_step = z.norm() > kDependence * norms_(p);
        const double t1 = full_rank_step ? -sp / z.dot(n_.col(p)) : inf;
        double t2 = inf;
        Eigen::Index drop = -1;
        for (Eigen::Index k = 0; k < q_; ++k) {
          if (active_[static_cast<std::size_t>(k)] < num_eq_) continue;  // equalities stay
          if (r(k) > 1e-14) {
            const double ratio = u_(k) / r(k);
            if (ratio < t2) {
              t2 = ratio;
              drop = k;
            }
          }
        }
        if (t1 == inf && t2 == inf) {
          if (why) *why = "the float QP is infeasible (a (6b) row depends on the active rows)";
          return false;
        }
        const double t = std::min(t1, t2);
        if (t1 < inf) w_ += t * z;
        if (q_ > 0) u_.head(q_) -= t * r;
        up += t;
        if (t1 <= t2) {
          append(p, z, c, up);
          break;
        }
        remove(drop);
      }
    }
    if (why) *why = "the float QP did not converge in " + std::to_string(max_iterations) + " steps";
    return false;
  }

  [[nodiscard]] const Eigen::VectorXd& w() const { return w_; }
  [[nodiscard]] std::int64_t iterations() const { return iterations_; }
  /** Active inequality columns with their multipliers. */
  [[nodiscard]] std::vector<std::pair<Eigen::Index, double>> active_inequalities() const {
    std::vector<std::pair<Eigen::Index, double>> out;
    for (Eigen::Index k = 0; k < q_; ++k) {
      const Eigen::Index col = active_[static_cast<std::size_t>(k)];
      if (col >= num_eq_) out.emplace_back(col, u_(k));
    }
    return out;
  }

 private:
  static constexpr double kDependence = 1e-10;
  static constexpr double kViolation = 1e-10;

  [[nodiscard]] bool is_active(Eigen::Index col) const {
    return std::find(active_.begin(), active_.end(), col) != active_.end();
  }

  /** z = (I - Q Q^T) v with one reorthogonalisation, c = Q^T v. */
  void project(const Eigen::VectorXd& v, Eigen::VectorXd* z, Eigen::VectorXd* c) const {
    if (q_ == 0) {
      *z = v;
      *c = Eigen::VectorXd();
      return;
    }
    const auto q = q_mat_.leftCols(q_);
    *c = q.transpose() * v;
    *z = v - q * *c;
    const Eigen::VectorXd c2 = q.transpose() * *z;
    *z -= q * c2;
    *c += c2;
  }

  void append(Eigen::Index col, const Eigen::VectorXd& z, const Eigen::VectorXd& c, double u) {
    const double rho = z.norm();
    q_mat_.col(q_) = z / rho;
    if (q_ > 0) r_mat_.col(q_).head(q_) = c;
    r_mat_(q_, q_) = rho;
    u_(q_) = u;
    active_.push_back(col);
    ++q_;
  }

  /** Removes active column k; Givens rotations restore R to triangular form. */
  void remove(Eigen::Index k) {
    for (Eigen::Index j = k; j + 1 < q_; ++j) {
      r_mat_.col(j).head(q_) = r_mat_.col(j + 1).head(q_);
      u_(j) = u_(j + 1);
    }
    active_.erase(active_.begin() + k);
    const Eigen::Index cols = q_ - 1;
    for (Eigen::Index i = k; i < cols; ++i) {
      const double a = r_mat_(i, i);
      const double b = r_mat_(i + 1, i);
      const double h = std::hypot(a, b);
      if (h == 0) continue;
      const double c = a / h;
      const double s = b / h;
      for (Eigen::Index j = i; j < cols; ++j) {
        const double x = r_mat_(i, j);
        const double y = r_mat_(i + 1, j);
        r_mat_(i, j) = c * x + s * y;
        r_mat_(i + 1, j) = -s * x + c * y;
      }
      const Eigen::VectorXd qi = q_mat_.col(i);
      const Eigen::VectorXd qn = q_mat_.col(i + 1);
      q_mat_.col(i) = c * qi + s * qn;
      q_mat_.col(i + 1) = -s * qi + c * qn;
    }
    r_mat_.row(cols).setZero();
    r_mat_.col(cols).setZero();
    q_mat_.col(cols).setZero();
    q_ = cols;
  }

  const Eigen::MatrixXd& n_;
  Eigen::Index num_eq_;
  Eigen::Index dim_;
  Eigen::MatrixXd q_mat_;
  Eigen::MatrixXd r_mat_;
  Eigen::VectorXd u_;
  Eigen::VectorXd w_;
  Eigen::VectorXd norms_;
  std::vector<Eigen::Index> active_;
  Eigen::Index q_ = 0;
  std::int64_t iterations_ = 0;
};

/** Row (e_a - e_b) h_j^T as a row-major vec (index v*d + i), h in double. */
void fill_row(const Instance<double>& inst, const TokenPairRow& r,
              Eigen::Ref<Eigen::VectorXd> out) {
  out.setZero();
  const std::int64_t d = inst.d;
  for (std::int64_t i = 0; i < d; ++i) {
    const double h = inst.Hbar(i, r.context);
    out(r.a * d + i) += h;
    out(r.b * d + i) -= h;
  }
}

SeparabilityMultiplier multiplier_of(const TokenPairRow& r, const Rational& value) {
  SeparabilityMultiplier m;
  m.context = r.context;
  m.z = r.a;
  m.v = r.b;
  m.value = value;
  return m;
}

}  // namespace

MaxMarginResult compute_w_mm(const InstanceData& data, SeparabilityVerdict separable,
                             const MaxMarginOptions& options) {
  MaxMarginResult res;
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::vector<TokenPairRow> eq = equality_rows(data);
  const std::vector<TokenPairRow> in = reduced_inequality_rows(data);
  res.num_equalities = static_cast<std::int64_t>(eq.size());
  res.num_inequalities = static_cast<std::int64_t>(in.size());
  if (separable != SeparabilityVerdict::kHolds) {
    res.status = MaxMarginStatus::kNotSeparable;
    res.reason = "NTP-separability (6) is not proven, so W^mm is not defined";
    return res;
  }
  const std::int64_t num_rows = res.num_equalities + res.num_inequalities;
  if (num_rows > options.max_rows) {
    res.status = MaxMarginStatus::kTooLarge;
    res.reason = "too large: " + std::to_string(num_rows) + " (6a) and (6b) rows (limit " +
                 std::to_string(options.max_rows) + ")";
    return res;
  }
  if (num_rows * V * d > options.max_dense_entries) {
    res.status = MaxMarginStatus::kTooLarge;
    res.reason = "the dense float QP would hold " + std::to_string(num_rows) + " x " +
                 std::to_string(V * d) + " entries (limit " +
                 std::to_string(options.max_dense_entries) + ")";
    return res;
  }
  // 1. Float QP.
  auto t0 = std::chrono::steady_clock::now();
  const Instance<double> inst = to_scalar<double>(data);
  Eigen::MatrixXd normals(V * d, num_rows);
  for (std::int64_t k = 0; k < res.num_equalities; ++k) {
    fill_row(inst, eq[static_cast<std::size_t>(k)], normals.col(k));
  }
  for (std::int64_t k = 0; k < res.num_inequalities; ++k) {
    fill_row(inst, in[static_cast<std::size_t>(k)], normals.col(res.num_equalities + k));
  }
  DualActiveSet qp(normals, res.num_equalities);
  std::string why;
  const bool qp_ok = qp.solve(50 * (num_rows + 10), &why);
  res.qp_iterations = qp.iterations();
  res.seconds_qp = seconds_since(t0);
  std::set<std::int64_t> active;  // indices into `in`
  if (qp_ok) {
    for (const auto& [col, u] : qp.active_inequalities()) {
      if (u > 0) active.insert(col - res.num_equalities);
    }
    const Eigen::VectorXd s = normals.rightCols(res.num_inequalities).transpose() * qp.w();
    for (Eigen::Index k = 0; k < s.size(); ++k) {
      res.qp_max_violation = std::max(res.qp_max_violation, 1.0 - s(k));
    }
  }
  // 2. Exact KKT on the active set, refined by single add / drop steps.
  t0 = std::chrono::steady_clock::now();
  const ScaledEmbeddings emb = scale_embeddings(data);
  const BigInt unit = emb.scale * emb.scale;  // logits_int = unit * den * logits
  bool done = false;
  for (int it = 0; it < options.max_refinements && !done; ++it) {
    ++res.exact_refinements;
    std::vector<TokenPairRow> rows = eq;
    std::vector<std::int64_t> which(eq.size(), -1);  // -1: equality; else index into `in`
    for (std::int64_t k : active) {
      rows.push_back(in[static_cast<std::size_t>(k)]);
      which.push_back(k);
    }
    const IntegerMatrix gram = row_gram(emb, rows);
    const std::vector<std::int64_t> idx = independent_rows_of_gram(gram);
    res.kkt_size = static_cast<std::int64_t>(idx.size());
    IntegerMatrix rhs(static_cast<std::int64_t>(idx.size()), 1);
    for (std::size_t k = 0; k < idx.size(); ++k) {
      if (which[static_cast<std::size_t>(idx[k])] >= 0) rhs(static_cast<std::int64_t>(k), 0) = unit;
    }
    const auto sol = solve_exact(principal_submatrix(gram, idx), rhs);
    if (!sol) {
      res.reason = "the exact KKT system is singular (unlucky selection prime)";
      break;
    }
    std::vector<BigInt> coeff(rows.size(), BigInt(0));
    for (std::size_t k = 0; k < idx.size(); ++k) {
      coeff[static_cast<std::size_t>(idx[k])] = sol->x(static_cast<std::int64_t>(k), 0);
    }
    // Most negative (6b) multiplier (all share the positive denominator sol->den).
    std::int64_t neg = -1;
    for (std::size_t k = eq.size(); k < rows.size(); ++k) {
      if (coeff[k] < 0 && (neg < 0 || coeff[k] < coeff[static_cast<std::size_t>(neg)])) {
        neg = static_cast<std::int64_t>(k);
      }
    }
    if (neg >= 0) {
      active.erase(which[static_cast<std::size_t>(neg)]);
      continue;
    }
    const IntegerMatrix w_num = combine_rows(emb, rows, coeff, V);  // W = w_num / (den scale)
    const IntegerMatrix logits = integer_logits(w_num, emb);        // = den scale^2 (W h_j)
    const BigInt one = sol->den * unit;
    bool eq_ok = true;
    for (const TokenPairRow& r : eq) {
      if (logits(r.a, r.context) != logits(r.b, r.context)) eq_ok = false;
    }
    if (!eq_ok) {
      res.reason = "the exact KKT solution violates (6a) (unlucky selection prime)";
      break;
    }
    // Most violated (6b) row, compared as value / one < 1.
    std::int64_t worst = -1;
    BigInt worst_value;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const TokenPairRow& r = in[k];
      const BigInt value = logits(r.a, r.context) - logits(r.b, r.context);
      if (value < one && (worst < 0 || value < worst_value)) {
        worst = static_cast<std::int64_t>(k);
        worst_value = value;
      }
    }
    if (worst >= 0) {
      if (active.count(worst) > 0) {
        res.reason = "an active (6b) row is below 1 after the exact solve";
        break;
      }
      active.insert(worst);
      continue;
    }
    // KKT point: build the certificate.
    for (std::size_t k = 0; k < rows.size(); ++k) {
      if (coeff[k] == 0) continue;
      const Rational value(coeff[k], sol->den);
      if (k < eq.size()) {
        res.certificate.equality_multipliers.push_back(multiplier_of(rows[k], value));
      } else {
        res.certificate.inequality_multipliers.push_back(multiplier_of(rows[k], value));
      }
    }
    done = true;
  }
  res.seconds_exact = seconds_since(t0);
  if (!done) {
    res.status = MaxMarginStatus::kInconclusive;
    if (res.reason.empty()) {
      res.reason = qp_ok ? "no verified KKT point after " +
                               std::to_string(options.max_refinements) + " exact refinements"
                         : why;
    }
    return res;
  }
  // 3. Independent verification.
  t0 = std::chrono::steady_clock::now();
  std::string defect;
  if (!verify_max_margin_certificate(data, res.certificate, &defect, &res.w)) {
    res.status = MaxMarginStatus::kInconclusive;
    res.reason = "the exact KKT certificate failed verification: " + defect;
    res.seconds_verify = seconds_since(t0);
    return res;
  }
  res.seconds_verify = seconds_since(t0);
  res.status = MaxMarginStatus::kProven;
  res.active_set_size = static_cast<std::int64_t>(res.certificate.inequality_multipliers.size());
  res.norm_squared = 0;
  res.w_double.resize(V, d);
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational& x = res.w[static_cast<std::size_t>(v * d + i)];
      res.norm_squared += x * x;
      res.w_double(v, i) = rational_to_double(x);
    }
  }
  res.norm = std::sqrt(rational_to_double(res.norm_squared));
  res.margin = res.norm > 0 ? 1.0 / res.norm : 0.0;
  return res;
}

bool verify_max_margin_certificate(const InstanceData& data, const MaxMarginCertificate& cert,
                                   std::string* why, std::vector<Rational>* w_out) {
  auto fail = [&](const std::string& msg) {
    if (why) *why = msg;
    return false;
  };
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  auto in_support = [&](std::int64_t j, std::int32_t t) {
    const auto& s = data.contexts[static_cast<std::size_t>(j)].tokens;
    return std::find(s.begin(), s.end(), t) != s.end();
  };
  // Rows named by the multipliers; common denominator D of the multipliers.
  BigInt D = 1;
  auto check_row = [&](const SeparabilityMultiplier& mu, bool inequality, std::size_t k) {
    const std::string where = std::string(inequality ? "inequality" : "equality") +
                              "_multipliers[" + std::to_string(k) + "]";
    if (mu.context < 0 || mu.context >= m) {
      return fail(where + ": context must be in [0, " + std::to_string(m) + "), got " +
                  std::to_string(mu.context));
    }
    if (mu.z < 0 || mu.z >= V || mu.v < 0 || mu.v >= V) {
      return fail(where + ": tokens must be in [0, " + std::to_string(V) + "), got " +
                  std::to_string(mu.z) + ", " + std::to_string(mu.v));
    }
    if (!in_support(mu.context, mu.z)) return fail(where + ": z must be in S_j");
    if (inequality) {
      if (in_support(mu.context, mu.v)) return fail(where + ": v must not be in S_j");
      if (mu.value < 0)
        return fail(where + ": lambda must be >= 0, got " + rational_to_decimal(mu.value, 6));
    } else if (!in_support(mu.context, mu.v) || mu.z == mu.v) {
      return fail(where + ": an equality row needs z != v, both in S_j");
    }
    D = boost::multiprecision::lcm(D, denominator(mu.value));
    return true;
  };
  for (std::size_t k = 0; k < cert.inequality_multipliers.size(); ++k) {
    if (!check_row(cert.inequality_multipliers[k], true, k)) return false;
  }
  for (std::size_t k = 0; k < cert.equality_multipliers.size(); ++k) {
    if (!check_row(cert.equality_multipliers[k], false, k)) return false;
  }
  // Integer embeddings h_int = L h (L = lcm of the embedding denominators), recomputed here.
  BigInt L = 1;
  for (const ContextData& c : data.contexts) {
    for (const Rational& x : c.embedding) L = boost::multiprecision::lcm(L, denominator(x));
  }
  std::vector<BigInt> h(static_cast<std::size_t>(m * d));  // (j, i) at j*d + i
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational& x =
          data.contexts[static_cast<std::size_t>(j)].embedding[static_cast<std::size_t>(i)];
      h[static_cast<std::size_t>(j * d + i)] = numerator(x) * (L / denominator(x));
    }
  }
  // W_num = D L W = sum (D value) (e_z - e_v) h_int_j^T.
  std::vector<BigInt> w(static_cast<std::size_t>(V * d), BigInt(0));
  auto accumulate = [&](const SeparabilityMultiplier& mu) {
    const BigInt c = numerator(mu.value) * (D / denominator(mu.value));
    for (std::int64_t i = 0; i < d; ++i) {
      const BigInt t = c * h[static_cast<std::size_t>(mu.context * d + i)];
      w[static_cast<std::size_t>(mu.z * d + i)] += t;
      w[static_cast<std::size_t>(mu.v * d + i)] -= t;
    }
  };
  for (const auto& mu : cert.inequality_multipliers) accumulate(mu);
  for (const auto& mu : cert.equality_multipliers) accumulate(mu);
  // Logits times U = D L^2; (6a), (6b), complementary slackness.
  const BigInt U = D * L * L;
  std::vector<std::set<std::int32_t>> tight(static_cast<std::size_t>(m));
  for (const auto& mu : cert.inequality_multipliers) {
    if (mu.value > 0) tight[static_cast<std::size_t>(mu.context)].insert(mu.v);
  }
  std::vector<BigInt> logit(static_cast<std::size_t>(V));
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int64_t v = 0; v < V; ++v) {
      BigInt s = 0;
      for (std::int64_t i = 0; i < d; ++i) {
        const BigInt& hv = h[static_cast<std::size_t>(j * d + i)];
        if (hv != 0) s += w[static_cast<std::size_t>(v * d + i)] * hv;
      }
      logit[static_cast<std::size_t>(v)] = std::move(s);
    }
    const auto& support = data.contexts[static_cast<std::size_t>(j)].tokens;
    const BigInt& c = logit[static_cast<std::size_t>(support.front())];
    for (std::int32_t z : support) {
      if (logit[static_cast<std::size_t>(z)] != c) {
        return fail("(6a) fails: context " + std::to_string(j) + ", token " + std::to_string(z) +
                    " has an in-support logit different from token " +
                    std::to_string(support.front()));
      }
    }
    for (std::int32_t v = 0; v < V; ++v) {
      if (in_support(j, v)) continue;
      const BigInt gap = c - logit[static_cast<std::size_t>(v)];
      if (gap < U) {
        return fail("(6b) fails: context " + std::to_string(j) + ", token " + std::to_string(v) +
                    ": logit gap below 1");
      }
      if (gap != U && tight[static_cast<std::size_t>(j)].count(v) > 0) {
        return fail("complementary slackness fails: context " + std::to_string(j) + ", token " +
                    std::to_string(v) + " has lambda > 0 but a logit gap > 1");
      }
    }
  }
  if (w_out) {
    w_out->assign(static_cast<std::size_t>(V * d), Rational(0));
    const BigInt den = D * L;
    for (std::size_t k = 0; k < w.size(); ++k) (*w_out)[k] = Rational(w[k], den);
  }
  return true;
}

}  // namespace ntp
