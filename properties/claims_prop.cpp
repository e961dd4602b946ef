// The claims of `ntpcheck check` (claims.hpp, README "The claims of ntpcheck check") on generated
// instances, and the demonstration that each claim catches a deliberately wrong implementation
// injected through CheckOptions::hooks.
//
// One property per instance class, used unchanged for the right and the wrong implementations
// ("no claim is violated and the expected ones hold"):
//  - overparameterized (d >= m, rank m): entropy_attainment, log_odds_uniqueness,
//    lemma1_overparameterized and gd_invariants hold; the trend claims 3-6 hold or are
//    inconclusive (see kTrend);
//  - a condition fails (inseparable or incompatible family): entropy_attainment holds (the
//    converse direction, inf CE > H), gd_invariants holds, the GD claims 3-6 and Lemma 1 are
//    not_applicable.
// The injected-bug tests run the overparameterized property against a wrong component and expect
// it to fail; the failing case names the claims whose verdict the theory does not allow.
// Every check_claims call takes a few milliseconds here (V <= 7, d <= 7, 2000 steps).
#include <Eigen/Dense>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "claims_prop_support.hpp"
#include "ntp/claims.hpp"
#include "ntp/loss.hpp"
#include "ntp/regpath.hpp"

namespace ntp {
namespace {

/** Small runs: the claims are decided from trends on a log grid (claims.hpp). */
CheckOptions fast_options() {
  CheckOptions o;
  o.steps = 2000;
  o.budget_seconds = 2;
  return o;
}

/** The verdicts the theory allows for each claim on a class of instances (never `violated`). */
using Expectation = std::map<std::string, std::set<Verdict>>;

const std::set<Verdict> kHolds{Verdict::kHolds};
const std::set<Verdict> kNotApplicable{Verdict::kNotApplicable};
// Claims 3-6 are decided from trends within a budget (plain GD converges in direction like
// 1/log k): on small instances with 2000 steps and the path down to lambda = 1e-12 about 15% of
// them stay inconclusive with the library's own components (measured on 300 generated
// instances), so `inconclusive` is allowed there; their hypotheses hold, so not `not_applicable`.
// `violated` is never allowed: gd_direction_to_w_mm reports a false `violated` on about 1 in 6000
// of these instances (||W*|| far beyond the path's reach, so 1 - cos(W_B, W^mm) near 1 changes
// by < 1% per decade of lambda and counts as settled): a library bug this property reports.
const std::set<Verdict> kTrend{Verdict::kHolds, Verdict::kInconclusive};

/** d >= m, rank m: both conditions hold [T Lemma 1], hence every claim applies. */
const Expectation& overparameterized_expectation() {
  static const Expectation e{{"entropy_attainment", kHolds},       {"log_odds_uniqueness", kHolds},
                             {"gd_projection_to_w_star", kTrend},  {"gd_direction_to_w_mm", kTrend},
                             {"gd_norm_and_loss", kTrend},         {"regularization_path", kTrend},
                             {"lemma1_overparameterized", kHolds}, {"gd_invariants", kHolds}};
  return e;
}

/** (C) or (6) fails: inf CE > H (the converse direction [D]), the GD claims and Lemma 1 (rank
 * m - 1) do not apply; uniqueness holds or does not apply (it needs (C) only). */
const Expectation& condition_fails_expectation() {
  static const Expectation e{{"entropy_attainment", kHolds},
                             {"log_odds_uniqueness", {Verdict::kHolds, Verdict::kNotApplicable}},
                             {"gd_projection_to_w_star", kNotApplicable},
                             {"gd_direction_to_w_mm", kNotApplicable},
                             {"gd_norm_and_loss", kNotApplicable},
                             {"regularization_path", kNotApplicable},
                             {"lemma1_overparameterized", kNotApplicable},
                             {"gd_invariants", kHolds}};
  return e;
}

/**
 * An inconclusive entropy_attainment that its own evidence shows to be at a horizon of its rule,
 * not at odds with the theory: a tag naming the horizon, else empty. Each occurs in about 1 of
 * 3000 generated instances (reported to the library's owners):
 *  - sufficiency: every enclosure of CE(W* + R W^mm) - H is positive, strictly decreasing in R and
 *    below bound (9), but the rule also asks for < 1e-20 at the grid's largest R (64), more than
 *    (9) itself promises there when ||W*|| M is large (the bound at R = 64 is above 1e-20);
 *  - converse: the path's excess, above 1e-6, still decreases by more than 1% over the last two
 *    decades of lambda at lambda = 1e-12 (not the `violated` case, excess < 1e-12).
 * A wrong W* shows up as a violated (9) and a wrong path as an excess below 1e-12 (or settling):
 * neither is tolerated.
 */
std::string rule_horizon(const ClaimResult& r) {
  if (r.name != "entropy_attainment" || r.verdict != Verdict::kInconclusive) return "";
  const nlohmann::json& e = r.evidence;
  if (e.contains("points") && !e["points"].empty()) {
    bool consistent = true;
    double previous_lo = INFINITY;
    for (const auto& p : e["points"]) {
      const double lo = p["excess"][0].get<double>();
      const double hi = p["excess"][1].get<double>();
      consistent = consistent && lo > 0 && hi < previous_lo && hi <= p["bound9"].get<double>();
      previous_lo = lo;
    }
    if (consistent && e["points"].back()["bound9"].get<double>() >= 1e-20) {
      return "entropy_attainment inconclusive: (9) at R = 64 above the rule's 1e-20";
    }
  }
  if (e.contains("path") && e["path"].size() >= 3) {
    const std::size_t n = e["path"].size();
    const double a = e["path"][n - 3]["excess"].get<double>();
    const double c = e["path"][n - 1]["excess"].get<double>();
    if (c > 1e-6 && a - c > 0.01 * c) {
      return "entropy_attainment inconclusive: path excess not settled at lambda = 1e-12";
    }
  }
  return "";
}

/** The claims whose verdict the expectation does not allow. */
std::vector<const ClaimResult*> departures(const std::vector<ClaimResult>& rs,
                                           const Expectation& e) {
  std::vector<const ClaimResult*> out;
  for (const ClaimResult& r : rs) {
    const bool allowed = e.at(r.name).count(r.verdict) == 1 || !rule_horizon(r).empty();
    if (r.verdict == Verdict::kViolated || !allowed) out.push_back(&r);
  }
  return out;
}

std::string line(const ClaimResult& r) {
  return r.name + ": " + to_string(r.verdict) + " (measured " + std::to_string(r.measured) +
         ", bound " + std::to_string(r.bound) + ") " + r.reason;
}

std::string describe(const InstanceData& data) {
  std::string s = "V = " + std::to_string(data.vocab_size) +
                  ", d = " + std::to_string(data.embedding_dim) +
                  ", m = " + std::to_string(data.num_contexts());
  s += ", pi = [";
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    s += (j == 0 ? "" : ", ") + rational_to_string(data.contexts[j].weight);
  }
  s += "]";
  if (data.extra.contains("generator")) {
    s += ", generated by " + data.extra.dump() + " (weights replaced by pi)";
  }
  return s;
}

/** What the failing case showed (filled by the property, for the injected-bug tests). */
struct Caught {
  std::set<std::string> claims;       ///< verdicts the expectation does not allow: the catchers
  std::set<std::string> not_holding;  ///< every claim whose verdict is not `holds`
  std::map<std::string, Verdict> verdicts;
  std::string report;
};

using HookFactory = std::function<ClaimHooks(const InstanceData&)>;

/**
 * The property: a generated instance, check_claims with the (possibly substituted) components,
 * and every verdict allowed by the expectation. On failure the message lists the departing claims
 * with verdict, measured value, bound and reason, then the other claims that do not hold.
 */
std::function<void()> claims_property(std::function<InstanceData()> gen, const Expectation& e,
                                      HookFactory hooks, std::shared_ptr<Caught> caught,
                                      bool classify = false) {
  return [gen, &e, hooks, caught, classify]() {
    const InstanceData data = gen();
    CheckOptions o = fast_options();
    if (hooks) o.hooks = hooks(data);
    const std::vector<ClaimResult> rs = check_claims(data, o);
    const auto bad = departures(rs, e);
    if (classify) {
      std::string tag;
      for (const ClaimResult& r : rs) {
        const std::string horizon = rule_horizon(r);
        if (e.at(r.name).size() > 1 || !horizon.empty()) {
          tag += (tag.empty() ? "" : "; ") +
                 (horizon.empty() ? r.name + " " + to_string(r.verdict) : horizon);
        }
      }
      RC_TAG(tag);
    }
    if (bad.empty()) return;
    std::string msg = "claims departing from the theory on " + describe(data) + ":";
    for (const ClaimResult* r : bad) msg += "\n  " + line(*r);
    std::string others;
    for (const ClaimResult& r : rs) {
      const bool listed = std::find(bad.begin(), bad.end(), &r) != bad.end();
      if (r.verdict != Verdict::kHolds && !listed) others += "\n  " + line(r);
    }
    if (!others.empty()) msg += "\nother claims not holding (allowed):" + others;
    if (caught) {
      for (const ClaimResult* r : bad) caught->claims.insert(r->name);
      for (const ClaimResult& r : rs) {
        caught->verdicts[r.name] = r.verdict;
        if (r.verdict != Verdict::kHolds) caught->not_holding.insert(r.name);
      }
      caught->report = msg;
    }
    RC_FAIL(msg);
  };
}

// [T Lemma 1, Prop 1, Thm 1, Thm 2] and theory.md §4 on overparameterized instances.
RC_GTEST_PROP(ClaimsProperties, OverparameterizedNoClaimViolatedAndExpectedHold, ()) {
  claims_property(prop::gen_overparameterized, overparameterized_expectation(), {}, nullptr,
                  true)();
}

// [D] necessity: a condition fails => inf CE > H (entropy_attainment holds in its converse
// direction), and the GD claims do not apply.
RC_GTEST_PROP(ClaimsProperties, ConditionFailsConverseHoldsGdClaimsNotApplicable, ()) {
  claims_property(prop::gen_condition_fails, condition_fails_expectation(), {}, nullptr, true)();
}

// ---------------------------------------------------------------------------------------------
// Deliberately wrong implementations.

/** W* replaced by w_mid (row-major rationals): the double copy and the norms follow, as a
 * consistent (but wrong) implementation would report them. */
void replace_w_star(WStarResult& ws, prop::RationalW w_mid, std::int64_t V, std::int64_t d) {
  ws.w_mid = std::move(w_mid);
  ws.w_double.resize(V, d);
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      ws.w_double(v, i) = rational_to_double(ws.w_mid[static_cast<std::size_t>(v * d + i)]);
    }
  }
  ws.norm = ws.w_double.norm();
  ws.norm_hi = (ws.norm + ws.radius) * (1 + 1e-12);
  ws.norm_lo = std::max(0.0, (ws.norm - ws.radius) * (1 - 1e-12));
}

/** The first generator (e_z - e_a) h_j^T of F (a = min S_j, z the next support token) with
 * h_j != 0, as a row-major rational matrix scaled by 1 / ||h_j||^2 (so the log-odds of (z, a) in
 * context j move by exactly 1). Empty when F = {0}. */
prop::RationalW f_direction(const InstanceData& data) {
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  for (const auto& c : data.contexts) {
    if (c.tokens.size() < 2) continue;
    std::vector<std::int32_t> s = c.tokens;
    std::sort(s.begin(), s.end());
    Rational h2 = 0;
    for (const auto& x : c.embedding) h2 += x * x;
    if (h2 == 0) continue;
    prop::RationalW w(static_cast<std::size_t>(V * d), Rational(0));
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational x = c.embedding[static_cast<std::size_t>(i)] / h2;
      w[static_cast<std::size_t>(s[1] * d + i)] += x;
      w[static_cast<std::size_t>(s[0] * d + i)] -= x;
    }
    return w;
  }
  return {};
}

Eigen::MatrixXd to_double(const prop::RationalW& w, std::int64_t V, std::int64_t d) {
  Eigen::MatrixXd m(V, d);
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      m(v, i) = rational_to_double(w[static_cast<std::size_t>(v * d + i)]);
    }
  }
  return m;
}

// Bug for entropy_attainment: W* off by a step inside F (a log-odds solution that misses (C)).
ClaimHooks w_star_moved_inside_f(const InstanceData& data) {
  ClaimHooks h;
  const prop::RationalW dir = f_direction(data);
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  h.alter_w_star = [dir, V, d](WStarResult& ws) {
    if (!ws.computed || dir.empty()) return;
    prop::RationalW w = ws.w_mid;
    for (std::size_t k = 0; k < w.size(); ++k) w[k] += dir[k];
    replace_w_star(ws, std::move(w), V, d);
  };
  return h;
}

// Bug for log_odds_uniqueness: a solution of (C) that is not the one in F (W* + 1 u^T / 2 with
// u = e_1: the minimum-norm projection forgotten). It still solves (C) and CE is blind to it.
ClaimHooks w_star_plus_f_perp(const InstanceData& data) {
  ClaimHooks h;
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  h.alter_w_star = [V, d](WStarResult& ws) {
    if (!ws.computed) return;
    prop::RationalW w = ws.w_mid;
    for (std::int64_t v = 0; v < V; ++v) w[static_cast<std::size_t>(v * d)] += Rational(1, 2);
    replace_w_star(ws, std::move(w), V, d);
  };
  return h;
}

// Bug for gd_projection_to_w_star: a regularization path whose every W_B carries a fixed
// F-component offset of norm 1 (P_F(W_B) settles at W* + offset).
ClaimHooks path_offset_in_f(const InstanceData& data) {
  ClaimHooks h;
  const prop::RationalW dir = f_direction(data);
  if (dir.empty()) return h;  // F = {0}: no offset in F to add
  Eigen::MatrixXd off = to_double(dir, data.vocab_size, data.embedding_dim);
  off /= off.norm();
  h.ridge_path = [off](const InstanceData& x, const RidgePathOptions& o) {
    std::vector<RidgePoint> path = ridge_path(x, o);
    for (auto& p : path) p.W += off;
    return path;
  };
  return h;
}

// Bug for gd_direction_to_w_mm: a path tilted toward a wrong direction, W_B + 2 B D with
// D = 1 e_1^T / sqrt(V) (unit, in F^perp and orthogonal to W^mm: cos(W_B, W^mm) settles near
// 1/sqrt(5), P_F(W_B) is unchanged).
ClaimHooks path_tilted(const InstanceData& data) {
  ClaimHooks h;
  Eigen::MatrixXd dir = Eigen::MatrixXd::Zero(data.vocab_size, data.embedding_dim);
  dir.col(0).setConstant(1 / std::sqrt(static_cast<double>(data.vocab_size)));
  h.ridge_path = [dir](const InstanceData& x, const RidgePathOptions& o) {
    std::vector<RidgePoint> path = ridge_path(x, o);
    for (auto& p : path) p.W += 2 * p.B * dir;
    return path;
  };
  return h;
}

// Bug for regularization_path: Newton accepts the warm start once lambda < 1e-4 (an absolute
// stopping test on ||grad CE + lambda W||, which is tiny there): the path freezes, W_B and B stop
// growing although lambda keeps decreasing, so the limits of [T Thm 1] are never approached.
ClaimHooks path_frozen(const InstanceData&) {
  ClaimHooks h;
  h.ridge_path = [](const InstanceData& x, const RidgePathOptions& o) {
    RidgePathOptions t = o;
    t.lambda_min = std::max(o.lambda_min, 1e-4);
    std::vector<RidgePoint> path = ridge_path(x, t);
    const RidgePoint last = path.back();
    const double step = std::pow(10.0, -1.0 / o.per_decade);
    for (double lambda = last.lambda * step; lambda >= o.lambda_min * (1 - 1e-9); lambda *= step) {
      RidgePoint p = last;
      p.lambda = lambda;
      path.push_back(p);
    }
    return path;
  };
  return h;
}

// Bug for lemma1_overparameterized: the separability decision reports `violated`.
ClaimHooks separability_flipped(const InstanceData&) {
  ClaimHooks h;
  h.alter_separability = [](SeparabilityResult& s) { s.verdict = SeparabilityVerdict::kViolated; };
  return h;
}

enum class GdBug {
  kNone,                   ///< plain GD / NGD (the control)
  kAscentHalfway,          ///< the update's sign flips at step N/2: gradient ascent
  kInSupportGradientOnly,  ///< the out-of-support part of s - p dropped: 1^T grad != 0
};

/** GD / NGD in double with a bug, recording like train(). */
TrainResult buggy_train(const InstanceData& data, const OptimizerOptions& opt,
                        const PrecisionSpec& precision, const Eigen::MatrixXd* w0, GdBug bug) {
  const Instance<double> inst = to_scalar<double>(data);
  const Rational eta_q = opt.eta ? *opt.eta : default_eta(opt.kind, summarize(data));
  const double eta = rational_to_double(eta_q);
  const auto grid = log_grid(opt.steps, opt.points_per_decade, opt.extra_record_steps);
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd W = w0 != nullptr ? *w0 : Eigen::MatrixXd::Zero(inst.V, inst.d);
  Eigen::MatrixXd G(inst.V, inst.d);
  TrainResult r;
  r.precision = precision;
  r.optimizer = opt.kind;
  r.eta = eta_q;
  r.steps_requested = opt.steps;
  r.entropy = inst.entropy;
  std::size_t next = 0;
  for (std::int64_t k = 0;; ++k) {
    const LossValue<double> val = loss_and_gradient(inst, W, ws, &G);
    if (bug == GdBug::kInSupportGradientOnly) {
      const Eigen::MatrixXd l = W * inst.Hbar;
      for (std::int64_t j = 0; j < inst.m; ++j) {
        const Eigen::VectorXd s = (l.col(j).array() - l.col(j).maxCoeff()).exp();
        const double sum = s.sum();
        std::vector<bool> in(static_cast<std::size_t>(inst.V), false);
        for (auto t = inst.offset[j]; t < inst.offset[j + 1]; ++t) {
          in[static_cast<std::size_t>(inst.token[static_cast<std::size_t>(t)])] = true;
        }
        for (std::int64_t v = 0; v < inst.V; ++v) {
          if (!in[static_cast<std::size_t>(v)]) {
            G.row(v) -= inst.pi(j) * (s(v) / sum) * inst.Hbar.col(j).transpose();
          }
        }
      }
    }
    if (next < grid.size() && grid[next] == k) {
      r.step.push_back(k);
      r.ce.push_back(val.ce);
      r.excess.push_back(val.excess);
      r.norm.push_back(W.norm());
      r.grad_norm.push_back(G.norm());
      r.min_gap.push_back(val.min_gap);
      r.has_out_of_support = val.has_out_of_support;
      r.weights.push_back(W);
      ++next;
    }
    if (k == opt.steps) break;
    const double sign = (bug == GdBug::kAscentHalfway && 2 * k >= opt.steps) ? -1.0 : 1.0;
    if (opt.kind == OptimizerKind::kNGD) {
      const double gn = G.norm();
      if (gn > 0) W -= sign * (eta / gn) * G;
    } else {
      W -= sign * eta * G;
    }
  }
  r.final_weights = W;
  return r;
}

HookFactory train_with(GdBug bug) {
  return [bug](const InstanceData&) {
    ClaimHooks h;
    h.train = [bug](const InstanceData& x, const OptimizerOptions& o, const PrecisionSpec& p,
                    const Eigen::MatrixXd* w0) { return buggy_train(x, o, p, w0, bug); };
    return h;
  };
}

/** A test listener that records nothing: for runs whose failure is the expected outcome, so that
 * RapidCheck's end-of-run "properties had failures, to reproduce ..." report stays for real
 * failures. */
class SilentListener : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

enum class Outcome { kPass, kFail };

/**
 * rc::check with this test's case budget: at most `max_success` cases (never more than RC_PARAMS
 * asks), the seed from RC_PARAMS. When failure is the expected outcome (a wrong implementation)
 * shrinking is off (the demonstration needs the first failing case, not a minimal one, and each
 * shrink step reruns the claims) and the failure is not reported as a suite failure. Returns true
 * when the property passed.
 */
bool check_property(const std::string& description, const std::function<void()>& property,
                    int max_success, Outcome expected) {
  using namespace rc::detail;
  TestParams params = configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, max_success);
  TestMetadata metadata;
  metadata.id = description;
  metadata.description = description;
  std::cerr << "\n- " << description << std::endl;
  if (expected == Outcome::kFail) params.disableShrinking = true;
  SilentListener silent;
  const TestResult result = expected == Outcome::kFail
                                ? checkProperty(toProperty(property), metadata, params, silent)
                                : checkTestable(property, metadata, params);
  printResultMessage(result, std::cerr);
  std::cerr << std::endl;
  return result.is<SuccessResult>();
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

/**
 * The wrong implementation makes the overparameterized property fail, with `claim` among the
 * claims that caught it (a verdict the expectation does not allow) or, when `claim` cannot be
 * violated (regularization_path has no `violated` rule), at least not holding in the failing case.
 * The right implementation (the library's components) passes the same property.
 */
void expect_caught(const std::string& claim, const std::string& bug, const HookFactory& wrong,
                   bool claim_can_be_violated = true) {
  auto caught = std::make_shared<Caught>();
  const bool wrong_passed = check_property(
      claim + " vs injected bug: " + bug,
      claims_property(prop::gen_overparameterized, overparameterized_expectation(), wrong, caught),
      1000, Outcome::kFail);
  EXPECT_FALSE(wrong_passed) << "the property did not catch: " << bug;
  if (claim_can_be_violated) {
    EXPECT_EQ(caught->claims.count(claim), 1U)
        << claim << " did not catch " << bug << "; caught by: " << joined(caught->claims);
  } else {
    EXPECT_EQ(caught->not_holding.count(claim), 1U) << claim << " held despite " << bug;
  }
  std::cout << "[ caught    ] " << bug << "\n              caught by: " << joined(caught->claims);
  if (!claim_can_be_violated && caught->verdicts.count(claim) == 1) {
    std::cout << " (" << claim << ": " << to_string(caught->verdicts[claim]) << ")";
  }
  std::cout << std::endl;
  // The same property with the library's components, on the same generator (at most 60 cases:
  // the long run is ClaimsProperties.OverparameterizedNoClaimViolatedAndExpectedHold).
  EXPECT_TRUE(check_property(
      claim + ": the right implementation",
      claims_property(prop::gen_overparameterized, overparameterized_expectation(), {}, nullptr),
      60, Outcome::kPass));
}

TEST(InjectedBugs, EntropyAttainmentCatchesWStarMovedInsideF) {
  expect_caught("entropy_attainment", "W* moved inside F (log-odds off by 1)",
                w_star_moved_inside_f);
}

TEST(InjectedBugs, LogOddsUniquenessCatchesWStarOutsideF) {
  expect_caught("log_odds_uniqueness", "W* + (1/2) 1 e_1^T (a solution of (C) not in F)",
                w_star_plus_f_perp);
}

TEST(InjectedBugs, GdProjectionCatchesPathWithFOffset) {
  expect_caught("gd_projection_to_w_star", "ridge path W_B + fixed unit offset in F",
                path_offset_in_f);
}

TEST(InjectedBugs, GdDirectionCatchesTiltedPath) {
  expect_caught("gd_direction_to_w_mm", "ridge path tilted: W_B + 2 B 1 e_1^T / sqrt(V)",
                path_tilted);
}

TEST(InjectedBugs, GdNormAndLossCatchesAscentHalfway) {
  expect_caught("gd_norm_and_loss", "GD that turns into gradient ascent at step N/2",
                train_with(GdBug::kAscentHalfway));
}

// regularization_path decides only holds / inconclusive (README: no `violated` rule), so no
// wrong path can make it fail the property by itself; the frozen path is caught through the
// claims that share the path (gd_projection_to_w_star, gd_direction_to_w_mm: the path settles
// away from W*, W^mm), and regularization_path drops to inconclusive.
TEST(InjectedBugs, RegularizationPathCatchesFrozenPath) {
  expect_caught("regularization_path", "ridge path frozen below lambda = 1e-4", path_frozen, false);
}

TEST(InjectedBugs, Lemma1CatchesFlippedSeparability) {
  expect_caught("lemma1_overparameterized", "separability verdict flipped to violated",
                separability_flipped);
}

TEST(InjectedBugs, GdInvariantsCatchesInSupportOnlyGradient) {
  expect_caught("gd_invariants", "GD gradient without its out-of-support part (1^T grad != 0)",
                train_with(GdBug::kInSupportGradientOnly));
}

// The control of the substituted trainer: the same GD loop without a bug passes the property, so
// the failures above come from the bugs, not from the substitution.
TEST(InjectedBugs, SubstitutedTrainerWithoutBugPasses) {
  EXPECT_TRUE(
      check_property("substituted trainer without bug",
                     claims_property(prop::gen_overparameterized, overparameterized_expectation(),
                                     train_with(GdBug::kNone), nullptr),
                     10, Outcome::kPass));
}

}  // namespace
}  // namespace ntp
