// The precision ladder (precision_ladder.hpp; docs/precision.md).
#include "ntp/precision_ladder.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "ntp/errors.hpp"
#include "ntp/plot.hpp"
#include "ntp/resources.hpp"
#include "ntp/subspace.hpp"
#include "ntp/train.hpp"

namespace ntp {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/** Guard digits of the MPFR comparisons above the top rung's digits (the Cholesky of the Gram
 * matrix of F's generators loses log10 cond(A A^T) of them). */
constexpr unsigned kGuardDigits = 30;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string format(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

// ------------------------------------------------------------------------------ horizons

/** The smallest normal value of S, read from the type itself (not from ScalarTraits). */
template <class S>
S smallest_normal() {
  if constexpr (std::is_same_v<S, dd_real>) {
    return dd_real(dd_real::_min_normalized);
  } else if constexpr (std::is_same_v<S, qd_real>) {
    return qd_real(qd_real::_min_normalized);
  } else {
    return std::numeric_limits<S>::min();
  }
}

/** Smallest R > 0 (to ~1e-10 relative) with pred(R) true; pred must be monotone. NaN if none below
 * 2^40. */
template <class Pred>
double first_true(const Pred& pred) {
  double lo = 0;
  double hi = 1;
  while (!pred(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1.1e12) return kNaN;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (pred(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

template <class S>
HorizonTable measure_typed(const PrecisionSpec& p) {
  using std::exp;
  using std::log;
  using T = ScalarTraits<S>;
  HorizonTable h;
  h.precision = p;
  const double ln2 = std::log(2.0);
  h.unit_roundoff_log = T::to_double(log(T::epsilon())) - ln2;
  h.predicted_one_plus = -h.unit_roundoff_log;
  h.predicted_subnormal = -T::log_min_normal();
  h.predicted_zero = -T::log_min_positive();
  // e^-R in S: R (a double, an exact dyadic) converted exactly, then S's own exp.
  auto e = [](double R) { return S(exp(-from_double<S>(R))); };
  const S one(1);
  const S full = S(4) / S(3);
  const S tiny = smallest_normal<S>();
  // theory.md §6 (a): log1p(e^-R) rounds to 0 once 1 + e^-R rounds to 1.
  h.measured_one_plus = first_true([&](double R) { return one + e(R) == one; });
  // theory.md §6 (a'): the same with an operand that uses every digit of S (an update W + delta).
  h.measured_full_width = first_true([&](double R) { return full + e(R) == full; });
  // theory.md §6 (b): e^-R below the smallest normal.
  h.measured_subnormal = first_true([&](double R) { return e(R) < tiny; });
  // theory.md §6 (c): e^-R underflows to 0.
  h.measured_zero = first_true([&](double R) { return e(R) == S(0); });
  h.has_subnormals = std::isfinite(h.measured_subnormal) && e(h.measured_subnormal) != S(0);
  return h;
}

// ------------------------------------------------------------------------------ runs

/** One rung's run, every number kept exactly (as a rational) for the comparisons. */
struct RungRun {
  std::vector<std::int64_t> steps;
  std::vector<std::vector<Rational>> w;  ///< vec(W_k), column-major
  std::vector<Rational> excess;
  std::vector<double> min_gap;
  bool stopped_early = false;
  std::int64_t diverged_at_step = -1;
  double seconds = 0;
};

template <class S>
void check_eta_typed(const Rational& q) {
  using T = ScalarTraits<S>;
  const S eta = T::from_rational(q);
  if (!is_finite_s(eta) || !(eta > S(0))) {
    throw InvalidInput("invalid option: --eta must be a positive number representable in " +
                       T::name() + ", got " + rational_to_decimal(q, 6));
  }
}

/** Refuses a step size that rounds to 0 or overflows in p (before anything runs). */
void check_eta(const PrecisionSpec& p, const Rational& q) {
  switch (p.kind) {
    case Precision::kFloat:
      return check_eta_typed<float>(q);
    case Precision::kDouble:
      return check_eta_typed<double>(q);
    case Precision::kLongDouble:
      return check_eta_typed<long double>(q);
    case Precision::kDD:
      return check_eta_typed<dd_real>(q);
    case Precision::kQD:
      return check_eta_typed<qd_real>(q);
    case Precision::kFloat128:
      return check_eta_typed<Float128>(q);
    case Precision::kMp50:
      return check_eta_typed<Mp50>(q);
    case Precision::kMpfr:
      set_mpfr_digits(p.mpfr_digits);
      return check_eta_typed<Mpfr>(q);
  }
}

template <class S>
RungRun run_typed(const InstanceData& data, const OptimizerOptions& opt,
                  const ProgressFn& progress) {
  using T = ScalarTraits<S>;
  const double t0 = now_seconds();
  const Instance<S> inst = to_scalar<S>(data);
  const Matrix<S> w0 = Matrix<S>::Zero(inst.V, inst.d);
  const Trajectory<S> traj = run_optimizer(inst, opt, w0, progress);
  RungRun r;
  r.stopped_early = traj.stopped_early;
  r.diverged_at_step = traj.diverged_at_step;
  for (std::size_t i = 0; i < traj.points.size(); ++i) {
    const auto& p = traj.points[i];
    const Matrix<S>& W = traj.weights[i];
    bool finite = is_finite_s(p.loss.excess) && is_finite_s(p.loss.min_gap);
    for (Eigen::Index k = 0; finite && k < W.size(); ++k) finite = is_finite_s(W.data()[k]);
    if (!finite) break;  // a diverged run is compared up to its last finite point
    r.steps.push_back(p.step);
    r.excess.push_back(T::to_rational(p.loss.excess));
    r.min_gap.push_back(T::to_double(p.loss.min_gap));
    std::vector<Rational> v(static_cast<std::size_t>(W.size()));
    for (Eigen::Index k = 0; k < W.size(); ++k) {
      v[static_cast<std::size_t>(k)] = T::to_rational(W.data()[k]);
    }
    r.w.push_back(std::move(v));
  }
  r.seconds = now_seconds() - t0;
  return r;
}

RungRun run_rung(const InstanceData& data, const OptimizerOptions& opt, const PrecisionSpec& p,
                 const ProgressFn& progress) {
  switch (p.kind) {
    case Precision::kFloat:
      return run_typed<float>(data, opt, progress);
    case Precision::kDouble:
      return run_typed<double>(data, opt, progress);
    case Precision::kLongDouble:
      return run_typed<long double>(data, opt, progress);
    case Precision::kDD:
      return run_typed<dd_real>(data, opt, progress);
    case Precision::kQD:
      return run_typed<qd_real>(data, opt, progress);
    case Precision::kFloat128:
      return run_typed<Float128>(data, opt, progress);
    case Precision::kMp50:
      return run_typed<Mp50>(data, opt, progress);
    case Precision::kMpfr:
      set_mpfr_digits(p.mpfr_digits);
      return run_typed<Mpfr>(data, opt, progress);
  }
  throw InternalError("precision ladder: unknown precision kind");
}

// ------------------------------------------------------------------------------ comparisons

using MpMatrix = Matrix<Mpfr>;

/** The reference's quantities at one step, in MPFR at the comparison precision. */
struct RefPoint {
  MpMatrix w, p_f, unit_perp;
  Mpfr norm_w, norm_pf, excess;
  bool perp_zero = true;
};

MpMatrix to_mp(const std::vector<Rational>& v, std::int64_t V, std::int64_t d) {
  MpMatrix m(V, d);
  for (std::size_t k = 0; k < v.size(); ++k) {
    m.data()[k] = ScalarTraits<Mpfr>::from_rational(v[k]);
  }
  return m;
}

RefPoint make_point(const ExactRankProjector& proj, const RungRun& run, std::size_t i,
                    std::int64_t V, std::int64_t d) {
  RefPoint p;
  p.w = to_mp(run.w[i], V, d);
  p.p_f = proj.project_f(p.w);
  const MpMatrix perp = p.w - p.p_f;
  const Mpfr np = perp.norm();
  p.perp_zero = np == 0;
  if (!p.perp_zero) p.unit_perp = perp / np;
  p.norm_w = p.w.norm();
  p.norm_pf = p.p_f.norm();
  p.excess = ScalarTraits<Mpfr>::from_rational(run.excess[i]);
  return p;
}

/** min(cap, -log10(diff / ref)), cap when diff == 0, 0 when ref == 0 != diff, clamped at 0. */
double digits_rel(const Mpfr& diff, const Mpfr& ref, double cap) {
  using std::log10;
  if (diff == 0) return cap;
  if (ref == 0) return 0;
  const double dg = -ScalarTraits<Mpfr>::to_double(log10(diff / ref));
  return std::clamp(dg, 0.0, cap);
}

std::optional<std::int64_t> first_crossing(const std::vector<std::int64_t>& steps,
                                           const std::vector<double>& R, double threshold) {
  if (!std::isfinite(threshold)) return std::nullopt;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (R[i] > threshold) return steps[i];
  }
  return std::nullopt;
}

/** Compares `run` with the reference points; fills points, crossings and evidence. */
void compare_rung(RungResult& out, const RungRun& run, const RungRun& ref,
                  const std::vector<RefPoint>& ref_points, const ExactRankProjector& proj,
                  std::int64_t V, std::int64_t d, double cap) {
  const std::size_t n = std::min(run.steps.size(), ref.steps.size());
  out.compared = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (run.steps[i] != ref.steps[i]) throw InternalError("precision ladder: grids differ");
    const RefPoint& t = ref_points[i];
    const RefPoint r = make_point(proj, run, i, V, d);
    DigitsAgreed a;
    a.step = run.steps[i];
    a.top_min_gap = ref.min_gap[i];
    a.rung_min_gap = run.min_gap[i];
    using std::abs;
    a.excess = digits_rel(abs(r.excess - t.excess), abs(t.excess), cap);
    a.w = digits_rel((r.w - t.w).norm(), t.norm_w, cap);
    a.p_f = digits_rel((r.p_f - t.p_f).norm(), t.norm_pf, cap);
    if (!r.perp_zero && !t.perp_zero) {
      a.perp_direction = digits_rel((r.unit_perp - t.unit_perp).norm(), Mpfr(1), cap);
    }
    out.points.push_back(a);
  }
}

void crossings_and_evidence(RungResult& out, const RungRun& ref, double min_digits,
                            OptimizerKind kind) {
  const HorizonTable& h = out.horizons;
  out.cross_one_plus = first_crossing(ref.steps, ref.min_gap, h.measured_one_plus);
  out.cross_full_width = first_crossing(ref.steps, ref.min_gap, h.measured_full_width);
  out.cross_subnormal = first_crossing(ref.steps, ref.min_gap, h.measured_subnormal);
  out.cross_zero = first_crossing(ref.steps, ref.min_gap, h.measured_zero);
  const double horizon = h.evidence_horizon(kind);
  // The steps examined: the compared ones, or for an uncompared top its own grid.
  std::vector<DigitsAgreed> pts = out.points;
  if (!out.compared) {
    for (std::size_t i = 0; i < ref.steps.size(); ++i) {
      DigitsAgreed a;
      a.step = ref.steps[i];
      a.top_min_gap = ref.min_gap[i];
      a.rung_min_gap = ref.min_gap[i];
      pts.push_back(a);
    }
  }
  out.evidence_last_step = -1;
  out.evidence_reason.clear();
  for (const DigitsAgreed& a : pts) {
    std::string why;
    auto low = [&](const std::optional<double>& x, const char* what) {
      if (why.empty() && x && *x < min_digits) {
        why = std::string(what) + " agrees to " + format("%.1f", *x) + " < " +
              format("%g", min_digits) + " digits";
      }
    };
    low(a.excess, "the excess loss");
    low(a.w, "W");
    low(a.p_f, "P_F(W)");
    low(a.perp_direction, "the direction of P_perp(W)");
    // theory.md §6: past the update horizon the out-of-support part of a step is rounded away.
    if (why.empty() && std::isfinite(horizon) && a.top_min_gap > horizon) {
      why = "R = " + format("%.4g", a.top_min_gap) + " is past the evidence horizon " +
            format("%.4g", horizon);
    }
    if (why.empty() && out.diverged_at_step >= 0 && a.step >= out.diverged_at_step) {
      why = "the run diverged";
    }
    if (!why.empty()) {
      out.evidence_reason = why + " at step " + std::to_string(a.step);
      return;
    }
    out.evidence_last_step = a.step;
  }
  if (out.diverged_at_step >= 0) {
    out.evidence_reason = "the run diverged at step " + std::to_string(out.diverged_at_step);
  } else if (out.stopped_early) {
    out.evidence_reason = "the run was stopped by the budget";
  } else {
    out.evidence_reason = out.compared ? "the whole run" : "the whole run (not compared)";
  }
}

std::string opt_step(const std::optional<std::int64_t>& s) { return s ? std::to_string(*s) : "-"; }

json opt_json(const std::optional<double>& x) { return x ? json(*x) : json(nullptr); }
json opt_json(const std::optional<std::int64_t>& x) { return x ? json(*x) : json(nullptr); }
json num_json(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

json rung_json(const RungResult& r) {
  json j;
  j["precision"] = r.precision.name();
  j["top"] = r.is_top;
  j["reference"] = r.reference;
  j["compared"] = r.compared;
  j["stopped_early"] = r.stopped_early;
  j["diverged_at_step"] = r.diverged_at_step >= 0 ? json(r.diverged_at_step) : json(nullptr);
  j["seconds"] = r.seconds;
  j["crossings"] = {{"one_plus", opt_json(r.cross_one_plus)},
                    {"full_width", opt_json(r.cross_full_width)},
                    {"subnormal", opt_json(r.cross_subnormal)},
                    {"zero", opt_json(r.cross_zero)}};
  j["update_horizon"] = num_json(r.horizons.update_horizon());
  j["evidence_horizon"] = num_json(r.horizons.evidence_horizon(r.optimizer));
  j["evidence_last_step"] = r.evidence_last_step >= 0 ? json(r.evidence_last_step) : json(nullptr);
  j["evidence_reason"] = r.evidence_reason;
  json pts = json::array();
  for (const auto& a : r.points) {
    pts.push_back({{"step", a.step},
                   {"top_min_gap", a.top_min_gap},
                   {"rung_min_gap", a.rung_min_gap},
                   {"excess", opt_json(a.excess)},
                   {"w", opt_json(a.w)},
                   {"p_f", opt_json(a.p_f)},
                   {"perp_direction", opt_json(a.perp_direction)}});
  }
  j["points"] = pts;
  return j;
}

/** The minimum of a digits series over the compared steps (nullopt when never defined). */
std::optional<double> min_over(const RungResult& r, std::optional<double> DigitsAgreed::*field) {
  std::optional<double> m;
  for (const auto& a : r.points) {
    const auto& x = a.*field;
    if (x && (!m || *x < *m)) m = *x;
  }
  return m;
}

std::string digits_cell(const std::optional<double>& x) {
  return x ? format("%.1f", *x) : std::string("-");
}

}  // namespace

// ------------------------------------------------------------------------------ public

double HorizonTable::update_horizon() const {
  return std::min(measured_one_plus, measured_full_width);
}

double HorizonTable::evidence_horizon(OptimizerKind kind) const {
  // theory.md §6: NGD normalises the step; its ||grad|| (squares of ~e^-R) underflows at (c) / 2.
  if (kind == OptimizerKind::kNGD) return measured_zero / 2;
  return update_horizon();
}

HorizonTable measure_horizons(const PrecisionSpec& p) {
  switch (p.kind) {
    case Precision::kFloat:
      return measure_typed<float>(p);
    case Precision::kDouble:
      return measure_typed<double>(p);
    case Precision::kLongDouble:
      return measure_typed<long double>(p);
    case Precision::kDD:
      return measure_typed<dd_real>(p);
    case Precision::kQD:
      return measure_typed<qd_real>(p);
    case Precision::kFloat128:
      return measure_typed<Float128>(p);
    case Precision::kMp50:
      return measure_typed<Mp50>(p);
    case Precision::kMpfr:
      set_mpfr_digits(p.mpfr_digits);
      return measure_typed<Mpfr>(p);
  }
  throw InternalError("precision ladder: unknown precision kind");
}

std::vector<PrecisionSpec> parse_ladder(const std::string& text, const std::string& field) {
  std::vector<PrecisionSpec> out;
  std::set<std::string> seen;
  std::size_t start = 0;
  if (text.empty()) {
    throw InvalidInput("invalid option: " + field + " must list at least two precisions, got \"\"");
  }
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) {
      throw InvalidInput("invalid option: " + field + " has an empty precision name, got \"" +
                         text + "\"");
    }
    const PrecisionSpec p = parse_precision(item, field);
    if (!seen.insert(p.name()).second) {
      throw InvalidInput("invalid option: " + field + " lists " + p.name() + " twice, got \"" +
                         text + "\"");
    }
    out.push_back(p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.size() < 2) {
    throw InvalidInput("invalid option: " + field + " must list at least two precisions, got \"" +
                       text + "\"");
  }
  return out;
}

std::size_t top_rung(const std::vector<PrecisionSpec>& ladder) {
  std::size_t top = 0;
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    if (ladder[i].decimal_digits() >= ladder[top].decimal_digits()) top = i;
  }
  return top;
}

ExactRankProjector::ExactRankProjector(const InstanceData& data)
    : V_(data.vocab_size), d_(data.embedding_dim), m_(data.num_contexts()) {
  using std::sqrt;
  using T = ScalarTraits<Mpfr>;
  hbar_.resize(d_, m_);
  for (std::int64_t j = 0; j < m_; ++j) {
    for (std::int64_t i = 0; i < d_; ++i) {
      hbar_(i, j) = T::from_rational(
          data.contexts[static_cast<std::size_t>(j)].embedding[static_cast<std::size_t>(i)]);
    }
  }
  const std::vector<AnchorRow> rows = anchor_rows(data);
  const auto n = static_cast<std::int64_t>(rows.size());
  rank_ = exact_dim_f(data);
  if (rank_ == 0) return;
  const MpMatrix hth = hbar_.transpose() * hbar_;
  // Gram matrix of the generators: <(e_z - e_a) h_j^T, (e_z' - e_a') h_j'^T>
  //   = <e_z - e_a, e_z' - e_a'> <h_j, h_j'>.
  auto gram = [&](std::int64_t k, std::int64_t l) {
    const AnchorRow& a = rows[static_cast<std::size_t>(k)];
    const AnchorRow& b = rows[static_cast<std::size_t>(l)];
    const int t = (a.token == b.token) - (a.token == b.anchor) - (a.anchor == b.token) +
                  (a.anchor == b.anchor);
    return t == 0 ? Mpfr(0) : Mpfr(t) * hth(a.context, b.context);
  };
  // Pivoted (outer-product) Cholesky, stopped after rank_ = dim F (exact) pivots: the chosen
  // rows are independent and span F.
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  std::vector<Mpfr> diag(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) diag[static_cast<std::size_t>(i)] = gram(i, i);
  MpMatrix L = MpMatrix::Zero(n, rank_);  // row i belongs to generator perm[i]
  for (std::int64_t s = 0; s < rank_; ++s) {
    std::int64_t p = s;
    for (std::int64_t i = s + 1; i < n; ++i) {
      if (diag[static_cast<std::size_t>(i)] > diag[static_cast<std::size_t>(p)]) p = i;
    }
    if (!(diag[static_cast<std::size_t>(p)] > 0)) {
      throw InternalError("precision ladder: Gram matrix of F lost rank before dim F");
    }
    std::swap(perm[static_cast<std::size_t>(s)], perm[static_cast<std::size_t>(p)]);
    std::swap(diag[static_cast<std::size_t>(s)], diag[static_cast<std::size_t>(p)]);
    L.row(s).swap(L.row(p));
    const Mpfr lss = sqrt(diag[static_cast<std::size_t>(s)]);
    L(s, s) = lss;
    for (std::int64_t i = s + 1; i < n; ++i) {
      Mpfr v = gram(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(s)]);
      for (std::int64_t t = 0; t < s; ++t) v -= L(i, t) * L(s, t);
      L(i, s) = v / lss;
      diag[static_cast<std::size_t>(i)] -= L(i, s) * L(i, s);
    }
  }
  chol_ = L.topRows(rank_);
  for (std::int64_t s = 0; s < rank_; ++s) {
    const AnchorRow& a = rows[static_cast<std::size_t>(perm[static_cast<std::size_t>(s)])];
    ctx_.push_back(a.context);
    tok_.push_back(a.token);
    anchor_.push_back(a.anchor);
  }
}

Matrix<Mpfr> ExactRankProjector::project_f(const Matrix<Mpfr>& W) const {
  MpMatrix out = MpMatrix::Zero(V_, d_);
  if (rank_ == 0) return out;
  const MpMatrix logits = W * hbar_;  // V x m
  // b = A_S vec(W): (e_z - e_a)^T W h_j.
  std::vector<Mpfr> y(static_cast<std::size_t>(rank_));
  for (std::int64_t s = 0; s < rank_; ++s) {
    const auto u = static_cast<std::size_t>(s);
    y[u] = logits(tok_[u], ctx_[u]) - logits(anchor_[u], ctx_[u]);
  }
  // (A_S A_S^T) y = b with A_S A_S^T = chol chol^T: forward, then backward substitution.
  for (std::int64_t s = 0; s < rank_; ++s) {
    Mpfr v = y[static_cast<std::size_t>(s)];
    for (std::int64_t t = 0; t < s; ++t) v -= chol_(s, t) * y[static_cast<std::size_t>(t)];
    y[static_cast<std::size_t>(s)] = v / chol_(s, s);
  }
  for (std::int64_t s = rank_ - 1; s >= 0; --s) {
    Mpfr v = y[static_cast<std::size_t>(s)];
    for (std::int64_t t = s + 1; t < rank_; ++t) v -= chol_(t, s) * y[static_cast<std::size_t>(t)];
    y[static_cast<std::size_t>(s)] = v / chol_(s, s);
  }
  // A_S^T y = sum_s y_s (e_z - e_a) h_j^T = C Hbar^T.
  MpMatrix C = MpMatrix::Zero(V_, m_);
  for (std::int64_t s = 0; s < rank_; ++s) {
    const auto u = static_cast<std::size_t>(s);
    C(tok_[u], ctx_[u]) += y[u];
    C(anchor_[u], ctx_[u]) -= y[u];
  }
  out = C * hbar_.transpose();
  return out;
}

LadderResult run_ladder(const InstanceData& data, const LadderOptions& o,
                        const LadderProgressFn& progress) {
  const double t0 = now_seconds();
  if (o.ladder.size() < 2) {
    throw InvalidInput("invalid option: --ladder must list at least two precisions, got " +
                       std::to_string(o.ladder.size()));
  }
  if (o.optimizer.steps < 1) {
    throw InvalidInput("invalid option: --steps must be at least 1, got " +
                       std::to_string(o.optimizer.steps));
  }
  LadderResult res;
  res.instance = data.name;
  res.optimizer = o.optimizer.kind;
  res.steps = o.optimizer.steps;
  res.min_digits = o.min_digits;
  OptimizerOptions opt = o.optimizer;
  opt.record_weights = true;
  if (!opt.eta) opt.eta = default_eta(opt.kind, summarize(data));
  res.eta = *opt.eta;
  res.top = top_rung(o.ladder);
  const PrecisionSpec top = o.ladder[res.top];
  res.cap_digits = top.decimal_digits();
  std::optional<PrecisionSpec> check;
  if (o.check_top) {
    check = PrecisionSpec{Precision::kMpfr,
                          static_cast<unsigned>(std::max(10, (3 * res.cap_digits + 1) / 2))};
  }
  {
    // Refuse up front what would not fit: one run at a time (instance, W, gradient, workspace,
    // every recorded W in S), plus the recorded W of every rung kept as exact rationals (a GMP
    // rational of an S value: about 2 significands plus 64 bytes).
    const auto K = static_cast<std::uint64_t>(
        log_grid(opt.steps, opt.points_per_decade, opt.extra_record_steps).size());
    const auto V = static_cast<std::uint64_t>(data.vocab_size);
    const auto d = static_cast<std::uint64_t>(data.embedding_dim);
    const auto m = static_cast<std::uint64_t>(data.num_contexts());
    const auto nnz = static_cast<std::uint64_t>(data.support_nnz());
    std::uint64_t run_max = 0;
    std::uint64_t kept = 0;
    std::vector<PrecisionSpec> all = o.ladder;
    if (check) all.push_back(*check);
    for (const auto& p : all) {
      const std::uint64_t b = bytes_per_scalar(p);
      run_max = std::max(run_max, (d * m + 3 * nnz + 2 * m + (5 + K) * V * d + 2 * V * m) * b);
      kept += K * V * d * (64 + 2 * b);
    }
    check_memory(run_max + kept, "precision ladder (" + std::to_string(all.size()) +
                                     " rungs, V=" + std::to_string(V) + ", d=" + std::to_string(d) +
                                     ", " + std::to_string(K) + " recorded W each)");
  }
  for (const auto& p : o.ladder) check_eta(p, *opt.eta);
  if (check) check_eta(*check, *opt.eta);
  // Runs: the top first (the reference), then the others in ladder order, then the check.
  bool budget_hit = false;
  auto run_one = [&](const PrecisionSpec& p) {
    const std::string name = p.name();
    ProgressFn fn = [&, name](std::int64_t k, std::int64_t total) {
      if (o.max_seconds > 0 && now_seconds() - t0 > o.max_seconds) {
        budget_hit = true;
        return false;
      }
      return progress ? progress(name, k, total) : true;
    };
    return run_rung(data, opt, p, fn);
  };
  std::vector<RungRun> runs(o.ladder.size());
  runs[res.top] = run_one(top);
  for (std::size_t i = 0; i < o.ladder.size(); ++i) {
    if (i != res.top) runs[i] = run_one(o.ladder[i]);
  }
  RungRun check_run;
  if (check) check_run = run_one(*check);
  res.partial = budget_hit;

  std::vector<HorizonTable> horizons;
  for (const auto& p : o.ladder) horizons.push_back(measure_horizons(p));

  // Comparisons in MPFR at the top's digits (or the check's) plus guard digits.
  res.compare_digits =
      static_cast<unsigned>(check ? check->decimal_digits() : res.cap_digits) + kGuardDigits;
  set_mpfr_digits(res.compare_digits);
  const ExactRankProjector proj(data);
  res.dim_f = proj.rank();
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const RungRun& ref = runs[res.top];
  std::vector<RefPoint> ref_points;
  for (std::size_t i = 0; i < ref.steps.size(); ++i) {
    ref_points.push_back(make_point(proj, ref, i, V, d));
  }
  res.max_top_min_gap = ref.min_gap.empty() ? kNaN : ref.min_gap.front();
  for (double R : ref.min_gap) res.max_top_min_gap = std::max(res.max_top_min_gap, R);
  const auto cap = static_cast<double>(res.cap_digits);
  for (std::size_t i = 0; i < o.ladder.size(); ++i) {
    RungResult r;
    r.precision = o.ladder[i];
    r.optimizer = opt.kind;
    r.is_top = i == res.top;
    r.stopped_early = runs[i].stopped_early;
    r.diverged_at_step = runs[i].diverged_at_step;
    r.seconds = runs[i].seconds;
    r.horizons = horizons[i];
    if (!r.is_top) {
      r.reference = top.name();
      compare_rung(r, runs[i], ref, ref_points, proj, V, d, cap);
    } else {
      r.reference = "none (the top rung is not compared with itself)";
    }
    crossings_and_evidence(r, ref, o.min_digits, opt.kind);
    res.rungs.push_back(std::move(r));
  }
  if (check) {
    // The top against the check run: its own agreement, with the check as reference.
    std::vector<RefPoint> check_points;
    for (std::size_t i = 0; i < check_run.steps.size(); ++i) {
      check_points.push_back(make_point(proj, check_run, i, V, d));
    }
    RungResult r;
    r.precision = top;
    r.optimizer = opt.kind;
    r.is_top = true;
    r.reference = check->name();
    r.stopped_early = ref.stopped_early;
    r.diverged_at_step = ref.diverged_at_step;
    r.seconds = check_run.seconds;
    r.horizons = horizons[res.top];
    compare_rung(r, ref, check_run, check_points, proj, V, d, cap);
    crossings_and_evidence(r, check_run, o.min_digits, opt.kind);
    // The top row itself now carries this agreement.
    res.rungs[res.top].points = r.points;
    res.rungs[res.top].compared = true;
    res.rungs[res.top].reference = check->name() + " (check run)";
    res.rungs[res.top].evidence_last_step = r.evidence_last_step;
    res.rungs[res.top].evidence_reason = r.evidence_reason;
    res.top_check = std::move(r);
  }
  // A comparison with a reference past its own update horizon is no evidence either.
  const RungResult& tr = res.rungs[res.top];
  if (tr.evidence_last_step >= 0 && tr.evidence_reason.rfind("the whole run", 0) != 0) {
    for (std::size_t i = 0; i < res.rungs.size(); ++i) {
      RungResult& x = res.rungs[i];
      if (i == res.top || x.evidence_last_step <= tr.evidence_last_step) continue;
      x.evidence_last_step = tr.evidence_last_step;
      x.evidence_reason =
          "the reference " + tr.precision.name() + " is no longer evidence: " + tr.evidence_reason;
    }
  }
  res.seconds = now_seconds() - t0;
  return res;
}

json horizons_json(const std::vector<HorizonTable>& hs) {
  json a = json::array();
  for (const auto& h : hs) {
    a.push_back(
        {{"precision", h.precision.name()},
         {"unit_roundoff_log", num_json(h.unit_roundoff_log)},
         {"one_plus",
          {{"predicted", num_json(h.predicted_one_plus)},
           {"measured", num_json(h.measured_one_plus)}}},
         {"full_width",
          {{"predicted", num_json(h.predicted_one_plus)},
           {"measured", num_json(h.measured_full_width)}}},
         {"subnormal",
          {{"predicted", num_json(h.predicted_subnormal)},
           {"measured", num_json(h.measured_subnormal)}}},
         {"has_subnormals", h.has_subnormals},
         {"zero",
          {{"predicted", num_json(h.predicted_zero)}, {"measured", num_json(h.measured_zero)}}},
         {"update_horizon", num_json(h.update_horizon())}});
  }
  return a;
}

json ladder_json(const LadderResult& r, const std::vector<HorizonTable>& horizons) {
  json j;
  j["format"] = "ntp-precision-ladder";
  j["version"] = 1;
  j["instance"] = r.instance;
  j["optimizer"] = optimizer_name(r.optimizer);
  j["eta"] = rational_to_string(r.eta);
  j["eta_decimal"] = rational_to_decimal(r.eta, 17);
  j["steps"] = r.steps;
  j["min_digits"] = r.min_digits;
  j["cap_digits"] = r.cap_digits;
  j["compare_digits"] = r.compare_digits;
  j["dim_f"] = r.dim_f;
  j["top"] = r.rungs.empty() ? json(nullptr) : json(r.rungs[r.top].precision.name());
  j["max_top_min_gap"] = num_json(r.max_top_min_gap);
  j["partial"] = r.partial;
  j["seconds"] = r.seconds;
  json rungs = json::array();
  for (const auto& x : r.rungs) rungs.push_back(rung_json(x));
  j["rungs"] = rungs;
  j["horizons"] = horizons_json(horizons);
  return j;
}

std::string horizons_text(const std::vector<HorizonTable>& hs) {
  std::string s =
      "Horizons of theory.md §6: R at which, in each type's own arithmetic (bisection on R),\n"
      "  (a) fl(1 + e^-R) == 1   (a') fl(4/3 + e^-R) == 4/3   (b) e^-R < smallest normal   "
      "(c) e^-R == 0\n"
      "predicted: (a) -ln(eps/2), (b) -ln(min normal), (c) -ln(min positive) "
      "(ScalarTraits; round-to-nearest puts (c) up to ln 2 = 0.69 higher)\n\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-12s %21s %10s %23s %23s %s\n", "type", "(a) pred / measured",
                "(a') meas", "(b) pred / measured", "(c) pred / measured", "subnormals");
  s += buf;
  for (const auto& h : hs) {
    std::snprintf(buf, sizeof buf,
                  "%-12s %10.6g / %-10.6g %10.6g %11.6g / %-11.6g %11.6g / %-11.6g %s\n",
                  h.precision.name().c_str(), h.predicted_one_plus, h.measured_one_plus,
                  h.measured_full_width, h.predicted_subnormal, h.measured_subnormal,
                  h.predicted_zero, h.measured_zero, h.has_subnormals ? "yes" : "none");
    s += buf;
  }
  return s;
}

std::string ladder_text(const LadderResult& r) {
  std::string s;
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "precision ladder: %s, %s, eta %s, %lld steps, reference %s (cap %d digits; "
                "comparisons in MPFR at %u digits; dim F = %lld)%s\n",
                r.instance.c_str(), optimizer_name(r.optimizer).c_str(),
                rational_to_decimal(r.eta, 6).c_str(), static_cast<long long>(r.steps),
                r.rungs[r.top].precision.name().c_str(), r.cap_digits, r.compare_digits,
                static_cast<long long>(r.dim_f), r.partial ? " PARTIAL (--max-seconds)" : "");
  s += buf;
  std::snprintf(buf, sizeof buf,
                "max min-gap R of the reference run: %.4g; evidence needs >= %g digits agreed\n\n",
                r.max_top_min_gap, r.min_digits);
  s += buf;
  s += "min digits agreed over the run, at the last step, horizon crossings (first recorded\n"
       "step with R above (a)/(a')/(b)/(c); '-' not reached) and the last step of evidence:\n";
  std::snprintf(buf, sizeof buf, "%-12s %7s  %-23s  %-23s  %-27s %s\n", "rung", "time s",
                "min: excess W P_F dir", "last: excess W P_F dir", "cross (a) (a') (b) (c)",
                "evidence through");
  s += buf;
  for (const auto& x : r.rungs) {
    std::string mins, lasts;
    if (x.compared && !x.points.empty()) {
      const auto& l = x.points.back();
      mins = digits_cell(min_over(x, &DigitsAgreed::excess)) + " " +
             digits_cell(min_over(x, &DigitsAgreed::w)) + " " +
             digits_cell(min_over(x, &DigitsAgreed::p_f)) + " " +
             digits_cell(min_over(x, &DigitsAgreed::perp_direction));
      lasts = digits_cell(l.excess) + " " + digits_cell(l.w) + " " + digits_cell(l.p_f) + " " +
              digits_cell(l.perp_direction);
    } else {
      mins = "(reference)";
      lasts = "";
    }
    const std::string cross = opt_step(x.cross_one_plus) + " " + opt_step(x.cross_full_width) +
                              " " + opt_step(x.cross_subnormal) + " " + opt_step(x.cross_zero);
    std::snprintf(buf, sizeof buf, "%-12s %7.2f  %-23s  %-23s  %-27s %s (%s)\n",
                  (x.precision.name() + (x.is_top ? "*" : "")).c_str(), x.seconds, mins.c_str(),
                  lasts.c_str(), cross.c_str(),
                  x.evidence_last_step >= 0 ? std::to_string(x.evidence_last_step).c_str() : "none",
                  x.evidence_reason.c_str());
    s += buf;
  }
  s += "* the top rung: ";
  s += r.top_check ? "compared with " + r.top_check->reference + " (--check-top)\n"
                   : "the reference; not compared with itself (--check-top runs it at 1.5x "
                     "digits)\n";
  // Digits agreed for W at selected steps (decades and the last step).
  const RungResult* longest = nullptr;
  for (const auto& x : r.rungs) {
    if (x.compared && (!longest || x.points.size() > longest->points.size())) longest = &x;
  }
  if (longest != nullptr) {
    std::vector<std::int64_t> sel;
    for (const auto& a : longest->points) {
      std::int64_t k = a.step;
      bool decade = k == 0 || k == 1;
      while (k >= 10 && k % 10 == 0) k /= 10;
      decade = decade || k == 1;
      if (decade || &a == &longest->points.back()) sel.push_back(a.step);
    }
    s += "\ndigits agreed for W (and for the excess loss) at selected steps:\n";
    std::snprintf(buf, sizeof buf, "%-12s", "step");
    s += buf;
    for (auto k : sel) {
      std::snprintf(buf, sizeof buf, " %11lld", static_cast<long long>(k));
      s += buf;
    }
    s += "\n";
    for (const auto& x : r.rungs) {
      if (!x.compared) continue;
      std::snprintf(buf, sizeof buf, "%-12s", x.precision.name().c_str());
      s += buf;
      for (auto k : sel) {
        std::string cell = "-";
        for (const auto& a : x.points) {
          if (a.step == k) cell = digits_cell(a.w) + " (" + digits_cell(a.excess) + ")";
        }
        std::snprintf(buf, sizeof buf, " %11s", cell.c_str());
        s += buf;
      }
      s += "\n";
    }
    std::snprintf(buf, sizeof buf, "%-12s", "R (ref)");
    s += buf;
    for (auto k : sel) {
      double R = kNaN;
      for (const auto& a : longest->points) {
        if (a.step == k) R = a.top_min_gap;
      }
      std::snprintf(buf, sizeof buf, " %11.4g", R);
      s += buf;
    }
    s += "\n";
  }
  return s;
}

std::string ladder_csv(const LadderResult& r) {
  std::string s = "rung,step,top_min_gap,rung_min_gap,excess,w,p_f,perp_direction\n";
  auto cell = [](const std::optional<double>& x) {
    return x ? format("%.6g", *x) : std::string("NaN");
  };
  for (const auto& x : r.rungs) {
    for (const auto& a : x.points) {
      s += x.precision.name() + "," + std::to_string(a.step) + "," +
           format("%.17g", a.top_min_gap) + "," + format("%.17g", a.rung_min_gap) + "," +
           cell(a.excess) + "," + cell(a.w) + "," + cell(a.p_f) + "," + cell(a.perp_direction) +
           "\n";
    }
  }
  return s;
}

std::string ladder_gnuplot(const LadderResult& r) {
  std::string rungs;
  for (const auto& x : r.rungs) {
    if (x.compared) rungs += (rungs.empty() ? "" : " ") + x.precision.name();
  }
  std::string s =
      "# digits.gp: generated by ntpcheck precision. Run in this directory: gnuplot digits.gp\n"
      "# (writes digits.png when gnuplot has a png terminal, and digits.svg)\n"
      "if (!exists('out_prefix')) out_prefix = ''\n"
      "set encoding utf8\n"
      "set datafile separator ','\n"
      "set datafile columnheaders\n"
      "rungs = '" +
      rungs +
      "'\n"
      "kx(r) = (strcol('rung') eq r && column('step') > 0) ? column('step') : NaN\n"
      "fin(v) = (v == v) ? v : NaN\n"
      "png_term = ''\n"
      "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) { png_term = 'pngcairo' } else "
      "{ if (strstrt(' '.GPVAL_TERMINALS.' ', ' png ') > 0) { png_term = 'png' } }\n"
      "print 'ntpcheck png terminal: '.png_term\n"
      "fmts = (png_term ne '' ? 'png ' : '').'svg'\n";
  // The y range: the largest digits agreed at a step > 0 (step 0 is not drawn), plus a margin.
  double ymax = 5;
  for (const auto& x : r.rungs) {
    for (const auto& a : x.points) {
      if (a.step == 0) continue;
      for (const auto& v : {a.excess, a.w, a.p_f, a.perp_direction}) {
        if (v) ymax = std::max(ymax, *v + 5);
      }
    }
  }
  ymax = std::min(ymax, static_cast<double>(r.cap_digits) + 2);
  // Horizon crossings: a dashed vertical line per rung and horizon reached, in the rung's colour.
  std::string marks;
  int idx = 0;
  for (const auto& x : r.rungs) {
    if (!x.compared) continue;
    ++idx;
    const std::pair<const char*, std::optional<std::int64_t>> hs[] = {{"a", x.cross_one_plus},
                                                                      {"a'", x.cross_full_width},
                                                                      {"b", x.cross_subnormal},
                                                                      {"c", x.cross_zero}};
    // One line per distinct step, labelled with every horizon crossed there.
    std::map<std::int64_t, std::string> at;
    for (const auto& [label, step] : hs) {
      if (!step || *step <= 0) continue;
      std::string& l = at[*step];
      l += (l.empty() ? "" : ",") + std::string(label);
    }
    for (const auto& [step, labels] : at) {
      marks += "    set arrow from " + std::to_string(step) + ", graph 0 to " +
               std::to_string(step) + ", graph 1 nohead dt 2 lc " + std::to_string(idx) + "\n";
      marks += "    set label " + gp_quote(x.precision.name() + " (" + labels + ")") + " at " +
               std::to_string(step) + ", graph 0.98 rotate by 90 right tc lt " +
               std::to_string(idx) + " font ',8'\n";
    }
  }
  s += "do for [fmt in fmts] {\n"
       "  if (fmt eq 'png') { eval('set terminal '.png_term.' size 1400,1000 enhanced "
       "background rgb \"white\"') } else { set terminal svg size 1400,1000 enhanced font "
       "'Sans,12' background rgb 'white' }\n"
       "  set output out_prefix.'digits.'.fmt\n"
       "  set multiplot layout 2,2 title 'digits agreed with " +
       r.rungs[r.top].precision.name() + " (" + optimizer_name(r.optimizer) + ", eta " +
       rational_to_decimal(r.eta, 6) +
       "); dashed: horizon crossings (a) (a'') (b) (c)'\n"
       "  cols = 'excess w p_f perp_direction'\n"
       "  do for [c = 1:4] {\n"
       "    unset arrow\n    unset label\n"
       "    set logscale x\n    set xlabel 'iteration k'\n    set ylabel 'digits agreed'\n"
       "    set yrange [0:" +
       format("%.0f", ymax) +
       "]\n"
       "    set key outside right top font ',9'\n"
       "    set title (c == 1 ? 'excess loss' : c == 2 ? 'W' : c == 3 ? 'P_F(W)' : "
       "'direction of P_{perp}(W)')\n" +
       marks + "    set arrow from graph 0, first " + format("%g", r.min_digits) +
       " to graph 1, first " + format("%g", r.min_digits) +
       " nohead dt 3 lc rgb 'gray'\n"
       "    plot for [i = 1:words(rungs)] 'digits.csv' using (kx(word(rungs, i))):"
       "(fin(column(word(cols, c)))) with linespoints pt 7 ps 0.4 lc i title word(rungs, i)\n"
       "  }\n"
       "  unset multiplot\n"
       "  set output\n"
       "}\n";
  return s;
}

}  // namespace ntp
