#include "ntp/deep.hpp"

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "ntp/compatibility.hpp"
#include "ntp/errors.hpp"
#include "ntp/loss.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/optimize.hpp"
#include "ntp/separability.hpp"
#include "ntp/train.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class S>
Matrix<S> from_row_major(const std::vector<Rational>& w, std::int64_t V, std::int64_t d) {
  Matrix<S> out(V, d);
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      out(v, i) = ScalarTraits<S>::from_rational(w[static_cast<std::size_t>(v * d + i)]);
    }
  }
  return out;
}

/** log(1 + e^x) without overflow or cancellation. */
template <class S>
S softplus(const S& x) {
  using std::exp;
  using std::log1p;
  if (x > S(0)) return x + log1p(exp(-x));
  return log1p(exp(x));
}

/** log(log1p(e^lr)) for any lr (log1p(r) / r = 1 - r/2 + r^2/3 - ... for small r). */
template <class S>
S log_log1p_exp(const S& lr) {
  using std::exp;
  using std::log;
  using std::log1p;
  if (lr < S(-20)) {
    const S r = exp(lr);  // may underflow to 0 in double: then the correction is exactly 0
    return lr + log1p(-r / 2 + r * r / 3);
  }
  return log(softplus(lr));
}

/** Per-context quantities of the reduced problem (file comment of deep.hpp). */
template <class S>
struct ContextTerms {
  std::vector<std::int32_t> out;  ///< out-of-support tokens, ascending
  Vector<S> x;                    ///< x_{jv}, v in out
  S log_r = S(0);                 ///< log r_j
  S log_omega = S(0);             ///< log of the out-of-support mass
  S log_f = S(0);                 ///< log log1p(r_j)
  S gap = S(0);                   ///< min in-support logit - max out-of-support logit
};

template <class S>
ContextTerms<S> context_terms(const Instance<S>& inst, std::int64_t j, const Vector<S>& a,
                              const Vector<S>& b, std::vector<char>& in_support) {
  using std::exp;
  using std::log;
  ContextTerms<S> t;
  const std::int64_t V = inst.V;
  std::fill(in_support.begin(), in_support.end(), 0);
  const std::int64_t k0 = inst.offset[static_cast<std::size_t>(j)];
  const std::int64_t k1 = inst.offset[static_cast<std::size_t>(j + 1)];
  S c = S(0);
  Vector<S> a_in(k1 - k0);
  for (std::int64_t k = k0; k < k1; ++k) {
    const auto z = inst.token[static_cast<std::size_t>(k)];
    in_support[static_cast<std::size_t>(z)] = 1;
    c += b(z);
    a_in(k - k0) = a(z);
  }
  c /= S(static_cast<int>(k1 - k0));
  const S lse_a = log_sum_exp(a_in);
  S min_in = a_in.minCoeff() + c;
  for (std::int64_t v = 0; v < V; ++v) {
    if (!in_support[static_cast<std::size_t>(v)]) t.out.push_back(static_cast<std::int32_t>(v));
  }
  t.x.resize(static_cast<Eigen::Index>(t.out.size()));
  S max_out = S(0);
  for (std::size_t k = 0; k < t.out.size(); ++k) {
    const auto v = t.out[k];
    t.x(static_cast<Eigen::Index>(k)) = (a(v) - lse_a) + (b(v) - c);
    const S l = a(v) + b(v);
    if (k == 0 || l > max_out) max_out = l;
  }
  t.gap = min_in - max_out;
  t.log_r = log_sum_exp(t.x);
  t.log_omega = t.log_r - softplus(t.log_r);
  t.log_f = log_log1p_exp(t.log_r);
  return t;
}

}  // namespace

DeepReference deep_reference(const InstanceData& data) {
  CompatibilityOptions co;
  co.compute_w_star = false;
  const CompatibilityResult comp = check_compatibility(data, co);
  const SeparabilityResult sep = decide_separability(data);
  if (comp.verdict != Verdict::kHolds || sep.verdict != Verdict::kHolds) {
    throw InvalidInput("the deep regime needs (C) and (6) proved: NTP_H-compatibility is " +
                       to_string(comp.verdict) + ", NTP-separability is " + to_string(sep.verdict));
  }
  const WStarResult ws = enclose_w_star(data, comp.verdict, 200, comp.rank);
  const MaxMarginResult mm = compute_w_mm(data, sep.verdict);
  if (!ws.computed || mm.status != MaxMarginStatus::kProven) {
    throw InvalidInput("the deep regime needs W* and W^mm: " +
                       (ws.computed ? std::string() : "W*: " + ws.reason + " ") +
                       (mm.status == MaxMarginStatus::kProven ? std::string() : mm.reason));
  }
  DeepReference ref;
  ref.w_star = ws.w_mid;
  ref.w_star_radius = ws.radius;
  ref.w_mm = mm.w;
  ref.w_star_double = ws.w_double;
  ref.w_mm_double = mm.w_double;
  ref.w_mm_norm = mm.norm;
  ref.margin = mm.margin;
  return ref;
}

template <class S>
DeepGradient<S> deep_gradient(const Instance<S>& inst, const SubspaceBasisT<S>& F,
                              const Matrix<S>& W_star, const Matrix<S>& U, bool log_domain) {
  using std::exp;
  using std::log;
  DeepGradient<S> out;
  const Matrix<S> A = W_star * inst.Hbar;  // V x m
  const Matrix<S> Bl = U * inst.Hbar;
  std::vector<char> in_support(static_cast<std::size_t>(inst.V));
  std::vector<ContextTerms<S>> terms;
  terms.reserve(static_cast<std::size_t>(inst.m));
  S rho = S(0);
  S log_f_max = S(0);
  bool first = true;
  for (std::int64_t j = 0; j < inst.m; ++j) {
    terms.push_back(context_terms<S>(inst, j, A.col(j), Bl.col(j), in_support));
    const auto& t = terms.back();
    if (t.out.empty()) continue;
    const S lw = log(inst.pi(j)) + t.log_omega;
    const S lf = log(inst.pi(j)) + t.log_f;
    if (first || lw > rho) rho = lw;
    if (first || lf > log_f_max) log_f_max = lf;
    if (first || t.gap < out.min_gap) out.min_gap = t.gap;
    first = false;
  }
  if (first) {  // every support full: f = 0
    out.grad = Matrix<S>::Zero(inst.V, inst.d);
    out.log_excess = -std::numeric_limits<double>::infinity();
    out.vanished = true;
    return out;
  }
  S sum_f = S(0);
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const auto& t = terms[static_cast<std::size_t>(j)];
    if (!t.out.empty()) sum_f += exp(log(inst.pi(j)) + t.log_f - log_f_max);
  }
  out.log_excess = log_f_max + log(sum_f);
  if (!log_domain) rho = S(0);
  out.log_scale = rho;
  // G = sum_j sum_{v out} w_{jv} (e_v - ebar_j) h_j^T, w_{jv} = pi_j omega_j q_{jv} e^{-rho}.
  // Accumulated as a V x m coefficient matrix C, then G = C Hbar^T.
  Matrix<S> C = Matrix<S>::Zero(inst.V, inst.m);
  bool any = false;
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const auto& t = terms[static_cast<std::size_t>(j)];
    if (t.out.empty()) continue;
    S total = S(0);
    for (std::size_t k = 0; k < t.out.size(); ++k) {
      const S lq = t.x(static_cast<Eigen::Index>(k)) - t.log_r;
      // log domain: one exponential of a number >= log-scale offsets; plain: pi_j * s_v with
      // s_v = e^{l_v - lse_j} formed on its own, as a softmax kernel does (theory.md §6).
      const S w = log_domain ? exp(log(inst.pi(j)) + t.log_omega + lq - rho)
                             : inst.pi(j) * exp(t.log_omega + lq);
      C(t.out[k], j) = w;
      total += w;
    }
    if (total != S(0)) any = true;
    const std::int64_t k0 = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t k1 = inst.offset[static_cast<std::size_t>(j + 1)];
    const S share = total / S(static_cast<int>(k1 - k0));
    for (std::int64_t k = k0; k < k1; ++k) C(inst.token[static_cast<std::size_t>(k)], j) = -share;
  }
  out.vanished = !any;
  const Matrix<S> G = C * inst.Hbar.transpose();
  out.grad = project_perp(F, G);
  return out;
}

template DeepGradient<double> deep_gradient<double>(const Instance<double>&,
                                                    const SubspaceBasisT<double>&,
                                                    const Matrix<double>&, const Matrix<double>&,
                                                    bool);
template DeepGradient<Mpfr> deep_gradient<Mpfr>(const Instance<Mpfr>&, const SubspaceBasisT<Mpfr>&,
                                                const Matrix<Mpfr>&, const Matrix<Mpfr>&, bool);

namespace {

/** 1 - cos(a, b) as ||a/|a| - b/|b|||^2 / 2 (no cancellation near 1). */
double one_minus_cos(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  const double na = a.norm();
  const double nb = b.norm();
  if (na == 0 || nb == 0) return 1;
  return 0.5 * (a / na - b / nb).squaredNorm();
}

template <class S>
DeepNgdRun deep_ngd_typed(const InstanceData& data, const DeepReference& ref,
                          const DeepNgdOptions& options) {
  using std::sqrt;
  const auto t0 = Clock::now();
  const Instance<S> inst = to_scalar<S>(data);
  const SubspaceBasisT<S> F = subspace_basis(inst);
  const Matrix<S> W_star = from_row_major<S>(ref.w_star, inst.V, inst.d);
  const S eta = ScalarTraits<S>::from_rational(options.eta);
  Matrix<S> U = Matrix<S>::Zero(inst.V, inst.d);
  DeepNgdRun run;
  run.log_domain = options.log_domain;
  const auto grid = log_grid(options.steps, options.points_per_decade);
  std::size_t next = 0;
  for (std::int64_t k = 0; k <= options.steps; ++k) {
    const DeepGradient<S> g = deep_gradient(inst, F, W_star, U, options.log_domain);
    if (next < grid.size() && grid[next] == k) {
      DeepNgdPoint p;
      p.step = k;
      p.min_gap = ScalarTraits<S>::to_double(g.min_gap);
      p.log_excess = ScalarTraits<S>::to_double(g.log_excess);
      const S nu = U.norm();
      p.norm_u = ScalarTraits<S>::to_double(nu);
      p.direction = Eigen::MatrixXd::Zero(inst.V, inst.d);
      if (nu > S(0)) {
        for (std::int64_t v = 0; v < inst.V; ++v)
          for (std::int64_t i = 0; i < inst.d; ++i)
            p.direction(v, i) = ScalarTraits<S>::to_double(U(v, i) / nu);
      }
      p.one_minus_cos_mm = one_minus_cos(p.direction, ref.w_mm_double);
      run.points.push_back(std::move(p));
      ++next;
    }
    if (k == options.steps) break;
    // stableNorm: ||G||^2 of entries of size e^{-R} would underflow already near R = 354 in plain
    // double, a horizon of the norm, not of the gradient.
    const S gn = g.grad.stableNorm();
    if (g.vanished || !(gn > S(0))) {
      run.stalled_at_step = k;
      break;
    }
    U -= (eta / gn) * g.grad;
  }
  run.seconds = seconds_since(t0);
  return run;
}

}  // namespace

DeepNgdRun deep_ngd(const InstanceData& data, const DeepReference& ref,
                    const std::string& precision, const DeepNgdOptions& options) {
  const PrecisionSpec spec = parse_precision(precision, "precision");
  DeepNgdRun run;
  if (spec.kind == Precision::kDouble) {
    run = deep_ngd_typed<double>(data, ref, options);
  } else if (spec.kind == Precision::kMpfr) {
    set_mpfr_digits(spec.mpfr_digits);
    run = deep_ngd_typed<Mpfr>(data, ref, options);
  } else {
    throw InvalidInput("deep_ngd: precision must be double or mpfr:N, got " + precision);
  }
  run.precision = spec.name();
  return run;
}

// ---- The reduced regularization path (double, log domain). ----

namespace {

/** The reduced problem in coordinates u of an orthonormal basis N of F^perp: U = unvec(N u). */
class ReducedRidge {
 public:
  ReducedRidge(const InstanceData& data, const DeepReference& ref)
      : inst_(to_scalar<double>(data)), W_star_(ref.w_star_double) {
    const SubspaceBasisT<double> F = subspace_basis(inst_);
    const std::int64_t n = inst_.V * inst_.d;
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(F.basis);
    const Eigen::MatrixXd full = qr.householderQ() * Eigen::MatrixXd::Identity(n, n);
    N_ = full.rightCols(n - F.rank);
    A_ = W_star_ * inst_.Hbar;
    // Rows of the Jacobian of x_j in u coordinates: vec((e_v - ebar_j) h_j^T)^T N (constant: x is
    // linear in u).
    const std::int64_t k = N_.cols();
    std::vector<char> in_support(static_cast<std::size_t>(inst_.V));
    for (std::int64_t j = 0; j < inst_.m; ++j) {
      const std::int64_t k0 = inst_.offset[static_cast<std::size_t>(j)];
      const std::int64_t k1 = inst_.offset[static_cast<std::size_t>(j + 1)];
      std::fill(in_support.begin(), in_support.end(), 0);
      for (std::int64_t q = k0; q < k1; ++q)
        in_support[inst_.token[static_cast<std::size_t>(q)]] = 1;
      std::vector<std::int32_t> out;
      for (std::int64_t v = 0; v < inst_.V; ++v)
        if (!in_support[static_cast<std::size_t>(v)]) out.push_back(static_cast<std::int32_t>(v));
      const auto n_out = static_cast<Eigen::Index>(out.size());
      Eigen::MatrixXd M = Eigen::MatrixXd::Zero(n_out, k);
      Eigen::RowVectorXd mean_row = Eigen::RowVectorXd::Zero(k);
      for (std::int64_t i = 0; i < inst_.d; ++i) {
        const double h = inst_.Hbar(i, j);
        if (h == 0) continue;
        Eigen::RowVectorXd mr = Eigen::RowVectorXd::Zero(k);
        for (std::int64_t q = k0; q < k1; ++q) {
          mr += N_.row(inst_.token[static_cast<std::size_t>(q)] + inst_.V * i);
        }
        mean_row += (h / static_cast<double>(k1 - k0)) * mr;
        for (Eigen::Index q = 0; q < n_out; ++q) M.row(q) += h * N_.row(out[q] + inst_.V * i);
      }
      M.rowwise() -= mean_row;
      M_.push_back(std::move(M));
    }
  }
  [[nodiscard]] std::int64_t dim() const { return N_.cols(); }
  [[nodiscard]] Eigen::MatrixXd U(const Eigen::VectorXd& u) const {
    return unvec<double>(N_ * u, inst_.V, inst_.d);
  }
  const Eigen::MatrixXd& W_star() const { return W_star_; }
  [[nodiscard]] double h_max() const { return inst_.Hbar.colwise().norm().maxCoeff(); }

  struct Eval {
    double rho = 0;        ///< log scale of this evaluation
    double scaled_f = 0;   ///< e^{-rho0} f (rho0 given)
    Eigen::VectorXd grad;  ///< e^{-rho0} grad f in u coordinates
    Eigen::MatrixXd hess;  ///< e^{-rho0} Hessian of f (when asked)
    double log_f = 0;
    double min_gap = 0;
  };

  /** e^{-rho0} f and its derivatives at u. */
  Eval eval(const Eigen::VectorXd& u, double rho0, bool want_hessian,
            bool want_derivatives = true) const {
    Eval e;
    const Eigen::MatrixXd Uu = U(u);
    const Eigen::MatrixXd Bl = Uu * inst_.Hbar;
    std::vector<char> in_support(static_cast<std::size_t>(inst_.V));
    const std::int64_t k = N_.cols();
    e.grad = Eigen::VectorXd::Zero(k);
    if (want_hessian) e.hess = Eigen::MatrixXd::Zero(k, k);
    e.rho = -std::numeric_limits<double>::infinity();
    double log_f_max = -std::numeric_limits<double>::infinity();
    std::vector<ContextTerms<double>> terms;
    e.min_gap = std::numeric_limits<double>::infinity();
    for (std::int64_t j = 0; j < inst_.m; ++j) {
      terms.push_back(context_terms<double>(inst_, j, A_.col(j), Bl.col(j), in_support));
      const auto& t = terms.back();
      if (t.out.empty()) continue;
      e.rho = std::max(e.rho, std::log(inst_.pi(j)) + t.log_omega);
      log_f_max = std::max(log_f_max, std::log(inst_.pi(j)) + t.log_f);
      e.min_gap = std::min(e.min_gap, t.gap);
    }
    double sum = 0;
    double sum_f = 0;
    for (std::int64_t j = 0; j < inst_.m; ++j) {
      const auto& t = terms[static_cast<std::size_t>(j)];
      if (t.out.empty()) continue;
      sum += std::exp(std::log(inst_.pi(j)) + t.log_f - rho0);
      sum_f += std::exp(std::log(inst_.pi(j)) + t.log_f - log_f_max);
      const Eigen::MatrixXd& M = M_[static_cast<std::size_t>(j)];
      Eigen::VectorXd q = (t.x.array() - t.log_r).exp().matrix();
      const double w = std::exp(std::log(inst_.pi(j)) + t.log_omega - rho0);
      if (w == 0 || !want_derivatives) continue;
      const Eigen::VectorXd Mq = M.transpose() * q;
      e.grad += w * Mq;
      if (want_hessian) {
        // d^2 log1p(r) / dx^2 = omega (diag(q) - omega q q^T).
        const double omega = std::exp(t.log_omega);
        e.hess.noalias() += w * (M.transpose() * q.asDiagonal() * M);
        e.hess.noalias() -= (w * omega) * (Mq * Mq.transpose());
      }
    }
    e.scaled_f = sum;
    e.log_f = log_f_max + std::log(sum_f);
    return e;
  }

 private:
  Instance<double> inst_;
  Eigen::MatrixXd W_star_;
  Eigen::MatrixXd A_;
  Eigen::MatrixXd N_;               ///< (V d) x dim F^perp, orthonormal (subspace.hpp's vec order)
  std::vector<Eigen::MatrixXd> M_;  ///< per context: d x_j / d u (out-of-support rows)
};

}  // namespace

DirectionPath direction_path(const InstanceData& data, const DeepReference& ref,
                             const DirectionPathOptions& options) {
  const auto t0 = Clock::now();
  if (data.vocab_size * data.embedding_dim > 4000) {
    throw InvalidInput("direction_path: V d must be at most 4000 (dense Newton), got " +
                       std::to_string(data.vocab_size * data.embedding_dim));
  }
  const ReducedRidge rr(data, ref);
  DirectionPath path;
  path.dim_perp = rr.dim();
  const std::int64_t k = rr.dim();
  Eigen::VectorXd u = Eigen::VectorXd::Zero(k);
  Eigen::VectorXd u_prev = u;
  double log_lambda = 0;  // lambda = 1
  double log_lambda_prev = 0;
  int after_target = 0;
  for (int point = 0;; ++point) {
    if (point > 0) {
      const double next = log_lambda < -8 ? log_lambda * options.growth : log_lambda - 2;
      // Secant extrapolation in log lambda (U_lambda is asymptotically linear in log lambda).
      Eigen::VectorXd guess = u;
      if (point > 1) guess += (u - u_prev) * ((next - log_lambda) / (log_lambda - log_lambda_prev));
      u_prev = u;
      log_lambda_prev = log_lambda;
      log_lambda = next;
      u = guess;
    }
    // Damped Newton on F(u) = e^{-rho0} f(u) + (lambda e^{-rho0} / 2) ||u||^2, rho0 fixed per
    // solve (taken at the starting point) so that every term is of size 1.
    double rho0 = rr.eval(u, 0, false).rho;
    DirectionPoint p;
    p.log_lambda = log_lambda;
    double best_residual = std::numeric_limits<double>::infinity();
    int stagnant = 0;
    for (int it = 0; it < options.max_newton; ++it) {
      auto e = rr.eval(u, rho0, true);
      if (std::abs(e.rho - rho0) > 30) {  // the scale moved: re-centre
        rho0 = e.rho;
        e = rr.eval(u, rho0, true);
      }
      const double lt = std::exp(log_lambda - rho0);
      const Eigen::VectorXd g = e.grad + lt * u;
      p.newton_iterations = it;
      // Stationarity relative to the size of its terms: grad e^{-rho0} f = -lambda~ u.
      p.residual = g.norm() / std::max(e.grad.norm(), 1e-300);
      // The logits x_jv carry an absolute rounding error of about eps ||U|| max_j ||h_j||, so the
      // relative residual cannot be resolved below that.
      const double floor = std::numeric_limits<double>::epsilon() * rr.U(u).norm() * rr.h_max();
      p.tolerance = std::max(options.tolerance, floor);
      if (p.residual <= p.tolerance) {
        p.converged = true;
        break;
      }
      if (it >= 8 && p.residual > 0.5 * best_residual) ++stagnant;
      best_residual = std::min(best_residual, p.residual);
      if (stagnant > 4) break;
      Eigen::MatrixXd Hm = e.hess;
      Hm.diagonal().array() += lt;
      const Eigen::LDLT<Eigen::MatrixXd> ldlt(Hm);
      const Eigen::VectorXd step = -ldlt.solve(g);
      const double decrement = -g.dot(step);
      const double fval = e.scaled_f + 0.5 * lt * u.squaredNorm();
      if (!(decrement > 0)) break;
      double t = 1;
      bool accepted = false;
      for (int ls = 0; ls < 60; ++ls) {
        const Eigen::VectorXd trial = u + t * step;
        const auto et = rr.eval(trial, rho0, false, false);
        const double ft = et.scaled_f + 0.5 * lt * trial.squaredNorm();
        // Armijo, with room for the rounding of f near convergence (|f| 1e-15).
        if (std::isfinite(ft) && ft <= fval - 0.25 * t * decrement + 1e-15 * std::abs(fval)) {
          u = trial;
          accepted = true;
          break;
        }
        t *= 0.5;
      }
      if (!accepted) break;
    }
    const auto e = rr.eval(u, 0, false);
    const Eigen::MatrixXd Um = rr.U(u);
    const Eigen::MatrixXd W = rr.W_star() + Um;
    p.norm = W.norm();
    p.norm_u = Um.norm();
    p.one_minus_cos = one_minus_cos(W, ref.w_mm_double);
    p.one_minus_cos_u = one_minus_cos(Um, ref.w_mm_double);
    // ||delta u|| / ||u|| <= residual (see DirectionPoint::error_bound): an angle error of at most
    // that much moves 1 - cos = ||a - b||^2 / 2 by at most ||a - b|| delta + delta^2 / 2.
    p.error_bound = std::sqrt(2 * p.one_minus_cos) * p.residual + 0.5 * p.residual * p.residual;
    p.min_gap = e.min_gap;
    p.log_excess = e.log_f;
    path.points.push_back(p);
    if (p.one_minus_cos <= options.target) {
      path.reached_target = true;
      if (++after_target > 2) {
        path.stop_reason = "target reached";
        break;
      }
    }
    if (p.norm_u > options.max_norm) {
      path.stop_reason = "max_norm reached";
      break;
    }
    if (seconds_since(t0) > options.max_seconds) {
      path.stop_reason = "time budget reached";
      break;
    }
    if (!p.converged) {
      path.stop_reason = "Newton did not converge at log lambda = " + std::to_string(log_lambda);
      break;
    }
  }
  // Rate: least squares of log(1 - cos) on log B over the points with B >= 100.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int n = 0;
  for (const auto& p : path.points) {
    if (p.norm < 100 || !(p.one_minus_cos > 0)) continue;
    const double x = std::log(p.norm);
    const double y = std::log(p.one_minus_cos);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    ++n;
  }
  if (n >= 2) {
    path.rate_slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    path.rate_constant = std::exp((sy - path.rate_slope * sx) / n);
  }
  path.seconds = seconds_since(t0);
  return path;
}

}  // namespace ntp
