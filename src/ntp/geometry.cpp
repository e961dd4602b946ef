// Reference objects of theory.md §7b: L_in, the proxy, L_mm (ADMM) and their certificates.
#include "ntp/geometry.hpp"

#include <Eigen/SVD>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "ntp/errors.hpp"
#include "ntp/rng.hpp"

namespace ntp {

namespace {

// Certificates live on this dyadic grid: sums of up to 2^12 entries of magnitude < 2^12 are then
// exact in double (53 bits), so zero column sums and a_j - 1 are exact operations.
constexpr double kGrid = 0x1.0p-40;
constexpr long double kUnitLd = 0x1.0p-64L;  // unit roundoff of x87 long double

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/** gamma_n = n u / (1 - n u) for long double (Higham's bound on n rounded operations). */
long double gamma_ld(long double n) { return n * kUnitLd / (1 - n * kUnitLd); }

/** The smallest double >= x. */
double up(long double x) {
  double d = static_cast<double>(x);
  if (static_cast<long double>(d) < x)
    d = std::nextafter(d, std::numeric_limits<double>::infinity());
  return d;
}

double grid_round(double x) { return std::nearbyint(x / kGrid) * kGrid; }
double grid_trunc(double x) { return std::trunc(x / kGrid) * kGrid; }

/** Thin SVD with rigorous bounds on what it leaves out. */
struct SvdBounds {
  Eigen::VectorXd s;
  long double residual_f = 0;    ///< >= ||A - U diag(s) V^T||_F
  long double u_norm = 0;        ///< >= ||U||_2
  long double v_norm = 0;        ///< >= ||V||_2
  long double rank_one_sum = 0;  ///< >= sum_k s_k ||u_k|| ||v_k||
  long double s_max = 0;
};

/** >= sqrt(1 + ||Q^T Q - I||_F) >= ||Q||_2, Q with orthonormal columns up to rounding. */
long double orthonormal_norm_upper(const Eigen::MatrixXd& Q) {
  const Eigen::Index n = Q.rows();
  const Eigen::Index r = Q.cols();
  long double sumsq = 0;
  for (Eigen::Index a = 0; a < r; ++a) {
    for (Eigen::Index b = a; b < r; ++b) {
      long double acc = (a == b) ? -1.0L : 0.0L;
      long double t = (a == b) ? 1.0L : 0.0L;
      for (Eigen::Index i = 0; i < n; ++i) {
        const long double p = static_cast<long double>(Q(i, a)) * Q(i, b);
        acc += p;
        t += std::fabs(p);
      }
      const long double e = std::fabs(acc) + gamma_ld(static_cast<long double>(n) + 2) * t;
      sumsq += (a == b ? 1.0L : 2.0L) * e * e;
    }
  }
  const long double f = std::sqrt(sumsq * (1 + gamma_ld(static_cast<long double>(r * r) + 4)));
  return std::sqrt((1 + f) * (1 + gamma_ld(4)));
}

SvdBounds svd_bounds(const Eigen::MatrixXd& A) {
  Eigen::BDCSVD<Eigen::MatrixXd> svd(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
  SvdBounds b;
  b.s = svd.singularValues();
  const Eigen::MatrixXd& U = svd.matrixU();
  const Eigen::MatrixXd& V = svd.matrixV();
  const Eigen::Index r = b.s.size();
  long double sumsq = 0;
  for (Eigen::Index j = 0; j < A.cols(); ++j) {
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      long double acc = A(i, j);
      long double t = std::fabs(acc);
      for (Eigen::Index k = 0; k < r; ++k) {
        const long double p = static_cast<long double>(U(i, k)) * b.s(k) * V(j, k);
        acc -= p;
        t += std::fabs(p);
      }
      const long double e = std::fabs(acc) + gamma_ld(static_cast<long double>(r) + 4) * t;
      sumsq += e * e;
    }
  }
  b.residual_f =
      std::sqrt(sumsq * (1 + gamma_ld(static_cast<long double>(A.size()) + 4))) * (1 + 4 * kUnitLd);
  b.u_norm = orthonormal_norm_upper(U);
  b.v_norm = orthonormal_norm_upper(V);
  long double sum = 0;
  for (Eigen::Index k = 0; k < r; ++k) {
    long double nu = 0;
    long double nv = 0;
    for (Eigen::Index i = 0; i < U.rows(); ++i) nu += static_cast<long double>(U(i, k)) * U(i, k);
    for (Eigen::Index i = 0; i < V.rows(); ++i) nv += static_cast<long double>(V(i, k)) * V(i, k);
    nu *= 1 + gamma_ld(static_cast<long double>(U.rows()) + 2);
    nv *= 1 + gamma_ld(static_cast<long double>(V.rows()) + 2);
    sum += static_cast<long double>(b.s(k)) * std::sqrt(nu) * std::sqrt(nv) * (1 + gamma_ld(6));
    b.s_max = std::max(b.s_max, static_cast<long double>(b.s(k)));
  }
  b.rank_one_sum = sum * (1 + gamma_ld(static_cast<long double>(r) + 2));
  return b;
}

}  // namespace

SupportPatterns support_patterns(const InstanceData& data) {
  SupportPatterns sp;
  sp.V = data.vocab_size;
  sp.m = data.num_contexts();
  sp.S = Eigen::MatrixXd::Zero(sp.V, sp.m);
  std::map<std::vector<std::int32_t>, std::int64_t> ids;
  for (std::int64_t j = 0; j < sp.m; ++j) {
    std::vector<std::int32_t> t = data.contexts[static_cast<std::size_t>(j)].tokens;
    std::sort(t.begin(), t.end());
    for (auto z : t) sp.S(z, j) = 1;
    auto [it, fresh] = ids.emplace(t, static_cast<std::int64_t>(sp.sets.size()));
    if (fresh) {
      sp.sets.push_back(t);
      sp.pattern_count.push_back(0);
    }
    sp.context_pattern.push_back(it->second);
    ++sp.pattern_count[static_cast<std::size_t>(it->second)];
  }
  // Tokens with equal rows of S (same set of patterns containing them) form one group.
  std::map<std::vector<std::int64_t>, std::int64_t> rows;
  std::vector<std::vector<std::int64_t>> member(static_cast<std::size_t>(sp.V));
  for (std::size_t p = 0; p < sp.sets.size(); ++p) {
    for (auto z : sp.sets[p])
      member[static_cast<std::size_t>(z)].push_back(static_cast<std::int64_t>(p));
  }
  for (std::int64_t v = 0; v < sp.V; ++v) {
    auto [it, fresh] = rows.emplace(member[static_cast<std::size_t>(v)],
                                    static_cast<std::int64_t>(sp.group_count.size()));
    if (fresh) sp.group_count.push_back(0);
    sp.token_group.push_back(it->second);
    ++sp.group_count[static_cast<std::size_t>(it->second)];
  }
  return sp;
}

Eigen::MatrixXd l_in_double(const InstanceData& data) { return l_in(to_scalar<double>(data)); }

Eigen::MatrixXd proxy_logits(const SupportPatterns& sp) {
  // theory.md §7b: the centred support matrix (I - 11^T/V) S.
  Eigen::MatrixXd P(sp.V, sp.m);
  for (std::int64_t j = 0; j < sp.m; ++j) {
    const double k = sp.S.col(j).sum();
    for (std::int64_t v = 0; v < sp.V; ++v) {
      P(v, j) = sp.S(v, j) > 0 ? (static_cast<double>(sp.V) - k) / static_cast<double>(sp.V)
                               : -k / static_cast<double>(sp.V);
    }
  }
  return P;
}

double spectral_norm_upper(const Eigen::MatrixXd& A) {
  if (A.size() == 0) return 0;
  const SvdBounds b = svd_bounds(A);
  // ||A||_2 <= ||U||_2 s_max ||V||_2 + ||A - U S V^T||_F
  return up((b.u_norm * b.s_max * b.v_norm + b.residual_f) * (1 + gamma_ld(4)));
}

double nuclear_norm_upper(const Eigen::MatrixXd& A) {
  if (A.size() == 0) return 0;
  const SvdBounds b = svd_bounds(A);
  // ||A||_* <= sum_k s_k ||u_k|| ||v_k|| + sqrt(rank) ||A - U S V^T||_F
  const long double r = static_cast<long double>(std::min(A.rows(), A.cols()));
  return up((b.rank_one_sum + std::sqrt(r) * (1 + 2 * kUnitLd) * b.residual_f) * (1 + gamma_ld(4)));
}

double nuclear_norm(const Eigen::MatrixXd& A) {
  if (A.size() == 0) return 0;
  Eigen::BDCSVD<Eigen::MatrixXd> svd(A);
  return svd.singularValues().sum();
}

NuclearCertificateCheck verify_nuclear_certificate(const SupportPatterns& sp,
                                                   const NuclearCertificate& c) {
  // Independent of the solver: exact feasibility in rationals, then the dual bound of
  // geometry.hpp: ||L_mm||_* >= sum(-y_off) / ||Y||_2 (theory.md §7b).
  NuclearCertificateCheck out;
  if (c.L.rows() != sp.V || c.L.cols() != sp.m || c.Y.rows() != sp.V || c.Y.cols() != sp.m) {
    out.problem = "certificate shape differs from V x m";
    return out;
  }
  out.primal_feasible = true;
  out.dual_feasible = true;
  Rational dual_sum(0);
  for (std::int64_t j = 0; j < sp.m && (out.primal_feasible || out.dual_feasible); ++j) {
    // Primal: L_{zj} = a_j on S_j and L_{vj} <= a_j - 1 off S_j, exactly.
    std::int64_t z0 = -1;
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) > 0) {
        z0 = v;
        break;
      }
    }
    const Rational a = rational_from_double(c.L(z0, j));
    Rational col(0);
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (!std::isfinite(c.L(v, j)) || !std::isfinite(c.Y(v, j))) {
        out.primal_feasible = out.dual_feasible = false;
        out.problem = "non-finite entry at (" + std::to_string(v) + ", " + std::to_string(j) + ")";
        return out;
      }
      const Rational l = rational_from_double(c.L(v, j));
      const Rational y = rational_from_double(c.Y(v, j));
      col += y;
      if (sp.S(v, j) > 0) {
        if (l != a && out.primal_feasible) {
          out.primal_feasible = false;
          out.problem = "unequal in-support logits in column " + std::to_string(j);
        }
      } else {
        if (l > a - 1 && out.primal_feasible) {
          out.primal_feasible = false;
          out.problem = "gap below 1 at (" + std::to_string(v) + ", " + std::to_string(j) + ")";
        }
        if (y > 0 && out.dual_feasible) {
          out.dual_feasible = false;
          out.problem = "positive off-support dual entry at (" + std::to_string(v) + ", " +
                        std::to_string(j) + ")";
        }
        dual_sum -= y;
      }
    }
    if (col != 0 && out.dual_feasible) {
      out.dual_feasible = false;
      out.problem = "dual column " + std::to_string(j) + " does not sum to 0";
    }
  }
  out.primal_upper = nuclear_norm_upper(c.L);
  double dv = rational_to_double(dual_sum);
  if (rational_from_double(dv) > dual_sum) dv = std::nextafter(dv, -1.0);
  out.dual_value = dv;
  out.dual_norm_upper = spectral_norm_upper(c.Y);
  if (out.dual_feasible && out.dual_norm_upper > 0) {
    const double q = out.dual_value / out.dual_norm_upper;
    out.lower = std::nextafter(q, -1.0);
  }
  out.gap = std::nextafter(out.primal_upper - out.lower, std::numeric_limits<double>::infinity());
  // 0/0 (every support full: C holds 0, and so does the bound) counts as a closed gap.
  out.relative_gap = out.lower > 0           ? out.gap / out.lower
                     : out.primal_upper <= 0 ? 0
                                             : std::numeric_limits<double>::infinity();
  return out;
}

Eigen::MatrixXd repair_dual(const SupportPatterns& sp, const Eigen::MatrixXd& Y) {
  Eigen::MatrixXd R(sp.V, sp.m);
  for (std::int64_t j = 0; j < sp.m; ++j) {
    std::int64_t z0 = -1;
    double sum = 0;  // exact: grid values of magnitude < 2^12, at most 2^12 of them
    double in_sum = 0;
    std::int64_t nin = 0;
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) > 0) {
        in_sum += Y(v, j);
        ++nin;
      }
    }
    // Spread the column-sum defect over the in-support entries first (least distortion).
    double off_sum = 0;
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) == 0) off_sum += std::min(Y(v, j), 0.0);
    }
    const double shift = (in_sum + off_sum) / static_cast<double>(nin);
    for (std::int64_t v = 0; v < sp.V; ++v) {
      double y;
      if (sp.S(v, j) > 0) {
        y = grid_round(Y(v, j) - shift);
        if (z0 < 0) {
          z0 = v;
          continue;
        }
      } else {
        y = grid_trunc(std::min(Y(v, j), 0.0));
      }
      R(v, j) = y;
      sum += y;
    }
    R(z0, j) = -sum;
  }
  return R;
}

Eigen::MatrixXd repair_primal(const SupportPatterns& sp, const Eigen::MatrixXd& L) {
  Eigen::MatrixXd R(sp.V, sp.m);
  for (std::int64_t j = 0; j < sp.m; ++j) {
    double a = 0;
    double k = 0;
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) > 0) {
        a += L(v, j);
        k += 1;
      }
    }
    a = grid_round(a / k);
    for (std::int64_t v = 0; v < sp.V; ++v) {
      R(v, j) = sp.S(v, j) > 0 ? a : std::min(grid_round(L(v, j)), a - 1.0);  // a - 1 exact
    }
  }
  return R;
}

ProxyResult analyze_proxy(const SupportPatterns& sp) {
  ProxyResult r;
  r.P = proxy_logits(sp);
  Eigen::BDCSVD<Eigen::MatrixXd> svd(r.P, Eigen::ComputeThinU | Eigen::ComputeThinV);
  // Polar factor on the numerical range of P (singular values above the rank tolerance).
  const Eigen::VectorXd& s = svd.singularValues();
  const double eps = std::numeric_limits<double>::epsilon();
  const double tol = s.size() > 0 ? s(0) * eps * static_cast<double>(std::max(sp.V, sp.m)) * 8 : 0;
  Eigen::Index rank = 0;
  while (rank < s.size() && s(rank) > tol) ++rank;
  r.Q = svd.matrixU().leftCols(rank) * svd.matrixV().leftCols(rank).transpose();
  double mx = -std::numeric_limits<double>::infinity();
  for (std::int64_t j = 0; j < sp.m; ++j) {
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) == 0) mx = std::max(mx, r.Q(v, j));
    }
  }
  r.max_off_support_q = std::isfinite(mx) ? mx : 0;
  // Entries that are exactly 0 in exact arithmetic come out as O(eps * sqrt(rank)) (measured
  // against the SVD's own backward error): allow 64 eps sqrt(max(V, m)).
  r.condition_tolerance = 64 * eps * std::sqrt(static_cast<double>(std::max(sp.V, sp.m)));
  // theory.md §7b: off-support entries of Q <= 0 => Q is a dual certificate, P = L_mm.
  r.polar_condition = r.max_off_support_q <= r.condition_tolerance;
  r.certificate.L = repair_primal(sp, r.P);
  r.certificate.Y = repair_dual(sp, r.Q);
  r.check = verify_nuclear_certificate(sp, r.certificate);
  return r;
}

Eigen::VectorXd project_column(const Eigen::VectorXd& x, const std::vector<std::uint8_t>& in,
                               const Eigen::VectorXd& c, double g) {
  // Minimise sum_in c (a - x)^2 + sum_off c max(0, x + g - a)^2 over a: the derivative
  // sum_in c (a - x) - sum_off c max(0, t - a), t = x + g, is increasing; with the q largest t
  // active, a_q = (sum_in c x + sum_{top q} c t) / (sum_in c + sum_{top q} c); the first q with
  // a_q >= t_(q+1) is the root.
  const Eigen::Index n = x.size();
  double num = 0;
  double den = 0;
  std::vector<std::pair<double, double>> t;  // (t, c)
  for (Eigen::Index i = 0; i < n; ++i) {
    if (in[static_cast<std::size_t>(i)] != 0) {
      num += c(i) * x(i);
      den += c(i);
    } else {
      t.emplace_back(x(i) + g, c(i));
    }
  }
  std::sort(t.begin(), t.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
  double a = num / den;
  for (std::size_t q = 0; q < t.size(); ++q) {
    if (a >= t[q].first) break;
    num += t[q].second * t[q].first;
    den += t[q].second;
    a = num / den;
  }
  Eigen::VectorXd out(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    out(i) = in[static_cast<std::size_t>(i)] != 0 ? a : std::min(x(i), a - g);
  }
  return out;
}

NuclearSolverResult solve_l_mm(const SupportPatterns& sp, const NuclearSolverOptions& opt) {
  const double t0 = now_seconds();
  NuclearSolverResult res;
  const auto G = static_cast<Eigen::Index>(sp.group_count.size());
  const auto Pn = static_cast<Eigen::Index>(sp.sets.size());
  res.rows = G;
  res.cols = Pn;
  // Compressed coordinates: M(g, p) = sqrt(c_g n_p) l(g, p), so ||M||_* = ||L||_* for the
  // expanded L with equal rows per group and equal columns per pattern.
  Eigen::VectorXd wr(G);
  Eigen::VectorXd cr(G);
  for (Eigen::Index g = 0; g < G; ++g) {
    cr(g) = static_cast<double>(sp.group_count[static_cast<std::size_t>(g)]);
    wr(g) = std::sqrt(cr(g));
  }
  Eigen::VectorXd wc(Pn);
  for (Eigen::Index p = 0; p < Pn; ++p) {
    wc(p) = std::sqrt(static_cast<double>(sp.pattern_count[static_cast<std::size_t>(p)]));
  }
  std::vector<std::int64_t> group_rep(static_cast<std::size_t>(G), -1);
  for (std::int64_t v = 0; v < sp.V; ++v) {
    auto& r = group_rep[static_cast<std::size_t>(sp.token_group[static_cast<std::size_t>(v)])];
    if (r < 0) r = v;
  }
  std::vector<std::int64_t> pattern_rep(static_cast<std::size_t>(Pn), -1);
  for (std::int64_t j = 0; j < sp.m; ++j) {
    auto& r =
        pattern_rep[static_cast<std::size_t>(sp.context_pattern[static_cast<std::size_t>(j)])];
    if (r < 0) r = j;
  }
  std::vector<std::vector<std::uint8_t>> in(static_cast<std::size_t>(Pn),
                                            std::vector<std::uint8_t>(static_cast<std::size_t>(G)));
  const Eigen::MatrixXd P = proxy_logits(sp);
  Eigen::MatrixXd Z(G, Pn);
  for (Eigen::Index p = 0; p < Pn; ++p) {
    for (Eigen::Index g = 0; g < G; ++g) {
      const auto v = group_rep[static_cast<std::size_t>(g)];
      const auto j = pattern_rep[static_cast<std::size_t>(p)];
      in[static_cast<std::size_t>(p)][static_cast<std::size_t>(g)] = sp.S(v, j) > 0 ? 1 : 0;
      Z(g, p) = wr(g) * wc(p) * P(v, j);
    }
  }
  auto project = [&](const Eigen::MatrixXd& X) {
    Eigen::MatrixXd out(G, Pn);
    for (Eigen::Index p = 0; p < Pn; ++p) {
      Eigen::VectorXd y(G);
      for (Eigen::Index g = 0; g < G; ++g) y(g) = X(g, p) / (wr(g) * wc(p));
      const Eigen::VectorXd l = project_column(y, in[static_cast<std::size_t>(p)], cr, 1.0);
      for (Eigen::Index g = 0; g < G; ++g) out(g, p) = wr(g) * wc(p) * l(g);
    }
    return out;
  };
  auto expand = [&](const Eigen::MatrixXd& Mc) {
    Eigen::MatrixXd F(sp.V, sp.m);
    for (std::int64_t j = 0; j < sp.m; ++j) {
      const auto p = sp.context_pattern[static_cast<std::size_t>(j)];
      for (std::int64_t v = 0; v < sp.V; ++v) {
        const auto g = sp.token_group[static_cast<std::size_t>(v)];
        F(v, j) = Mc(g, p) / (wr(g) * wc(p));
      }
    }
    return F;
  };
  Eigen::MatrixXd U = Eigen::MatrixXd::Zero(G, Pn);
  double rho = 1;
  NuclearCertificate best;
  NuclearCertificateCheck best_primal;
  NuclearCertificateCheck best_dual;
  best_primal.primal_upper = std::numeric_limits<double>::infinity();
  best_dual.lower = -1;
  Eigen::MatrixXd best_L;
  Eigen::MatrixXd best_Y;
  auto consider = [&](const Eigen::MatrixXd& Zc, const Eigen::MatrixXd& Yc) {
    NuclearCertificate c;
    c.L = repair_primal(sp, expand(Zc));
    c.Y = repair_dual(sp, expand(Yc));
    const NuclearCertificateCheck k = verify_nuclear_certificate(sp, c);
    if (k.primal_feasible && k.primal_upper < best_primal.primal_upper) {
      best_primal = k;
      best_L = c.L;
    }
    if (k.dual_feasible && k.lower > best_dual.lower) {
      best_dual = k;
      best_Y = c.Y;
    }
  };
  Eigen::MatrixXd Yc = Eigen::MatrixXd::Zero(G, Pn);
  std::int64_t it = 0;
  for (; it < opt.max_iterations; ++it) {
    const Eigen::MatrixXd A = Z - U;
    Eigen::BDCSVD<Eigen::MatrixXd> svd(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    const double tau = 1 / rho;
    const Eigen::VectorXd shr = (s.array() - tau).max(0.0).matrix();
    const Eigen::VectorXd clip = (rho * s.array()).min(1.0).matrix();
    const Eigen::MatrixXd X = svd.matrixU() * shr.asDiagonal() * svd.matrixV().transpose();
    // rho (A - X) = U diag(min(rho s, 1)) V^T is a subgradient of ||.||_* at X (||.||_2 <= 1).
    Yc = svd.matrixU() * clip.asDiagonal() * svd.matrixV().transpose();
    const Eigen::MatrixXd Zn = project(X + U);
    U += X - Zn;
    const double rp = (X - Zn).norm();
    const double rd = rho * (Zn - Z).norm();
    Z = Zn;
    if (it % 10 == 9) {  // residual balancing (Boyd et al. 2011, §3.4.1)
      if (rp > 10 * rd) {
        rho *= 2;
        U /= 2;
      } else if (rd > 10 * rp) {
        rho /= 2;
        U *= 2;
      }
    }
    if (it % opt.check_every == opt.check_every - 1 || it == 0) {
      consider(Z, Yc);
      const double gap = best_primal.primal_upper - best_dual.lower;
      if (best_dual.lower > 0 && gap <= opt.target_relative_gap * best_dual.lower) {
        res.converged = true;
        ++it;
        break;
      }
      if (opt.max_seconds > 0 && now_seconds() - t0 > opt.max_seconds) {
        ++it;
        break;
      }
    }
  }
  if (!res.converged) consider(Z, Yc);
  res.iterations = it;
  res.certificate.L = best_L;
  res.certificate.Y = best_Y;
  res.check = verify_nuclear_certificate(sp, res.certificate);
  res.converged = res.check.primal_feasible && res.check.dual_feasible &&
                  res.check.relative_gap <= opt.target_relative_gap;
  res.seconds = now_seconds() - t0;
  return res;
}

// ---- test instances ----

std::vector<std::string> geometry_families() {
  return {"geometry-balanced", "geometry-repeated", "geometry-overlap"};
}

InstanceData geometry_instance(const std::string& family, std::uint64_t seed) {
  Rng rs(seed, 11);
  Rng rp(seed, 12);
  std::vector<std::vector<std::int32_t>> supports;
  std::int64_t V = 0;
  if (family == "geometry-balanced") {
    // 3 disjoint supports of size 3 covering V = 9, each repeated 4 times.
    V = 9;
    for (int r = 0; r < 4; ++r) {
      for (std::int32_t p = 0; p < 3; ++p) supports.push_back({3 * p, 3 * p + 1, 3 * p + 2});
    }
  } else if (family == "geometry-repeated") {
    // 4 random (overlapping) supports of size 3 in V = 10, each repeated 4 times.
    V = 10;
    std::vector<std::vector<std::int32_t>> pats;
    while (pats.size() < 4) {
      std::vector<std::int32_t> s;
      for (auto t : rs.subset(V, 3)) s.push_back(static_cast<std::int32_t>(t));
      if (std::find(pats.begin(), pats.end(), s) == pats.end()) pats.push_back(s);
    }
    for (int r = 0; r < 4; ++r) {
      for (const auto& s : pats) supports.push_back(s);
    }
  } else if (family == "geometry-overlap") {
    V = 8;
    for (int j = 0; j < 10; ++j) {
      std::vector<std::int32_t> s;
      for (auto t : rs.subset(V, 3)) s.push_back(static_cast<std::int32_t>(t));
      supports.push_back(s);
    }
  } else {
    throw InvalidInput(
        "invalid option: family must be one of geometry-balanced, "
        "geometry-repeated, geometry-overlap, got \"" +
        family + "\"");
  }
  std::vector<std::vector<Rational>> probs;
  for (const auto& s : supports) {
    // Dirichlet(1) turned into positive integer counts (exact fractions).
    const auto d = rp.dirichlet(static_cast<std::int64_t>(s.size()), 1.0);
    std::vector<std::int64_t> counts;
    std::int64_t total = 0;
    for (double x : d) {
      counts.push_back(1 + static_cast<std::int64_t>(std::floor(x * 100)));
      total += counts.back();
    }
    std::vector<Rational> p;
    for (auto c : counts) p.emplace_back(c, total);
    probs.push_back(p);
  }
  InstanceData data = basis_embedding_instance(V, supports, probs);
  data.name = family;
  data.description =
      "generated by ntpcheck geometry (" + family + ", seed " + std::to_string(seed) + ")";
  data.extra = {{"generator", family}, {"seed", seed}};
  return data;
}

}  // namespace ntp
