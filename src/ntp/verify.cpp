#include "ntp/verify.hpp"

#include <Eigen/SVD>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "ntp/certificate.hpp"
#include "ntp/compatibility.hpp"
#include "ntp/loss.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/separability.hpp"
#include "ntp/subspace.hpp"
#include "ntp/train.hpp"
#include "ntp/verdict.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

namespace {

using json = nlohmann::json;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/** Steps assumed for the invariant bounds of a point check when the step count is unknown. */
constexpr std::int64_t kAssumedSteps = 10'000;

std::string num(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

/** A report value for text: numbers as %.6g, strings ("nan", "inf") as they are, null "n/a". */
std::string num(const nlohmann::json& x) {
  if (x.is_number()) return num(x.get<double>());
  if (x.is_string()) return x.get<std::string>();
  return "n/a";
}

std::string num17(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/** A double for JSON: finite numbers as numbers, NaN / inf as strings (JSON has none). */
json jnum(double x) {
  if (std::isfinite(x)) return x;
  return num(x);
}

double max_abs(const Eigen::MatrixXd& a) { return a.size() == 0 ? 0.0 : a.cwiseAbs().maxCoeff(); }

/** The first non-finite entry (v, i) of W, if any. */
std::optional<std::pair<Eigen::Index, Eigen::Index>> first_non_finite(const Eigen::MatrixXd& W) {
  for (Eigen::Index v = 0; v < W.rows(); ++v) {
    for (Eigen::Index i = 0; i < W.cols(); ++i) {
      if (!std::isfinite(W(v, i))) return std::make_pair(v, i);
    }
  }
  return std::nullopt;
}

json verdict_json(Verdict v, const std::string& rule, json measured, json bound,
                  const std::string& note = "") {
  json j;
  j["verdict"] = to_string(v);
  j["rule"] = rule;
  j["measured"] = std::move(measured);
  j["bound"] = std::move(bound);
  if (!note.empty()) j["note"] = note;
  return j;
}

/** What the truth precision measures at one W: CE, excess and the log-odds errors. */
struct TruthPoint {
  std::string ce_text, excess_text;
  double ce = 0, excess = 0;
  double max_abs_logit = 0;
  std::vector<double> log_odds_error;  ///< per context
  std::vector<std::int32_t> worst_token;
};

/**
 * CE, excess and the in-support log-odds error of every context at W, in S:
 *   err_j = max_{z in S_j} |(l_z - mean_{S_j} l) - (log p_z - mean_{S_j} log p)|,  l = W h_j,
 * zero exactly when the logits reproduce the log-odds of p_j on S_j ((C), theory.md §2).
 */
template <class S>
TruthPoint truth_point(const InstanceData& data, const Eigen::MatrixXd& W) {
  using T = ScalarTraits<S>;
  const Instance<S> inst = to_scalar<S>(data);
  LossWorkspace<S> ws(inst);
  const Matrix<S> Ws = from_double_matrix<S>(W);
  const LossValue<S> val = loss_and_gradient(inst, Ws, ws, nullptr);
  TruthPoint t;
  t.ce = T::to_double(val.ce);
  t.excess = T::to_double(val.excess);
  t.ce_text = T::to_string(val.ce);
  t.excess_text = T::to_string(val.excess);
  t.log_odds_error.assign(static_cast<std::size_t>(inst.m), 0.0);
  t.worst_token.assign(static_cast<std::size_t>(inst.m), -1);
  for (std::int64_t j = 0; j < inst.m; ++j) {
    for (std::int64_t v = 0; v < inst.V; ++v) {
      t.max_abs_logit = std::max(t.max_abs_logit, std::abs(T::to_double(ws.logits(v, j))));
    }
    const std::int64_t n = inst.support_size(j);
    if (n < 2) continue;
    S mean_l(0), mean_p(0);
    for (std::int64_t e = inst.offset[j]; e < inst.offset[j + 1]; ++e) {
      mean_l += ws.logits(inst.token[e], j);
      mean_p += inst.log_prob(e);
    }
    mean_l /= S(static_cast<double>(n));
    mean_p /= S(static_cast<double>(n));
    for (std::int64_t e = inst.offset[j]; e < inst.offset[j + 1]; ++e) {
      const S diff = (ws.logits(inst.token[e], j) - mean_l) - (inst.log_prob(e) - mean_p);
      const double err = std::abs(T::to_double(diff));
      if (err > t.log_odds_error[j] || t.worst_token[j] < 0) {
        t.log_odds_error[j] = err;
        t.worst_token[j] = inst.token[e];
      }
    }
  }
  return t;
}

TruthPoint truth_point_at(const InstanceData& data, const Eigen::MatrixXd& W,
                          const PrecisionSpec& p) {
  switch (p.kind) {
    case Precision::kFloat:
      return truth_point<float>(data, W);
    case Precision::kDouble:
      return truth_point<double>(data, W);
    case Precision::kLongDouble:
      return truth_point<long double>(data, W);
    case Precision::kDD:
      return truth_point<dd_real>(data, W);
    case Precision::kQD:
      return truth_point<qd_real>(data, W);
    case Precision::kFloat128:
      return truth_point<Float128>(data, W);
    case Precision::kMp50:
      return truth_point<Mp50>(data, W);
    case Precision::kMpfr:
      set_mpfr_digits(p.mpfr_digits);
      return truth_point<Mpfr>(data, W);
  }
  return truth_point<double>(data, W);
}

/** The reference objects of theory.md §2-§3 in double, computed once per verification. */
struct ReferenceObjects {
  bool attempted = false;
  std::optional<SubspaceBasis> f;
  std::string f_reason;
  std::optional<Eigen::MatrixXd> w_star;
  double w_star_error = 0;  ///< rigorous max-entry error of the double W*
  std::string w_star_reason;
  std::optional<Eigen::MatrixXd> w_mm;
  std::string w_mm_reason;
};

ReferenceObjects reference_objects(const InstanceData& data) {
  ReferenceObjects r;
  r.attempted = true;
  try {
    r.f = subspace_basis(to_scalar<double>(data));
  } catch (const InvalidInput& e) {
    r.f_reason = e.what();
  }
  CompatibilityOptions copt;
  copt.compute_w_star = false;
  const CompatibilityResult compat = check_compatibility(data, copt);
  if (compat.verdict == Verdict::kHolds) {
    const WStarResult ws = enclose_w_star(data, compat.verdict, 200, compat.rank);
    if (ws.computed) {
      r.w_star = ws.w_double;
      r.w_star_error = ws.max_error_double;
    } else {
      r.w_star_reason = "W* not computed: " + ws.reason;
    }
  } else {
    r.w_star_reason = "W* does not exist: (C) is " + to_string(compat.verdict) +
                      (compat.reason.empty() ? "" : " (" + compat.reason + ")");
  }
  const SeparabilityResult sep = decide_separability(data);
  if (sep.verdict == Verdict::kHolds) {
    const MaxMarginResult mm = compute_w_mm(data, sep.verdict);
    if (mm.status == MaxMarginStatus::kProven) {
      r.w_mm = mm.w_double;
    } else {
      r.w_mm_reason = "W^mm not computed: " + to_string(mm.status) + " " + mm.reason;
    }
  } else {
    r.w_mm_reason = "W^mm does not exist: (6) is " + to_string(sep.verdict) +
                    (sep.reason.empty() ? "" : " (" + sep.reason + ")");
  }
  return r;
}

/** Orthonormal basis (d x (d - r)) of the complement of span{h_j} in R^d, by a double SVD of
 * Hbar; r counts singular values above max(d, m) eps sigma_1. */
Eigen::MatrixXd span_complement(const InstanceData& data) {
  const Instance<double> inst = to_scalar<double>(data);
  Eigen::BDCSVD<Eigen::MatrixXd> svd(inst.Hbar, Eigen::ComputeFullU);
  const auto& s = svd.singularValues();
  const double tol = s.size() == 0 ? 0.0
                                   : static_cast<double>(std::max(inst.d, inst.m)) *
                                         std::numeric_limits<double>::epsilon() * s(0);
  Eigen::Index r = 0;
  while (r < s.size() && s(r) > tol) ++r;
  return svd.matrixU().rightCols(inst.d - r);
}

json point_check(const InstanceData& data, const Eigen::MatrixXd& W, double u_c,
                 const Eigen::MatrixXd& W0, const VerifyOptions& opt, bool gd_invariants,
                 const ReferenceObjects* refs, Verdict* overall) {
  json out;
  const double u_d = std::numeric_limits<double>::epsilon() / 2;
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const bool steps_known = opt.steps_taken >= 0;
  const double k1 = static_cast<double>((steps_known ? opt.steps_taken : kAssumedSteps) + 1);
  out["steps_taken"] = steps_known ? json(opt.steps_taken) : json(nullptr);
  if (!steps_known) {
    out["steps_assumed"] = kAssumedSteps;
  }
  json verdicts;
  auto worsen = [&](Verdict v) {
    if (v == Verdict::kViolated) *overall = Verdict::kViolated;
    if (v == Verdict::kInconclusive && *overall == Verdict::kHolds) *overall = v;
  };

  // finite
  if (const auto bad = first_non_finite(W)) {
    verdicts["finite"] =
        verdict_json(Verdict::kViolated, "every entry of W is finite",
                     "W[" + std::to_string(bad->first) + "][" + std::to_string(bad->second) +
                         "] = " + num(W(bad->first, bad->second)),
                     nullptr);
    worsen(Verdict::kViolated);
    out["verdicts"] = verdicts;
    return out;
  }
  verdicts["finite"] = verdict_json(Verdict::kHolds, "every entry of W is finite", true, nullptr);

  const Eigen::MatrixXd D = W - W0;
  const double scale = std::max({max_abs(W), max_abs(W0), max_abs(D)});
  out["max_abs_entry"] = max_abs(W);

  // Column sums of W - W0: every gradient column sums to zero [theory.md §4].
  {
    const Eigen::RowVectorXd cs = D.colwise().sum();
    Eigen::Index where = 0;
    const double measured = cs.size() ? cs.cwiseAbs().maxCoeff(&where) : 0.0;
    const double bound = opt.tolerance * u_c * k1 * static_cast<double>(V) * scale;
    json c;
    if (!gd_invariants) {
      c = verdict_json(Verdict::kNotApplicable, "1^T (W - W0) = 0 (GD and NGD only)", measured,
                       nullptr, "Adam scales each entry: the column sums are not invariant");
    } else {
      const Verdict v = measured <= bound ? Verdict::kHolds : Verdict::kViolated;
      c = verdict_json(v,
                       "max_i |sum_v (W - W0)_vi| <= tolerance * u_c * (k + 1) * V * max|W|: "
                       "gradient columns sum to zero",
                       measured, bound);
      c["worst_column"] = where;
      worsen(v);
    }
    verdicts["column_sums"] = c;
  }

  // Rows of W - W0 in span{h_j}: grad CE = (S - P) diag(pi) Hbar^T [theory.md §4].
  {
    const Eigen::MatrixXd N = span_complement(data);
    json c;
    if (N.cols() == 0) {
      c = verdict_json(Verdict::kNotApplicable, "rows of W - W0 in span{h_j}", nullptr, nullptr,
                       "span{h_j} = R^d: nothing to check");
    } else if (!gd_invariants) {
      c = verdict_json(Verdict::kNotApplicable, "rows of W - W0 in span{h_j} (GD and NGD only)",
                       max_abs(D * N * N.transpose()), nullptr,
                       "Adam scales each entry: the row span is not invariant");
    } else {
      const double measured = max_abs(D * N * N.transpose());
      // Each step's rounding moves W by at most u_c |W| entrywise, out of the span too; the
      // double SVD adds its own error.
      const double bound =
          opt.tolerance * (u_c * k1 + u_d) * std::sqrt(static_cast<double>(d)) * scale;
      const Verdict v = measured <= bound ? Verdict::kHolds : Verdict::kViolated;
      c = verdict_json(v,
                       "max |(W - W0) N N^T| <= tolerance * (u_c (k + 1) + u_d) * sqrt(d) * "
                       "max|W|, N spanning span{h_j}^perp",
                       measured, bound);
      c["complement_dim"] = N.cols();
      worsen(v);
    }
    verdicts["row_span"] = c;
  }

  // CE, excess and log-odds in the truth precision (W is exact: these are exact to its digits).
  const TruthPoint t = truth_point_at(data, W, opt.truth);
  out["precision"] = opt.truth.name();
  out["ce"] = t.ce_text;
  out["excess"] = t.excess_text;
  out["ce_double"] = t.ce;
  out["excess_double"] = t.excess;
  out["max_abs_logit"] = t.max_abs_logit;
  {
    json lo;
    std::size_t worst = 0;
    for (std::size_t j = 0; j < t.log_odds_error.size(); ++j) {
      if (t.log_odds_error[j] > t.log_odds_error[worst]) worst = j;
    }
    lo["rule"] = "err_j = max_{z in S_j} |(l_z - mean_S l) - (log p_z - mean_S log p)|, l = W h_j";
    if (!t.log_odds_error.empty()) {
      lo["worst_context"] = worst;
      lo["worst_token"] = t.worst_token[worst];
      lo["worst_error"] = t.log_odds_error[worst];
      double mean = 0;
      for (double e : t.log_odds_error) mean += e;
      lo["mean_error"] = mean / static_cast<double>(t.log_odds_error.size());
      if (t.log_odds_error.size() <= 10'000) lo["per_context"] = t.log_odds_error;
    }
    out["log_odds"] = lo;
  }
  if (std::isfinite(opt.reported_loss)) {
    // A correct evaluation of sum_j pi_j (lse(l_j) - sum p l) in precision u_c errs by a few u_c
    // times the magnitudes involved: |logits|, log V and CE itself.
    const double measured = std::abs(opt.reported_loss - t.ce);
    const double bound =
        opt.tolerance * u_c * (1 + t.ce + t.max_abs_logit + std::log(static_cast<double>(V)));
    const Verdict v = measured <= bound ? Verdict::kHolds : Verdict::kViolated;
    json c =
        verdict_json(v, "|reported CE - CE(W)| <= tolerance * u_c * (1 + CE + max|logit| + log V)",
                     measured, bound);
    c["reported"] = opt.reported_loss;
    verdicts["reported_loss"] = c;
    worsen(v);
  } else if (!std::isnan(opt.reported_loss)) {
    verdicts["reported_loss"] = verdict_json(Verdict::kViolated, "the reported CE is finite",
                                             num(opt.reported_loss), nullptr);
    worsen(Verdict::kViolated);
  }

  // Position relative to the theory's objects (theory.md §3: P_F W -> W*, P_perp W ~ W^mm).
  if (refs != nullptr) {
    json th;
    if (refs->f) {
      const Eigen::MatrixXd pf = project_f(*refs->f, W);
      const Eigen::MatrixXd pp = W - pf;
      th["dim_f"] = refs->f->rank;
      th["norm_P_F_W"] = pf.norm();
      th["norm_P_perp_W"] = pp.norm();
      if (refs->w_star) {
        th["distance_P_F_W_to_W_star"] = (pf - *refs->w_star).norm();
        th["norm_W_star"] = refs->w_star->norm();
        th["w_star_max_error"] = refs->w_star_error;
      } else {
        th["distance_P_F_W_to_W_star"] = nullptr;
        th["w_star_note"] = refs->w_star_reason;
      }
      if (refs->w_mm) {
        const double a = pp.norm();
        const double b = refs->w_mm->norm();
        th["cos_P_perp_W_W_mm"] =
            (a > 0 && b > 0) ? json(pp.cwiseProduct(*refs->w_mm).sum() / (a * b)) : json(nullptr);
        th["norm_W_mm"] = b;
      } else {
        th["cos_P_perp_W_W_mm"] = nullptr;
        th["w_mm_note"] = refs->w_mm_reason;
      }
      th["precision"] = "double";
    } else {
      th["note"] = "subspace F not computed: " + refs->f_reason;
    }
    out["theory"] = th;
  }
  out["verdicts"] = verdicts;
  return out;
}

ExitCode exit_of(Verdict v) {
  switch (v) {
    case Verdict::kViolated:
      return ExitCode::kViolated;
    case Verdict::kInconclusive:
      return ExitCode::kInconclusive;
    default:
      return ExitCode::kAllHold;
  }
}

json instance_json(const InstanceData& data) {
  return {{"name", data.name},
          {"vocab_size", data.vocab_size},
          {"embedding_dim", data.embedding_dim},
          {"num_contexts", data.num_contexts()},
          {"fingerprint", instance_fingerprint(data)}};
}

Eigen::MatrixXd init_or_zero(const InstanceData& data, const Eigen::MatrixXd* W0) {
  if (W0 == nullptr) return Eigen::MatrixXd::Zero(data.vocab_size, data.embedding_dim);
  if (W0->rows() != data.vocab_size || W0->cols() != data.embedding_dim) {
    throw InvalidInput("invalid W0: shape must be (" + std::to_string(data.vocab_size) + ", " +
                       std::to_string(data.embedding_dim) + "), got (" +
                       std::to_string(W0->rows()) + ", " + std::to_string(W0->cols()) + ")");
  }
  if (const auto bad = first_non_finite(*W0)) {
    throw InvalidInput("invalid W0: entry [" + std::to_string(bad->first) + "][" +
                       std::to_string(bad->second) + "] must be finite, got " +
                       num((*W0)(bad->first, bad->second)));
  }
  return *W0;
}

void check_options(const VerifyOptions& o) {
  if (!(o.factor >= 0) || !std::isfinite(o.factor)) {
    throw InvalidInput("invalid option: --factor must be finite and >= 0, got " + num(o.factor));
  }
  if (!(o.max_allowed_relative > 0) || !std::isfinite(o.max_allowed_relative)) {
    throw InvalidInput("invalid option: --max-relative-error must be finite and > 0, got " +
                       num(o.max_allowed_relative));
  }
  if (!(o.max_seconds >= 0) || !std::isfinite(o.max_seconds)) {
    throw InvalidInput(
        "invalid option: --max-seconds must be a non-negative number (0: no limit), got " +
        num(o.max_seconds));
  }
  if (!(o.tolerance > 0) || !std::isfinite(o.tolerance)) {
    throw InvalidInput("invalid option: --tolerance must be finite and > 0, got " +
                       num(o.tolerance));
  }
}

/**
 * kappa = max|(S + P) diag(pi) |Hbar|^T| / max|grad CE(W)| at W (double): how much larger the
 * terms of the gradient sum are than the gradient, i.e. the relative error factor of a kernel that
 * forms s - p by subtraction. Infinite when the gradient is zero.
 */
double cancellation_ratio(const Instance<double>& inst, const Eigen::MatrixXd& W) {
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd G;
  (void)loss_and_gradient(inst, W, ws, &G);
  Eigen::MatrixXd SP(inst.V, inst.m);  // S + P, column j = softmax(W h_j) + p_j
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const Eigen::VectorXd l = ws.logits.col(j);
    const double mx = l.maxCoeff();
    const Eigen::VectorXd e = (l.array() - mx).exp();
    SP.col(j) = e / e.sum();
    for (std::int64_t q = inst.offset[j]; q < inst.offset[j + 1]; ++q) {
      SP(inst.token[q], j) += inst.prob(q);
    }
  }
  const Eigen::MatrixXd M = SP * inst.pi.asDiagonal() * inst.Hbar.cwiseAbs().transpose();
  const double g = G.size() ? G.cwiseAbs().maxCoeff() : 0.0;
  const double mm = M.size() ? M.cwiseAbs().maxCoeff() : 0.0;
  if (!(g > 0)) return std::numeric_limits<double>::infinity();
  return std::max(1.0, mm / g);
}

}  // namespace

double candidate_unit_roundoff(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kFloat32:
      return 0x1.0p-24;
    case NpyDtype::kFloat64:
      return 0x1.0p-53;
    default:
      throw InvalidInput("candidate weights: dtype must be float32 or float64, got " +
                         std::string(npy_dtype_name(dtype)));
  }
}

CandidateWeights candidate_weights_from_array(const NpyArray& array, std::int64_t V, std::int64_t d,
                                              const std::string& what) {
  if (!is_floating(array.dtype)) {
    throw InvalidInput(what + ": dtype must be float32 or float64, got " +
                       std::string(npy_dtype_name(array.dtype)));
  }
  check_npy_shape(array, {V, d}, what);
  CandidateWeights c;
  c.dtype = array.dtype;
  c.W = Eigen::Map<const RowMajor>(array.f64.data(), V, d);
  return c;
}

CandidateWeights read_candidate_weights(const std::string& path, std::int64_t V, std::int64_t d) {
  return candidate_weights_from_array(read_npy(path), V, d, "npy file " + path);
}

CandidateTrajectory candidate_trajectory_from_arrays(const std::map<std::string, NpyArray>& arrays,
                                                     std::int64_t V, std::int64_t d,
                                                     const std::string& what) {
  const auto step_it = arrays.find("step");
  if (step_it == arrays.end()) {
    throw InvalidInput(what + ": array step is missing (expected int64 [K])");
  }
  const auto w_it = arrays.find("W");
  if (w_it == arrays.end()) {
    throw InvalidInput(what + ": array W is missing (expected float [K, V, d])");
  }
  const NpyArray& st = step_it->second;
  const NpyArray& w = w_it->second;
  if (is_floating(st.dtype)) {
    throw InvalidInput(what + ": array step must have an integer dtype, got " +
                       std::string(npy_dtype_name(st.dtype)));
  }
  if (st.rank() != 1) {
    throw InvalidInput(what + ": array step must have shape (K,), got " +
                       npy_shape_string(st.shape));
  }
  const std::int64_t K = st.shape[0];
  if (K < 1) throw InvalidInput(what + ": array step must hold at least one step, got (0,)");
  if (!is_floating(w.dtype)) {
    throw InvalidInput(what + ": array W must be float32 or float64, got " +
                       std::string(npy_dtype_name(w.dtype)));
  }
  check_npy_shape(w, {K, V, d}, what + ": array W");
  CandidateTrajectory t;
  t.dtype = w.dtype;
  t.steps = st.i64;
  for (std::int64_t k = 0; k < K; ++k) {
    const std::int64_t s = t.steps[static_cast<std::size_t>(k)];
    if (s < 0 || s > kMaxVerifySteps) {
      throw InvalidInput(what + ": array step entry " + std::to_string(k) + " must be in [0, " +
                         std::to_string(kMaxVerifySteps) + "], got " + std::to_string(s));
    }
    if (k > 0 && s <= t.steps[static_cast<std::size_t>(k - 1)]) {
      throw InvalidInput(what + ": array step must be strictly increasing, got " +
                         std::to_string(t.steps[static_cast<std::size_t>(k - 1)]) + " then " +
                         std::to_string(s) + " at entry " + std::to_string(k));
    }
  }
  t.weights.reserve(static_cast<std::size_t>(K));
  const std::size_t block = static_cast<std::size_t>(V * d);
  for (std::int64_t k = 0; k < K; ++k) {
    t.weights.emplace_back(
        Eigen::Map<const RowMajor>(w.f64.data() + static_cast<std::size_t>(k) * block, V, d));
  }
  for (const char* name : {"loss", "ce"}) {
    const auto it = arrays.find(name);
    if (it == arrays.end()) continue;
    const NpyArray& l = it->second;
    if (!is_floating(l.dtype)) {
      throw InvalidInput(what + ": array " + name + " must be float32 or float64, got " +
                         std::string(npy_dtype_name(l.dtype)));
    }
    check_npy_shape(l, {K}, what + ": array " + std::string(name));
    t.loss = l.f64;
    break;
  }
  return t;
}

CandidateTrajectory read_candidate_trajectory(const std::string& path, std::int64_t V,
                                              std::int64_t d) {
  return candidate_trajectory_from_arrays(read_npz(path), V, d, "npz file " + path);
}

VerifyResult verify_weights(const InstanceData& data, const CandidateWeights& candidate,
                            const Eigen::MatrixXd* W0, const VerifyOptions& options) {
  check_options(options);
  const double u_c = candidate_unit_roundoff(candidate.dtype);
  if (candidate.W.rows() != data.vocab_size || candidate.W.cols() != data.embedding_dim) {
    throw InvalidInput("candidate weights: shape must be (" + std::to_string(data.vocab_size) +
                       ", " + std::to_string(data.embedding_dim) + "), got (" +
                       std::to_string(candidate.W.rows()) + ", " +
                       std::to_string(candidate.W.cols()) + ")");
  }
  const Eigen::MatrixXd w0 = init_or_zero(data, W0);
  ReferenceObjects refs;
  if (options.reference_objects) refs = reference_objects(data);
  Verdict overall = Verdict::kHolds;
  json report;
  report["format"] = "ntp-verify";
  report["version"] = 1;
  report["mode"] = "weights";
  report["instance"] = instance_json(data);
  report["candidate"] = {{"dtype", std::string(npy_dtype_name(candidate.dtype))},
                         {"unit_roundoff", u_c}};
  report["tolerance"] = options.tolerance;
  report["point"] = point_check(data, candidate.W, u_c, w0, options, options.gd_invariants,
                                options.reference_objects ? &refs : nullptr, &overall);
  report["verdict"] = to_string(overall);
  VerifyResult r;
  r.exit = exit_of(overall);
  report["exit_code"] = static_cast<int>(r.exit);
  r.report = std::move(report);
  return r;
}

VerifyResult verify_trajectory(const InstanceData& data, const CandidateTrajectory& candidate,
                               const OptimizerOptions& opt_in, const Eigen::MatrixXd* W0,
                               const VerifyOptions& options, const ProgressFn& progress) {
  check_options(options);
  if (!opt_in.eta || *opt_in.eta <= 0) {
    throw InvalidInput("invalid option: --eta must be a positive number, got " +
                       (opt_in.eta ? rational_to_string(*opt_in.eta) : std::string("none")));
  }
  const double u_c = candidate_unit_roundoff(candidate.dtype);
  const double u_d = std::numeric_limits<double>::epsilon() / 2;
  const std::size_t K = candidate.steps.size();
  if (K == 0 || candidate.weights.size() != K ||
      (!candidate.loss.empty() && candidate.loss.size() != K)) {
    throw InvalidInput("candidate trajectory: step, W and loss must have the same length K >= 1");
  }
  for (std::size_t k = 0; k < K; ++k) {
    if (candidate.weights[k].rows() != data.vocab_size ||
        candidate.weights[k].cols() != data.embedding_dim) {
      throw InvalidInput("candidate trajectory: W[" + std::to_string(k) + "] must have shape (" +
                         std::to_string(data.vocab_size) + ", " +
                         std::to_string(data.embedding_dim) + ")");
    }
    if (candidate.steps[k] < 0 || candidate.steps[k] > kMaxVerifySteps ||
        (k > 0 && candidate.steps[k] <= candidate.steps[k - 1])) {
      throw InvalidInput("candidate trajectory: steps must be strictly increasing in [0, " +
                         std::to_string(kMaxVerifySteps) + "], got " +
                         std::to_string(candidate.steps[k]) + " at entry " + std::to_string(k));
    }
  }
  const Eigen::MatrixXd w0 = init_or_zero(data, W0);

  // Replay in double and in the truth precision, recording exactly the candidate's steps (and
  // step 1, the scale of step 0).
  OptimizerOptions opt = opt_in;
  opt.steps = candidate.steps.back();
  opt.points_per_decade = 0;
  opt.extra_record_steps = candidate.steps;
  opt.record_weights = true;
  // The truth first, with the whole time budget (it is the expensive one); the double replay
  // then only as far as the truth got.
  const auto start = std::chrono::steady_clock::now();
  const ProgressFn budgeted = [&](std::int64_t k, std::int64_t n) {
    if (options.max_seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
            options.max_seconds) {
      return false;
    }
    return !progress || progress(k, n);
  };
  const TrainResult truth = train(data, opt, options.truth, &w0, budgeted);
  OptimizerOptions opt_d = opt;
  if (truth.stopped_early && !truth.step.empty()) opt_d.steps = truth.step.back();
  const TrainResult ref =
      train(data, opt_d, PrecisionSpec{Precision::kDouble, 0}, &w0,
            [&](std::int64_t k, std::int64_t n) { return !progress || progress(k, n); });
  const bool normalised = opt.kind != OptimizerKind::kGD;
  const Instance<double> inst_d = to_scalar<double>(data);
  double kappa = 1;  // max cancellation ratio over the truth's checkpoints so far
  auto index_of = [](const TrainResult& r, std::int64_t s) -> std::optional<std::size_t> {
    const auto it = std::lower_bound(r.step.begin(), r.step.end(), s);
    if (it == r.step.end() || *it != s) return std::nullopt;
    return static_cast<std::size_t>(it - r.step.begin());
  };
  const std::optional<std::size_t> t1 = index_of(truth, 1);
  const double scale1 = t1 ? max_abs(truth.weights[*t1]) : 0.0;

  json checkpoints = json::array();
  Verdict overall = Verdict::kHolds;
  std::int64_t first_fail = -1;
  json first_fail_entry;
  double worst_ratio = -1;
  json worst;
  std::size_t compared = 0;
  std::string inconclusive_reason;
  double max_ratio_eps = 0;  // max e_c / (u_c (k + 1))
  double max_ratio_ref = 0;  // max e_c / ((u_c / u_d) e_d) where e_d > 0
  for (std::size_t k = 0; k < K; ++k) {
    const std::int64_t s = candidate.steps[k];
    json c;
    c["step"] = s;
    const auto it = index_of(truth, s);
    const auto id = index_of(ref, s);
    if (!it || !id) {
      // The replay stopped before this step: the time budget, or it diverged (non-finite loss).
      c["status"] = "not_compared";
      if (truth.stopped_early || ref.stopped_early) {
        c["reason"] = std::string("the replay was stopped by the time budget (--max-seconds)");
      } else {
        c["reason"] = "the reference replay diverged at step " +
                      std::to_string(truth.diverged_at_step >= 0 ? truth.diverged_at_step
                                                                 : ref.diverged_at_step) +
                      " (eta too large for this instance?)";
      }
      if (inconclusive_reason.empty()) inconclusive_reason = c["reason"];
      if (overall == Verdict::kHolds) overall = Verdict::kInconclusive;
      checkpoints.push_back(c);
      continue;
    }
    const Eigen::MatrixXd& Wt = truth.weights[*it];
    const Eigen::MatrixXd& Wd = ref.weights[*id];
    const Eigen::MatrixXd& Wc = candidate.weights[k];
    double scale = std::max(max_abs(Wt), scale1);
    if (!(scale > 0) || !std::isfinite(scale)) scale = 1;
    const Eigen::MatrixXd Ec = (Wc - Wt).cwiseAbs();
    Eigen::Index wv = 0, wi = 0;
    double ec = 0;
    if (const auto bad = first_non_finite(Wc)) {
      wv = bad->first;
      wi = bad->second;
      ec = std::numeric_limits<double>::infinity();
    } else {
      ec = Ec.maxCoeff(&wv, &wi) / scale;
    }
    const double ed = max_abs(Wd - Wt) / scale;
    const double kk = static_cast<double>(s + 1);
    if (normalised) kappa = std::max(kappa, cancellation_ratio(inst_d, Wt));
    const double allowed =
        options.factor * (u_c / u_d) * ed + options.tolerance * u_c * kk * (normalised ? kappa : 1);
    const double capped = std::min(allowed, options.max_allowed_relative);
    const bool pass = ec <= capped;
    ++compared;
    c["status"] = pass ? "pass" : (ec <= allowed ? "inconclusive" : "fail");
    if (normalised) c["kappa"] = kappa;
    if (allowed > capped) c["allowed_uncapped"] = allowed;
    if (!pass && ec <= allowed) {
      c["reason"] = "the allowance exceeds the cap " + num(options.max_allowed_relative) +
                    ": this run amplifies rounding too much to be judged in this precision";
      if (inconclusive_reason.empty()) inconclusive_reason = c["reason"];
      if (overall == Verdict::kHolds) overall = Verdict::kInconclusive;
    }
    c["error_candidate"] = jnum(ec);
    c["error_double"] = ed;
    c["allowed"] = capped;
    c["scale"] = scale;
    c["ratio_to_eps_steps"] = jnum(ec / (u_c * kk));
    if (ed > 0) c["ratio_to_double"] = jnum(ec / ((u_c / u_d) * ed));
    c["worst_entry"] = {
        {"row", wv}, {"col", wi}, {"candidate", jnum(Wc(wv, wi))}, {"truth", jnum(Wt(wv, wi))}};
    if (std::isfinite(ec)) {
      max_ratio_eps = std::max(max_ratio_eps, ec / (u_c * kk));
      if (ed > 0) max_ratio_ref = std::max(max_ratio_ref, ec / ((u_c / u_d) * ed));
    }
    if (!candidate.loss.empty()) {
      const double rep = candidate.loss[k];
      double bound = 0;
      double measured = std::numeric_limits<double>::infinity();
      if (std::isfinite(ec)) {
        const TruthPoint tp = truth_point_at(data, Wc, options.truth);
        measured = std::abs(rep - tp.ce);
        bound = options.tolerance * u_c *
                (1 + tp.ce + tp.max_abs_logit + std::log(static_cast<double>(data.vocab_size)));
      }
      const bool lpass = measured <= bound;  // NaN reported loss fails
      c["loss"] = {{"reported", jnum(rep)},
                   {"error", jnum(measured)},
                   {"allowed", bound},
                   {"status", lpass ? "pass" : "fail"}};
      if (!lpass) {
        c["status"] = "fail";
      }
    }
    const bool cpass = c["status"] != "fail";
    const double ratio = capped > 0 ? ec / capped : std::numeric_limits<double>::infinity();
    if (worst.is_null() || ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = c;
    }
    if (!cpass) {
      overall = Verdict::kViolated;
      if (first_fail < 0) {
        first_fail = s;
        first_fail_entry = c;
      }
    }
    checkpoints.push_back(c);
  }

  json report;
  report["format"] = "ntp-verify";
  report["version"] = 1;
  report["mode"] = "trajectory";
  report["partial"] = truth.stopped_early || ref.stopped_early;
  report["instance"] = instance_json(data);
  report["candidate"] = {{"dtype", std::string(npy_dtype_name(candidate.dtype))},
                         {"unit_roundoff", u_c},
                         {"checkpoints", K},
                         {"has_loss", !candidate.loss.empty()}};
  json tr;
  tr["optimizer"] = optimizer_name(opt.kind);
  tr["eta"] = rational_to_string(*opt.eta);
  tr["steps"] = opt.steps;
  tr["truth"] = options.truth.name();
  tr["rule"] =
      std::string("e_c(k) <= min(cap, factor * (u_c / u_d) * e_d(k) + tolerance * u_c * (k + 1)") +
      (normalised ? " * kappa(k)" : "") +
      "), e = max-entry error against the truth replay / max(max|W_t(k)|, max|W_t(1)|); above "
      "the cap but within the uncapped allowance: inconclusive";
  tr["factor"] = options.factor;
  tr["tolerance"] = options.tolerance;
  tr["max_allowed_relative"] = options.max_allowed_relative;
  if (normalised) tr["kappa"] = kappa;
  tr["compared"] = compared;
  tr["max_ratio_to_eps_steps"] = max_ratio_eps;
  tr["max_ratio_to_double"] = max_ratio_ref;
  tr["first_failing_step"] = first_fail >= 0 ? json(first_fail) : json(nullptr);
  if (first_fail >= 0) tr["first_failure"] = first_fail_entry;
  tr["worst_checkpoint"] = worst;
  if (truth.diverged_at_step >= 0) tr["truth_diverged_at_step"] = truth.diverged_at_step;
  if (!inconclusive_reason.empty()) tr["inconclusive_reason"] = inconclusive_reason;
  tr["checkpoints"] = checkpoints;
  report["trajectory"] = tr;

  // The point check of the last checkpoint (invariants with the known step count).
  VerifyOptions po = options;
  po.steps_taken = candidate.steps.back();
  po.reported_loss = std::numeric_limits<double>::quiet_NaN();
  Verdict point_overall = Verdict::kHolds;
  ReferenceObjects refs;
  if (options.reference_objects) refs = reference_objects(data);
  report["final_point"] =
      point_check(data, candidate.weights.back(), u_c, w0, po, opt.kind != OptimizerKind::kAdam,
                  options.reference_objects ? &refs : nullptr, &point_overall);
  if (point_overall == Verdict::kViolated) overall = Verdict::kViolated;
  report["verdict"] = to_string(overall);
  VerifyResult r;
  r.exit = exit_of(overall);
  report["exit_code"] = static_cast<int>(r.exit);
  r.report = std::move(report);
  return r;
}

std::string format_verify(const json& report) {
  std::string s;
  auto line = [&](const std::string& l) {
    if (!s.empty()) s += '\n';
    s += l;
  };
  const json& inst = report.at("instance");
  const json& cand = report.at("candidate");
  line("verify " + report.at("mode").get<std::string>() + " on " +
       inst.at("name").get<std::string>() +
       " (V=" + std::to_string(inst.at("vocab_size").get<long long>()) +
       ", d=" + std::to_string(inst.at("embedding_dim").get<long long>()) +
       ", m=" + std::to_string(inst.at("num_contexts").get<long long>()) + "), candidate " +
       cand.at("dtype").get<std::string>() + " (u_c = " + num(cand.at("unit_roundoff")) + ")");
  auto point_lines = [&](const json& p, const std::string& title) {
    line(title);
    if (p.contains("ce")) {
      line("  CE = " + num17(p.at("ce_double")) + "   excess = " + num17(p.at("excess_double")) +
           "   (evaluated in " + p.at("precision").get<std::string>() + ")");
    }
    if (p.contains("log_odds") && p.at("log_odds").contains("worst_context")) {
      const json& lo = p.at("log_odds");
      line("  in-support log-odds error: worst context " +
           std::to_string(lo.at("worst_context").get<long long>()) + " (token " +
           std::to_string(lo.at("worst_token").get<long long>()) +
           "): " + num(lo.at("worst_error")) + ", mean " + num(lo.at("mean_error")));
    }
    if (p.contains("theory")) {
      const json& th = p.at("theory");
      std::string l = "  ";
      if (th.contains("distance_P_F_W_to_W_star")) {
        l += "||P_F W - W*|| = " + (th.at("distance_P_F_W_to_W_star").is_null()
                                        ? std::string("n/a")
                                        : num(th.at("distance_P_F_W_to_W_star")));
      }
      if (th.contains("cos_P_perp_W_W_mm")) {
        l += "   cos(P_perp W, W^mm) = " + (th.at("cos_P_perp_W_W_mm").is_null()
                                                ? std::string("n/a")
                                                : num(th.at("cos_P_perp_W_W_mm")));
      }
      if (th.contains("note")) l += th.at("note").get<std::string>();
      line(l);
    }
    for (const auto& [name, v] : p.at("verdicts").items()) {
      std::string l = "  " + name + ": " + v.at("verdict").get<std::string>();
      if (v.at("measured").is_number()) l += "  measured " + num(v.at("measured"));
      if (v.at("measured").is_string()) l += "  " + v.at("measured").get<std::string>();
      if (v.at("bound").is_number()) l += "  bound " + num(v.at("bound"));
      if (v.contains("note")) l += "  (" + v.at("note").get<std::string>() + ")";
      line(l);
    }
  };
  if (report.contains("trajectory")) {
    const json& tr = report.at("trajectory");
    line("replay: " + tr.at("optimizer").get<std::string>() + ", eta " +
         tr.at("eta").get<std::string>() + ", " + std::to_string(tr.at("steps").get<long long>()) +
         " steps, truth " + tr.at("truth").get<std::string>() + ", " +
         std::to_string(tr.at("compared").get<long long>()) + " of " +
         std::to_string(cand.at("checkpoints").get<long long>()) + " checkpoints compared");
    line("rule: " + tr.at("rule").get<std::string>() + " (factor " + num(tr.at("factor")) +
         ", tolerance " + num(tr.at("tolerance")) + ")");
    if (tr.at("first_failing_step").is_null()) {
      line("every compared checkpoint passes; largest e_c / (u_c (k+1)) = " +
           num(tr.at("max_ratio_to_eps_steps")));
    } else {
      const json& f = tr.at("first_failure");
      const json& w = f.at("worst_entry");
      const bool w_failed =
          !(f.at("error_candidate").is_number() &&
            f.at("error_candidate").get<double>() <= f.at("allowed").get<double>());
      std::string l = "FIRST FAILING STEP " +
                      std::to_string(tr.at("first_failing_step").get<long long>()) + ": ";
      if (w_failed) {
        l += "W error " + num(f.at("error_candidate")) + " > allowed " + num(f.at("allowed")) +
             "; worst entry W[" + std::to_string(w.at("row").get<long long>()) + "][" +
             std::to_string(w.at("col").get<long long>()) + "] = " + num(w.at("candidate")) +
             ", truth " + num(w.at("truth"));
      } else {
        l += "W within tolerance (error " + num(f.at("error_candidate")) +
             " <= " + num(f.at("allowed")) + ")";
      }
      line(l);
      if (f.contains("loss") && f.at("loss").at("status") == "fail") {
        line("  reported loss " + num(f.at("loss").at("reported")) + " errs by " +
             num(f.at("loss").at("error")) + " > allowed " + num(f.at("loss").at("allowed")));
      }
    }
    if (report.value("partial", false)) {
      line("PARTIAL: the replay was stopped by --max-seconds; later checkpoints not compared");
    }
    if (tr.contains("inconclusive_reason")) {
      line("not compared: " + tr.at("inconclusive_reason").get<std::string>());
    }
    point_lines(report.at("final_point"), "last checkpoint:");
  } else {
    point_lines(report.at("point"), "point:");
  }
  line("verdict: " + report.at("verdict").get<std::string>());
  return s;
}

}  // namespace ntp
