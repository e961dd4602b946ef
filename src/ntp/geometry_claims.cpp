// The claims of theory.md §7b ([G]) decided on a trained L = W H, the ridge path, and the report.
#include <Eigen/SVD>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "ntp/geometry.hpp"
#include "ntp/loss.hpp"
#include "ntp/rng.hpp"

namespace ntp {

namespace {

using json = nlohmann::json;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/** ||A/||A|| - B/||B|| ||_F (2 when one of them is 0: no direction). */
double direction_distance(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  const double a = A.norm();
  const double b = B.norm();
  if (!(a > 0) || !(b > 0)) return 2;
  return (A / a - B / b).norm();
}

/** (I - 11^T/V) L: CE(L + 1 u^T) = CE(L), and centring never raises ||.||_*, so directions are
 * compared after it. */
Eigen::MatrixXd centre_columns(const Eigen::MatrixXd& L) {
  return L.rowwise() - L.colwise().mean();
}

/** The in-support projection of theory.md §7b: per column, the in-support logits minus their
 * mean; 0 off support (the part of L that CE sees inside the supports). */
Eigen::MatrixXd in_support_part(const SupportPatterns& sp, const Eigen::MatrixXd& L) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(L.rows(), L.cols());
  for (std::int64_t j = 0; j < sp.m; ++j) {
    double mean = 0;
    double k = 0;
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) > 0) {
        mean += L(v, j);
        k += 1;
      }
    }
    mean /= k;
    for (std::int64_t v = 0; v < sp.V; ++v) {
      if (sp.S(v, j) > 0) out(v, j) = L(v, j) - mean;
    }
  }
  return out;
}

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double na = a.norm();
  const double nb = b.norm();
  if (!(na > 0) || !(nb > 0)) return 0;
  return a.dot(b) / (na * nb);
}

json series(const std::vector<std::int64_t>& steps, const std::vector<double>& v) {
  json a = json::array();
  for (std::size_t i = 0; i < v.size(); ++i) a.push_back({steps[i], v[i]});
  return a;
}

/** Index of the first recorded step >= last/10 (a decade before the end). */
std::size_t decade_start(const std::vector<std::int64_t>& steps) {
  const std::int64_t target = steps.back() / 10;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] >= target) return std::min(i, steps.size() - 1);
  }
  return 0;
}

/** v strictly decreasing from index s to the end (at least two points). */
bool falling(const std::vector<double>& v, std::size_t s) {
  if (v.size() < 2 || s + 1 >= v.size()) return false;
  for (std::size_t i = s + 1; i < v.size(); ++i) {
    if (!(v[i] < v[i - 1])) return false;
  }
  return true;
}

/** The measures of one recorded iterate. */
struct Measures {
  double in_support = 0;     ///< ||P_in(L_k) - L_in||_F
  double direction = 0;      ///< || L_k/||L_k|| - L_mm/||L_mm|| ||_F (both centred)
  double direction_in = 0;   ///< the same for L_k - L_in
  double gram_w = 0;         ///< direction distance of W W^T to (L_mm L_mm^T)^{1/2}
  double gram_h = 0;         ///< of H^T H to (L_mm^T L_mm)^{1/2}
  double collapse_min = 1;   ///< min cos(h_j, h_j') over pairs of contexts with the same support
  double collapse_mean = 1;  ///< mean of that cosine
  double between_mean = 0;   ///< mean cosine over pairs with different supports
  double word_collapse_min = 1;  ///< min cos of rows of W over tokens in the same group
};

struct Reference {
  Eigen::MatrixXd L_in, L_mm_c, gram_w, gram_h;
  std::vector<std::pair<std::int64_t, std::int64_t>> same, different, same_words;
};

Reference make_reference(const SupportPatterns& sp, const Eigen::MatrixXd& L_in,
                         const Eigen::MatrixXd& L_mm) {
  Reference r;
  r.L_in = L_in;
  r.L_mm_c = centre_columns(L_mm);
  Eigen::BDCSVD<Eigen::MatrixXd> svd(r.L_mm_c, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd& s = svd.singularValues();
  r.gram_w = svd.matrixU() * s.asDiagonal() * svd.matrixU().transpose();
  r.gram_h = svd.matrixV() * s.asDiagonal() * svd.matrixV().transpose();
  for (std::int64_t a = 0; a < sp.m; ++a) {
    for (std::int64_t b = a + 1; b < sp.m; ++b) {
      (sp.context_pattern[static_cast<std::size_t>(a)] ==
               sp.context_pattern[static_cast<std::size_t>(b)]
           ? r.same
           : r.different)
          .emplace_back(a, b);
    }
  }
  for (std::int64_t a = 0; a < sp.V; ++a) {
    for (std::int64_t b = a + 1; b < sp.V; ++b) {
      if (sp.token_group[static_cast<std::size_t>(a)] ==
          sp.token_group[static_cast<std::size_t>(b)]) {
        r.same_words.emplace_back(a, b);
      }
    }
  }
  // Bound the pair lists (large corpora): the first 20000 of each are enough evidence.
  if (r.same.size() > 20000) r.same.resize(20000);
  if (r.different.size() > 20000) r.different.resize(20000);
  if (r.same_words.size() > 20000) r.same_words.resize(20000);
  return r;
}

Measures measure(const SupportPatterns& sp, const Reference& ref, const Eigen::MatrixXd& L,
                 const Eigen::MatrixXd& W, const Eigen::MatrixXd& H) {
  Measures m;
  m.in_support = (in_support_part(sp, L) - ref.L_in).norm();
  const Eigen::MatrixXd Lc = centre_columns(L);
  m.direction = direction_distance(Lc, ref.L_mm_c);
  m.direction_in = direction_distance(Lc - ref.L_in, ref.L_mm_c);
  m.gram_w = direction_distance(W * W.transpose(), ref.gram_w);
  m.gram_h = direction_distance(H.transpose() * H, ref.gram_h);
  double sum = 0;
  for (const auto& [a, b] : ref.same) {
    const double c = cosine(H.col(a), H.col(b));
    m.collapse_min = std::min(m.collapse_min, c);
    sum += c;
  }
  m.collapse_mean = ref.same.empty() ? 1 : sum / static_cast<double>(ref.same.size());
  sum = 0;
  for (const auto& [a, b] : ref.different) sum += cosine(H.col(a), H.col(b));
  m.between_mean = ref.different.empty() ? 0 : sum / static_cast<double>(ref.different.size());
  for (const auto& [a, b] : ref.same_words) {
    m.word_collapse_min =
        std::min(m.word_collapse_min, cosine(W.row(a).transpose(), W.row(b).transpose()));
  }
  return m;
}

bool balanced_disjoint(const SupportPatterns& sp) {
  // Each token in exactly one support set, all sets of one size, each pattern equally often.
  std::vector<int> seen(static_cast<std::size_t>(sp.V), 0);
  for (const auto& s : sp.sets) {
    if (s.size() != sp.sets.front().size()) return false;
    for (auto z : s) ++seen[static_cast<std::size_t>(z)];
  }
  for (int c : seen) {
    if (c != 1) return false;
  }
  for (auto c : sp.pattern_count) {
    if (c != sp.pattern_count.front()) return false;
  }
  return sp.sets.size() >= 2;
}

ClaimResult make_claim(const std::string& name, const std::string& statement,
                       const std::string& rule) {
  ClaimResult r;
  r.name = name;
  r.statement = statement;
  r.rule = rule;
  return r;
}

/** Marks r inconclusive when the run cannot be evidence: diverged, past its horizon, too short.
 */
bool run_unusable(const GeometryTrainResult& t, ClaimResult& r) {
  double gap = -std::numeric_limits<double>::infinity();
  for (const auto& p : t.points) gap = std::max(gap, p.min_gap);
  r.evidence["max_logit_gap"] = gap;
  r.evidence["horizon"] = t.horizon;
  if (t.diverged_at_step >= 0) {
    r.verdict = Verdict::kInconclusive;
    r.reason = "the run diverged (non-finite) at step " + std::to_string(t.diverged_at_step);
    return true;
  }
  if (t.has_out_of_support && gap > 0.9 * t.horizon) {
    // theory.md §6: e^{-R} underflows in this precision, later iterates are no evidence.
    r.verdict = Verdict::kInconclusive;
    r.reason = "the run crossed its precision horizon: logit gap " + std::to_string(gap) +
               " > 0.9 * " + std::to_string(t.horizon) + " (" + t.precision.name() +
               "); use a wider type or fewer steps";
    return true;
  }
  if (t.points.size() < 3 || t.points.back().step < 10) {
    r.verdict = Verdict::kInconclusive;
    r.reason = "too few steps to see a trend (budget)";
    return true;
  }
  if (!t.has_out_of_support) {
    r.verdict = Verdict::kNotApplicable;
    r.reason = "every support is the whole vocabulary (standing assumption S_j != [V] fails)";
    return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> geometry_claim_names() {
  return {"proxy_optimality",   "l_mm_certified",     "ce_to_entropy",   "norms_grow",
          "in_support_to_l_in", "direction_to_l_mm",  "gram_directions", "subspace_collapse",
          "ridge_minimizer",    "regularization_path"};
}

std::vector<RidgeGeometryPoint> geometry_ridge_path(const InstanceData& data,
                                                    const std::vector<double>& lambdas,
                                                    std::int64_t dim, std::uint64_t seed,
                                                    std::int64_t max_iterations,
                                                    double max_seconds) {
  // theory.md §7b: with d >= rank, min over (W, H) of CE(W H) + (lambda/2)(||W||^2 + ||H||^2)
  // equals the convex min over L of CE(L) + lambda ||L||_*, and W = U sqrt(Sigma),
  // H = sqrt(Sigma) V^T is a minimizer in factored form. Solved by accelerated proximal gradient
  // (FISTA with adaptive restart; prox = singular value soft-thresholding), warm-started along
  // decreasing lambda; CE's gradient in L from the repo's kernel with identity embeddings.
  (void)seed;
  const double t0 = now_s();
  InstanceData id = data;  // h_j = e_j: the kernel's logits are then L itself
  id.embedding_dim = data.num_contexts();
  for (std::size_t j = 0; j < id.contexts.size(); ++j) {
    id.contexts[j].embedding.assign(id.contexts.size(), Rational(0));
    id.contexts[j].embedding[j] = 1;
  }
  const Instance<double> inst = to_scalar<double>(id);
  LossWorkspace<double> ws(inst);
  const std::int64_t V = inst.V;
  const std::int64_t m = inst.m;
  // The Hessian of pi_j CE in column j has norm <= pi_j / 2 (theory.md §1).
  const double lip = 0.5 * inst.pi.maxCoeff();
  const double t = 1 / lip;
  auto grad = [&](const Eigen::MatrixXd& L, double* excess) {
    const LossValue<double> lv = loss_and_gradient(inst, L, ws, nullptr);
    if (excess != nullptr) *excess = lv.excess;
    return Eigen::MatrixXd(ws.coef);
  };
  auto svt = [&](const Eigen::MatrixXd& A, double tau, double* nuc) {
    Eigen::BDCSVD<Eigen::MatrixXd> svd(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd s = (svd.singularValues().array() - tau).max(0.0).matrix();
    if (nuc != nullptr) *nuc = s.sum();
    return Eigen::MatrixXd(svd.matrixU() * s.asDiagonal() * svd.matrixV().transpose());
  };
  std::vector<RidgeGeometryPoint> out;
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(V, m);
  for (double lam : lambdas) {
    RidgeGeometryPoint p;
    p.lambda = lam;
    Eigen::MatrixXd Yk = L;
    double theta = 1;
    double residual = std::numeric_limits<double>::infinity();
    std::int64_t it = 0;
    for (; it < max_iterations; ++it) {
      const Eigen::MatrixXd G = grad(Yk, nullptr);
      const Eigen::MatrixXd Ln = svt(Yk - t * G, t * lam, nullptr);
      // Prox-gradient residual at Yk: (Yk - Ln)/t is in grad CE + lambda d||.||_* at Ln up to
      // the Lipschitz error; small against lambda means stationary.
      residual = (Yk - Ln).norm() / t;
      const double thn = (1 + std::sqrt(1 + 4 * theta * theta)) / 2;
      if ((Yk - Ln).cwiseProduct(Ln - L).sum() > 0) {  // restart (O'Donoghue & Candes 2015)
        Yk = Ln;
        theta = 1;
      } else {
        Yk = Ln + ((theta - 1) / thn) * (Ln - L);
        theta = thn;
      }
      L = Ln;
      if (residual <= 1e-6 * lam * std::max(1.0, L.norm())) break;
      if (max_seconds > 0 && (it & 15) == 0 && now_s() - t0 > max_seconds) break;
    }
    double excess = 0;
    const Eigen::MatrixXd G = grad(L, &excess);
    double nuc = 0;
    const Eigen::MatrixXd Ln = svt(L - t * G, t * lam, &nuc);
    p.grad_norm = (L - Ln).norm() / t;
    p.excess = excess;
    p.objective = excess + lam * nuclear_norm(L);
    p.iterations = it;
    p.L = L;
    Eigen::BDCSVD<Eigen::MatrixXd> svd(L, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd r = svd.singularValues().cwiseSqrt();
    p.W = svd.matrixU() * r.asDiagonal();
    p.H = r.asDiagonal() * svd.matrixV().transpose();
    std::int64_t rank = 0;
    for (Eigen::Index i = 0; i < r.size(); ++i) {
      if (svd.singularValues()(i) > 1e-9 * std::max(1.0, svd.singularValues()(0))) ++rank;
    }
    p.rank = rank;
    p.rank_fits = dim <= 0 || rank <= dim;
    p.norm_l = L.norm();
    out.push_back(p);
  }
  return out;
}

GeometryReport run_geometry(const InstanceData& data, const GeometryOptions& opt) {
  GeometryReport rep;
  rep.sp = support_patterns(data);
  const SupportPatterns& sp = rep.sp;
  rep.L_in = l_in_double(data);
  // ---- reference objects ----
  double t = now_s();
  rep.proxy = analyze_proxy(sp);
  ClaimResult c_proxy = make_claim(
      "proxy_optimality",
      "[G], theory.md §7b [D]: the centred support matrix (I - 11^T/V) S is L_mm for balanced "
      "disjoint supports (sufficient: off-support entries of its polar factor <= 0)",
      "holds if the proxy's certificate (Y = repaired polar factor) has relative gap <= the "
      "solver target; violated if the supports are balanced disjoint and the solver certifies a "
      "smaller ||L||_*; not_applicable (with the distance ||L_mm - P||_F) for other supports "
      "unless the proxy is certified");
  const bool proxy_certified = rep.proxy.check.primal_feasible && rep.proxy.check.dual_feasible &&
                               rep.proxy.check.relative_gap <= opt.solver.target_relative_gap;
  NuclearCertificateCheck mm_check;
  if (proxy_certified) {
    rep.L_mm = rep.proxy.P;
    mm_check = rep.proxy.check;
  } else {
    rep.solver_run = true;
    rep.solver = solve_l_mm(sp, opt.solver);
    rep.L_mm = rep.solver.certificate.L;
    mm_check = rep.solver.check;
    // Compare with the centred solver output (the proxy is centred).
    rep.l_mm_minus_proxy = (centre_columns(rep.L_mm) - rep.proxy.P).norm();
  }
  c_proxy.evidence["polar_condition"] = rep.proxy.polar_condition;
  c_proxy.evidence["max_off_support_polar_entry"] = rep.proxy.max_off_support_q;
  c_proxy.evidence["polar_tolerance"] = rep.proxy.condition_tolerance;
  c_proxy.evidence["proxy_nuclear_upper"] = rep.proxy.check.primal_upper;
  c_proxy.evidence["proxy_dual_lower"] = rep.proxy.check.lower;
  c_proxy.evidence["proxy_relative_gap"] = rep.proxy.check.relative_gap;
  c_proxy.evidence["balanced_disjoint"] = balanced_disjoint(sp);
  c_proxy.measured = rep.proxy.check.relative_gap;
  c_proxy.bound = opt.solver.target_relative_gap;
  if (proxy_certified) {
    c_proxy.verdict = Verdict::kHolds;
  } else {
    c_proxy.evidence["l_mm_minus_proxy_f"] = rep.l_mm_minus_proxy;
    c_proxy.evidence["l_mm_nuclear_upper"] = mm_check.primal_upper;
    // Proved not optimal: a feasible L with ||L||_* below a lower bound of ||P||_*; any Y gives
    // ||P||_* >= <Y, P> / ||Y||_2, here Y = Q (the polar factor, unrepaired), with a rounding
    // slack.
    const double p_lower = (rep.proxy.Q.array() * rep.proxy.P.array()).sum() /
                           spectral_norm_upper(rep.proxy.Q) * (1 - 1e-12);
    const double p_nuc = nuclear_norm(rep.proxy.P);
    const bool proved_smaller = mm_check.primal_feasible && mm_check.primal_upper < p_lower;
    c_proxy.evidence["proxy_nuclear"] = p_nuc;
    if (balanced_disjoint(sp)) {
      c_proxy.verdict = proved_smaller ? Verdict::kViolated : Verdict::kInconclusive;
      c_proxy.reason = proved_smaller ? "the solver found a feasible L with smaller ||L||_*"
                                      : "the proxy's certificate gap is above the target";
    } else {
      c_proxy.verdict = Verdict::kNotApplicable;
      c_proxy.reason = std::string("supports are not balanced disjoint; polar condition ") +
                       (rep.proxy.polar_condition ? "holds" : "fails") +
                       ", ||L_mm - P||_F = " + std::to_string(rep.l_mm_minus_proxy) +
                       ", ||L_mm||_* <= " + std::to_string(mm_check.primal_upper) +
                       " vs ||P||_* = " + std::to_string(p_nuc);
    }
  }
  c_proxy.seconds = now_s() - t;
  rep.claims.push_back(c_proxy);

  ClaimResult c_mm = make_claim(
      "l_mm_certified",
      "theory.md §7b: L_mm = argmin ||L||_* s.t. equal in-support logits, in/out gaps >= 1, "
      "certified by an exactly feasible primal and a dual lower bound",
      "holds if the primal is exactly feasible (rationals), the dual exactly feasible and "
      "relative gap (upper - lower)/lower <= target; inconclusive otherwise (never violated: a "
      "minimum always exists)");
  c_mm.measured = mm_check.relative_gap;
  c_mm.bound = opt.solver.target_relative_gap;
  c_mm.evidence["nuclear_upper"] = mm_check.primal_upper;
  c_mm.evidence["nuclear_lower"] = mm_check.lower;
  c_mm.evidence["gap"] = mm_check.gap;
  c_mm.evidence["dual_value"] = mm_check.dual_value;
  c_mm.evidence["dual_norm_upper"] = mm_check.dual_norm_upper;
  c_mm.evidence["source"] = proxy_certified ? "proxy" : "admm";
  if (rep.solver_run) {
    c_mm.evidence["admm_iterations"] = rep.solver.iterations;
    c_mm.evidence["admm_seconds"] = rep.solver.seconds;
    c_mm.evidence["compressed_size"] = {rep.solver.rows, rep.solver.cols};
  }
  if (mm_check.primal_feasible && mm_check.dual_feasible &&
      mm_check.relative_gap <= opt.solver.target_relative_gap) {
    c_mm.verdict = Verdict::kHolds;
  } else {
    c_mm.verdict = Verdict::kInconclusive;
    c_mm.reason = mm_check.primal_feasible && mm_check.dual_feasible
                      ? "relative gap " + std::to_string(mm_check.relative_gap) +
                            " above the target within the solver's budget"
                      : "certificate not feasible: " + mm_check.problem;
  }
  c_mm.seconds = rep.solver_run ? rep.solver.seconds : c_proxy.seconds;

  std::int64_t rank_l_mm = 0;
  {
    Eigen::BDCSVD<Eigen::MatrixXd> s(centre_columns(rep.L_mm));
    const Eigen::VectorXd& sv = s.singularValues();
    for (Eigen::Index i = 0; i < sv.size(); ++i) {
      if (sv(i) > 1e-6 * sv(0)) ++rank_l_mm;
    }
  }
  // ---- training ----
  t = now_s();
  rep.run = train_geometry(data, opt.train, opt.precision);
  const double train_seconds = now_s() - t;
  const GeometryTrainResult& run = rep.run;
  const Reference ref = make_reference(sp, rep.L_in, rep.L_mm);
  c_mm.evidence["rank_l_mm_1e-6"] = rank_l_mm;
  rep.claims.push_back(c_mm);
  std::vector<std::int64_t> steps;
  std::vector<double> excess, nw, nh, nl, din, dir, dir_in, gw, gh, cmin, cmean, bmean, wmin;
  for (std::size_t i = 0; i < run.points.size(); ++i) {
    const Measures m = measure(sp, ref, run.L[i], run.W[i], run.H[i]);
    steps.push_back(run.points[i].step);
    excess.push_back(run.points[i].excess);
    nw.push_back(run.points[i].norm_w);
    nh.push_back(run.points[i].norm_h);
    nl.push_back(run.points[i].norm_l);
    din.push_back(m.in_support);
    dir.push_back(m.direction);
    dir_in.push_back(m.direction_in);
    gw.push_back(m.gram_w);
    gh.push_back(m.gram_h);
    cmin.push_back(m.collapse_min);
    cmean.push_back(m.collapse_mean);
    bmean.push_back(m.between_mean);
    wmin.push_back(m.word_collapse_min);
  }
  rep.curves = json::array();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    rep.curves.push_back({{"step", steps[i]},
                          {"excess", excess[i]},
                          {"norm_w", nw[i]},
                          {"norm_h", nh[i]},
                          {"norm_l", nl[i]},
                          {"min_gap", run.points[i].min_gap},
                          {"in_support_distance", din[i]},
                          {"direction_distance", dir[i]},
                          {"direction_distance_minus_l_in", dir_in[i]},
                          {"gram_w_distance", gw[i]},
                          {"gram_h_distance", gh[i]},
                          {"collapse_min_cos", cmin[i]},
                          {"collapse_mean_cos", cmean[i]},
                          {"between_mean_cos", bmean[i]},
                          {"word_collapse_min_cos", wmin[i]}});
  }
  const std::size_t s0 = steps.empty() ? 0 : decade_start(steps);
  const std::size_t n = steps.size();
  const bool ridge = opt.train.lambda != 0;
  const std::string opt_name = optimizer_name(opt.train.kind);
  const double per_claim = train_seconds / 6;
  auto finish_trend = [&](ClaimResult& r, bool ok, const std::string& what) {
    if (ok) {
      r.verdict = Verdict::kHolds;
    } else {
      r.verdict = Verdict::kInconclusive;
      r.reason = what + " not decisive within the budget (see evidence)";
    }
    r.seconds = per_claim;
  };
  auto ridge_na = [&](ClaimResult& r) {
    if (!ridge) return false;
    r.verdict = Verdict::kNotApplicable;
    r.reason =
        "ridge lambda > 0: the iterates converge to a finite minimizer (see "
        "regularization_path for the lambda -> 0 limit)";
    return true;
  };

  // CE -> H.
  ClaimResult c1 = make_claim(
      "ce_to_entropy", "[G] theory.md §7b: CE(W_k H_k) -> H along " + opt_name,
      "holds if CE - H (KL form) at the last step < 0.5 x its value a decade earlier and < its "
      "value at step 0; violated if it ends above its step-0 value; inconclusive otherwise");
  if (!ridge_na(c1) && !run_unusable(run, c1)) {
    c1.measured = excess.back();
    c1.bound = 0.5 * excess[s0];
    c1.evidence["excess"] = series(steps, excess);
    if (excess.back() > excess.front()) {
      c1.verdict = Verdict::kViolated;
      c1.reason = "CE - H ended above its initial value";
    } else {
      finish_trend(c1, excess.back() < 0.5 * excess[s0] && excess.back() < excess.front(),
                   "the decrease of CE - H");
    }
  }
  rep.claims.push_back(c1);

  ClaimResult c2 = make_claim(
      "norms_grow", "[G] theory.md §7b: ||W_k||, ||H_k|| -> infinity",
      "holds if ||W||, ||H|| and ||L|| all grow over the last decade of the grid and ||L|| ends "
      "above 2x its value a decade earlier or the excess keeps falling (log-like growth); "
      "inconclusive otherwise");
  if (!ridge_na(c2) && !run_unusable(run, c2)) {
    c2.measured = nl.back();
    c2.bound = nl[s0];
    c2.evidence["norm_w"] = series(steps, nw);
    c2.evidence["norm_h"] = series(steps, nh);
    c2.evidence["norm_l"] = series(steps, nl);
    finish_trend(c2, nw.back() > nw[s0] && nh.back() > nh[s0] && nl.back() > nl[s0],
                 "the growth of the norms");
  }
  rep.claims.push_back(c2);

  ClaimResult c3 = make_claim(
      "in_support_to_l_in",
      "[G] theory.md §7b: the in-support projection of L_k -> L_in (centred log-probabilities)",
      "holds if ||P_in(L_k) - L_in||_F at the last step < 0.5 x a decade earlier, or <= 1e-3 "
      "||L_in||_F; inconclusive otherwise");
  if (!ridge_na(c3) && !run_unusable(run, c3)) {
    const double scale = std::max(rep.L_in.norm(), 1e-300);
    c3.measured = din.back();
    c3.bound = std::max(0.5 * din[s0], 1e-3 * scale);
    c3.evidence["distance"] = series(steps, din);
    c3.evidence["l_in_norm"] = rep.L_in.norm();
    finish_trend(c3, din.back() <= c3.bound, "the convergence of the in-support part");
  }
  rep.claims.push_back(c3);

  ClaimResult c4 = make_claim(
      "direction_to_l_mm",
      "[G] theory.md §7b: L_k/||L_k|| -> L_mm/||L_mm||, faster after subtracting L_in",
      "d_k = ||L_k/||L_k|| - L_mm/||L_mm||||_F and d'_k the same for L_k - L_in (columns "
      "centred); holds if d' falls at every grid point of the last decade and ends below d "
      "(subtracting L_in helps) and d' <= 0.5; the rate is slow (like 1/||L_k||, ||L_k|| ~ log k "
      "for GD): the "
      "distance itself is reported, and the regularization_path claim is the faster route");
  if (!ridge_na(c4) && !run_unusable(run, c4)) {
    c4.measured = dir_in.back();
    c4.bound = dir.back();
    c4.evidence["distance"] = series(steps, dir);
    c4.evidence["distance_minus_l_in"] = series(steps, dir_in);
    c4.evidence["rank_budget_d"] = run.dim;
    if (run.dim < rank_l_mm) {
      c4.verdict = Verdict::kNotApplicable;
      c4.reason = "d = " + std::to_string(run.dim) +
                  " < rank(L_mm) = " + std::to_string(rank_l_mm) +
                  ": L_mm is not reachable at this rank";
    } else if (opt.train.kind == OptimizerKind::kAdam) {
      c4.verdict = Verdict::kInconclusive;
      c4.reason = "Adam: the limit L_mm of [G] is stated for (normalized) GD; reported only";
    } else {
      finish_trend(c4, falling(dir_in, s0) && dir_in.back() < dir.back() && dir_in.back() <= 0.5,
                   "the directional convergence");
    }
  }
  rep.claims.push_back(c4);

  ClaimResult c5 = make_claim(
      "gram_directions",
      "[G] theory.md §7b: W W^T and H^T H -> in direction (L_mm L_mm^T)^{1/2}, "
      "(L_mm^T L_mm)^{1/2}",
      "holds if both direction distances fall at every grid point of the last decade and end "
      "<= 0.5; "
      "inconclusive otherwise (Adam does not keep W^T W - H H^T balanced)");
  if (!ridge_na(c5) && !run_unusable(run, c5)) {
    c5.measured = std::max(gw.back(), gh.back());
    c5.bound = std::max(gw[s0], gh[s0]);
    c5.evidence["word_gram_distance"] = series(steps, gw);
    c5.evidence["context_gram_distance"] = series(steps, gh);
    if (run.dim < rank_l_mm) {
      c5.verdict = Verdict::kNotApplicable;
      c5.reason = "d = " + std::to_string(run.dim) +
                  " < rank(L_mm) = " + std::to_string(rank_l_mm) +
                  ": L_mm is not reachable at this rank";
    } else if (opt.train.kind == OptimizerKind::kAdam) {
      c5.verdict = Verdict::kInconclusive;
      c5.reason = "Adam: the limit L_mm of [G] is stated for (normalized) GD; reported only";
    } else {
      finish_trend(c5, falling(gw, s0) && falling(gh, s0) && c5.measured <= 0.5,
                   "the Gram convergence");
    }
  }
  rep.claims.push_back(c5);

  ClaimResult c6 = make_claim(
      "subspace_collapse",
      "[G] theory.md §7b: contexts with the same support set get aligned embeddings (cos -> 1) "
      "whatever their probabilities",
      "c_k = min cos(h_j, h_j') over pairs with S_j = S_j'; holds if 1 - c_k falls at every "
      "grid point of the last decade and the mean same-support cosine ends above the mean "
      "different-support cosine; violated if it ends below it; not_applicable without a "
      "repeated support set");
  if (ref.same.empty()) {
    c6.verdict = Verdict::kNotApplicable;
    c6.reason = "no two contexts share a support set";
  } else if (!ridge_na(c6) && !run_unusable(run, c6)) {
    std::vector<double> one_minus;
    for (double c : cmin) one_minus.push_back(1 - c);
    c6.measured = 1 - cmin.back();
    c6.bound = 1 - cmin[s0];
    c6.evidence["same_support_min_cos"] = series(steps, cmin);
    c6.evidence["same_support_mean_cos"] = series(steps, cmean);
    c6.evidence["different_support_mean_cos"] = series(steps, bmean);
    c6.evidence["same_group_words_min_cos"] = series(steps, wmin);
    c6.evidence["pairs_same"] = ref.same.size();
    c6.evidence["pairs_different"] = ref.different.size();
    if (!ref.different.empty() && cmean.back() < bmean.back()) {
      c6.verdict = Verdict::kViolated;
      c6.reason = "same-support contexts are on average less aligned than different-support ones";
    } else {
      finish_trend(c6,
                   falling(one_minus, s0) && (ref.different.empty() || cmean.back() > bmean.back()),
                   "the collapse");
    }
  }
  rep.claims.push_back(c6);

  // Ridge training: the limit is the convex minimizer (theory.md §7b), computed independently.
  if (ridge && n > 0) {
    ClaimResult c8 = make_claim(
        "ridge_minimizer",
        "[G] theory.md §7b: with ridge lambda > 0, W_k H_k -> argmin_L CE(L) + lambda ||L||_* "
        "(when d >= its rank)",
        "L_lambda by accelerated proximal gradient on the convex form (no factorization, in "
        "double); holds if ||W_k H_k - L_lambda||_F / ||L_lambda||_F falls over the last decade "
        "and ends <= 1e-3; not_applicable if rank(L_lambda) > d; inconclusive otherwise");
    t = now_s();
    const double lam = rational_to_double(opt.train.lambda);
    const auto pt =
        geometry_ridge_path(data, {lam}, run.dim, opt.train.seed, 100000, opt.path_seconds);
    const RidgeGeometryPoint& p = pt.front();
    std::vector<double> dist;
    const double scale = std::max(p.L.norm(), 1e-300);
    for (const auto& L : run.L) dist.push_back((L - p.L).norm() / scale);
    c8.evidence["relative_distance"] = series(steps, dist);
    c8.evidence["l_lambda_norm"] = p.norm_l;
    c8.evidence["l_lambda_rank"] = p.rank;
    c8.evidence["l_lambda_prox_residual"] = p.grad_norm;
    c8.evidence["l_lambda_iterations"] = p.iterations;
    c8.measured = dist.back();
    c8.bound = 1e-3;
    if (run.diverged_at_step >= 0) {
      c8.verdict = Verdict::kInconclusive;
      c8.reason = "the run diverged (non-finite) at step " + std::to_string(run.diverged_at_step);
    } else if (!p.rank_fits) {
      c8.verdict = Verdict::kNotApplicable;
      c8.reason =
          "rank(L_lambda) = " + std::to_string(p.rank) + " > d = " + std::to_string(run.dim);
    } else if (p.grad_norm > 1e-4 * lam * std::max(1.0, p.norm_l)) {
      c8.verdict = Verdict::kInconclusive;
      c8.reason = "the proximal-gradient reference did not converge within its budget";
    } else {
      finish_trend(c8, dist.back() <= 1e-3 && dist.back() < dist[s0],
                   "the convergence to L_lambda");
    }
    c8.seconds = now_s() - t;
    rep.claims.push_back(c8);
  }

  // Regularization path (double).
  ClaimResult c7 = make_claim(
      "regularization_path",
      "[G] theory.md §7b: as lambda -> 0 the ridge minimizers L_lambda grow and "
      "(L_lambda - L_in)/||.|| -> L_mm/||L_mm||",
      "the convex form CE(L) + lambda ||L||_* by accelerated proximal gradient on lambda = "
      "1e-1 .. 1e-5 (warm start, double); holds if every point is stationary (prox-gradient "
      "residual <= 1e-4 lambda max(1, ||L||)), ||L_lambda|| increases and the direction "
      "distance of L_lambda - L_in to L_mm decreases along the path; inconclusive otherwise");
  if (opt.ridge_path && n > 0) {
    t = now_s();
    rep.path = geometry_ridge_path(data, {1e-1, 1e-2, 1e-3, 1e-4, 1e-5}, run.dim, opt.train.seed,
                                   opt.path_iterations, opt.path_seconds);
    json pts = json::array();
    bool grow = true;
    bool closer = true;
    bool stationary = true;
    double prev_norm = -1;
    double prev_dist = 3;
    for (const auto& p : rep.path) {
      const double dd = direction_distance(centre_columns(p.L) - rep.L_in, ref.L_mm_c);
      pts.push_back({{"lambda", p.lambda},
                     {"norm_l", p.norm_l},
                     {"excess", p.excess},
                     {"prox_gradient_residual", p.grad_norm},
                     {"rank", p.rank},
                     {"iterations", p.iterations},
                     {"direction_distance_minus_l_in", dd}});
      grow = grow && p.norm_l > prev_norm;
      closer = closer && dd < prev_dist;
      stationary = stationary && p.grad_norm <= 1e-4 * p.lambda * std::max(1.0, p.norm_l);
      prev_norm = p.norm_l;
      prev_dist = dd;
    }
    c7.evidence["path"] = pts;
    c7.measured = prev_dist;
    c7.bound = 0;
    if (grow && closer && stationary) {
      c7.verdict = Verdict::kHolds;
    } else {
      c7.verdict = Verdict::kInconclusive;
      c7.reason = !stationary ? "the prox-gradient residual stayed above 1e-4 lambda "
                                "max(1, ||L||) within the budget at some lambda"
                              : "the path is not monotone (see evidence)";
    }
    c7.seconds = now_s() - t;
    rep.claims.push_back(c7);
  }
  return rep;
}

nlohmann::json geometry_report_json(const GeometryReport& r) {
  json j;
  j["format"] = "ntp-geometry";
  j["version"] = 1;
  j["V"] = r.sp.V;
  j["m"] = r.sp.m;
  j["support_patterns"] = r.sp.sets.size();
  j["token_groups"] = r.sp.group_count.size();
  j["dim"] = r.run.dim;
  j["precision"] = r.run.precision.name();
  j["optimizer"] = optimizer_name(r.run.options.kind);
  j["steps"] = r.run.options.steps;
  j["eta"] = rational_to_string(r.run.options.eta);
  j["lambda"] = rational_to_string(r.run.options.lambda);
  j["entropy"] = r.run.entropy;
  j["train_seconds"] = r.run.seconds;
  j["stopped_by_time"] = r.run.stopped_by_time;
  j["proxy"] = {{"polar_condition", r.proxy.polar_condition},
                {"max_off_support_polar_entry", r.proxy.max_off_support_q},
                {"nuclear_upper", r.proxy.check.primal_upper},
                {"dual_lower", r.proxy.check.lower},
                {"relative_gap", r.proxy.check.relative_gap}};
  if (r.solver_run) {
    j["solver"] = {
        {"iterations", r.solver.iterations},       {"seconds", r.solver.seconds},
        {"converged", r.solver.converged},         {"nuclear_upper", r.solver.check.primal_upper},
        {"nuclear_lower", r.solver.check.lower},   {"relative_gap", r.solver.check.relative_gap},
        {"l_mm_minus_proxy_f", r.l_mm_minus_proxy}};
  }
  json cl = json::array();
  for (const auto& c : r.claims) cl.push_back(claim_to_json(c));
  j["claims"] = cl;
  j["curves"] = r.curves;
  j["exit"] = static_cast<int>(claims_exit_code(r.claims));
  return j;
}

}  // namespace ntp
