#include "ntp/conformance.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <vector>

#include "ntp/compatibility.hpp"
#include "ntp/instance_io.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/rng.hpp"
#include "ntp/separability.hpp"
#include "ntp/train.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Exact W^mm entries of large instances are long rationals; golden decimals are ~110 characters.
constexpr std::size_t kMaxNumberText = std::size_t{1} << 20;

// ------------------------------------------------------------------------------ golden files

struct GoldenIterate {
  std::int64_t step = 0;
  std::vector<Rational> w;  ///< V x d row-major
  Rational ce;
  Rational excess;
};

/** A parsed golden file (conformance.hpp has the format). Matrices are V x d row-major. */
struct Golden {
  std::string file;
  std::string name;
  std::string family;
  InstanceData data;
  std::int64_t V = 0, d = 0, m = 0;
  Rational entropy;
  std::vector<Rational> w;
  Rational ce;
  Rational excess;
  std::vector<Rational> gradient;
  std::string compatibility;
  std::string separability;
  bool has_w_star = false;
  std::vector<Rational> w_star;
  double w_star_radius = 0;
  bool has_w_mm = false;
  std::vector<Rational> w_mm_decimal;
  bool has_w_mm_exact = false;
  std::vector<Rational> w_mm;
  Rational w_mm_norm_squared;
  Rational w_mm_functional;
  Rational eta;
  std::vector<Rational> w0;
  std::vector<GoldenIterate> iterates;
};

std::string shorten(std::string s) {
  constexpr std::size_t kMax = 60;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

/** Reads the fields of one golden file; every defect is an InvalidInput naming file and field. */
class GoldenParser {
 public:
  explicit GoldenParser(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem,
                         const std::string& got) const {
    throw InvalidInput("invalid golden file " + file_ + ": " + field + " " + problem + ", got " +
                       got);
  }

  const json& member(const json& obj, const std::string& path, const std::string& key) const {
    if (!obj.is_object()) fail(path, "must be an object", shorten(obj.dump()));
    const auto it = obj.find(key);
    const std::string field = path.empty() ? key : path + "." + key;
    if (it == obj.end()) fail(field, "is missing", "nothing");
    return *it;
  }

  bool has(const json& obj, const std::string& key) const {
    return obj.is_object() && obj.contains(key);
  }

  std::string text(const json& v, const std::string& field) const {
    if (!v.is_string()) fail(field, "must be a string", shorten(v.dump()));
    return v.get<std::string>();
  }

  std::int64_t integer(const json& v, const std::string& field) const {
    if (!v.is_number_integer()) fail(field, "must be an integer", shorten(v.dump()));
    return v.get<std::int64_t>();
  }

  Rational number(const json& v, const std::string& field) const {
    if (!v.is_string()) fail(field, "must be a decimal or rational string", shorten(v.dump()));
    const auto q = parse_rational(v.get<std::string>(), kMaxNumberText);
    if (!q) fail(field, "must be a decimal or rational number", shorten(v.dump()));
    return *q;
  }

  /** A non-negative double written as a hex float ("%a"). */
  double hex_double(const json& v, const std::string& field) const {
    const std::string s = text(v, field);
    char* end = nullptr;
    const double x = std::strtod(s.c_str(), &end);
    if (s.rfind("0x", 0) != 0 || end != s.c_str() + s.size() || !std::isfinite(x) || x < 0) {
      fail(field, "must be a non-negative hex float (printf %a)", shorten(v.dump()));
    }
    return x;
  }

  std::vector<Rational> matrix(const json& v, const std::string& field, std::int64_t rows,
                               std::int64_t cols) const {
    if (!v.is_array() || static_cast<std::int64_t>(v.size()) != rows) {
      fail(field, "must be an array of " + std::to_string(rows) + " rows", shorten(v.dump()));
    }
    std::vector<Rational> out;
    out.reserve(static_cast<std::size_t>(rows * cols));
    for (std::int64_t r = 0; r < rows; ++r) {
      const json& row = v[static_cast<std::size_t>(r)];
      const std::string rf = field + "[" + std::to_string(r) + "]";
      if (!row.is_array() || static_cast<std::int64_t>(row.size()) != cols) {
        fail(rf, "must be an array of " + std::to_string(cols) + " numbers", shorten(row.dump()));
      }
      for (std::int64_t c = 0; c < cols; ++c) {
        out.push_back(number(row[static_cast<std::size_t>(c)], rf + "[" + std::to_string(c) + "]"));
      }
    }
    return out;
  }

  std::string verdict(const json& v, const std::string& field) const {
    const std::string s = text(v, field);
    if (s != "holds" && s != "violated") fail(field, "must be \"holds\" or \"violated\"", s);
    return s;
  }

 private:
  std::string file_;
};

Golden parse_golden(const std::string& path, const std::string& file) {
  GoldenParser p(file);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read golden file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("cannot read golden file " + path);
  json root;
  try {
    root = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    p.fail("(the file)", "must be JSON", std::string("a parse error: ") + e.what());
  }
  Golden g;
  g.file = file;
  const std::string format = p.text(p.member(root, "", "format"), "format");
  if (format != kGoldenFormat)
    p.fail("format", "must be \"" + std::string(kGoldenFormat) + "\"", format);
  const std::int64_t version = p.integer(p.member(root, "", "version"), "version");
  if (version != kGoldenVersion) {
    p.fail("version", "must be " + std::to_string(kGoldenVersion), std::to_string(version));
  }
  g.name = p.text(p.member(root, "", "name"), "name");
  const json& gen = p.member(p.member(root, "", "provenance"), "provenance", "generator");
  g.family = p.text(p.member(gen, "provenance.generator", "family"), "provenance.generator.family");
  const json& inst = p.member(root, "", "instance");
  if (!inst.is_object()) p.fail("instance", "must be an ntp-instance object", shorten(inst.dump()));
  g.data = read_instance_json(inst.dump(), file + ": instance");
  g.V = g.data.vocab_size;
  g.d = g.data.embedding_dim;
  g.m = g.data.num_contexts();

  g.entropy = p.number(p.member(root, "", "entropy"), "entropy");
  const json& loss = p.member(root, "", "loss");
  g.w = p.matrix(p.member(loss, "loss", "w"), "loss.w", g.V, g.d);
  g.ce = p.number(p.member(loss, "loss", "ce"), "loss.ce");
  g.excess = p.number(p.member(loss, "loss", "excess"), "loss.excess");
  g.gradient = p.matrix(p.member(loss, "loss", "gradient"), "loss.gradient", g.V, g.d);

  const json& cond = p.member(root, "", "conditions");
  g.compatibility =
      p.verdict(p.member(cond, "conditions", "compatibility"), "conditions.compatibility");
  g.separability =
      p.verdict(p.member(cond, "conditions", "separability"), "conditions.separability");
  g.has_w_star = g.compatibility == "holds";
  if (g.has_w_star) {
    const json& ws = p.member(root, "", "w_star");
    g.w_star = p.matrix(p.member(ws, "w_star", "w"), "w_star.w", g.V, g.d);
    g.w_star_radius = p.hex_double(p.member(ws, "w_star", "radius"), "w_star.radius");
  } else if (p.has(root, "w_star")) {
    p.fail("w_star", "must be absent when conditions.compatibility is violated", "a w_star");
  }
  g.has_w_mm = g.separability == "holds";
  if (g.has_w_mm) {
    const json& mm = p.member(root, "", "w_mm");
    g.w_mm_decimal = p.matrix(p.member(mm, "w_mm", "w"), "w_mm.w", g.V, g.d);
    g.has_w_mm_exact = p.has(mm, "exact");
    if (g.has_w_mm_exact) g.w_mm = p.matrix(mm.at("exact"), "w_mm.exact", g.V, g.d);
    g.w_mm_norm_squared = p.number(p.member(mm, "w_mm", "norm_squared"), "w_mm.norm_squared");
    g.w_mm_functional = p.number(p.member(mm, "w_mm", "functional"), "w_mm.functional");
  } else if (p.has(root, "w_mm")) {
    p.fail("w_mm", "must be absent when conditions.separability is violated", "a w_mm");
  }

  const json& gd = p.member(root, "", "gd");
  const std::string opt = p.text(p.member(gd, "gd", "optimizer"), "gd.optimizer");
  if (opt != "gd") p.fail("gd.optimizer", "must be \"gd\"", opt);
  g.eta = p.number(p.member(gd, "gd", "eta"), "gd.eta");
  if (g.eta <= 0) p.fail("gd.eta", "must be positive", rational_to_string(g.eta));
  // The GD bound rests on the non-expansiveness of the exact GD map, which needs eta <= 2/L.
  const double two_over_l = 2 / summarize(g.data).smoothness_L;
  if (rational_to_double(g.eta) > two_over_l) {
    p.fail("gd.eta", "must be at most 2/L = " + std::to_string(two_over_l),
           rational_to_string(g.eta));
  }
  g.w0 = p.matrix(p.member(gd, "gd", "w0"), "gd.w0", g.V, g.d);
  const json& its = p.member(gd, "gd", "iterates");
  if (!its.is_array() || its.empty()) {
    p.fail("gd.iterates", "must be a non-empty array", shorten(its.dump()));
  }
  std::int64_t last = 0;
  for (std::size_t k = 0; k < its.size(); ++k) {
    const std::string f = "gd.iterates[" + std::to_string(k) + "]";
    GoldenIterate it;
    it.step = p.integer(p.member(its[k], f, "step"), f + ".step");
    if (it.step <= last || it.step > 1000000) {
      p.fail(f + ".step", "must increase, in [1, 10^6]", std::to_string(it.step));
    }
    last = it.step;
    it.w = p.matrix(p.member(its[k], f, "w"), f + ".w", g.V, g.d);
    it.ce = p.number(p.member(its[k], f, "ce"), f + ".ce");
    it.excess = p.number(p.member(its[k], f, "excess"), f + ".excess");
    g.iterates.push_back(std::move(it));
  }
  return g;
}

// ------------------------------------------------------------------------------ bounds

/** The instance constants of the bounds (conformance.hpp), in double. */
struct Scales {
  double V = 0, d = 0, m = 0;
  double s = 0;     ///< max |S_j|
  double lp = 0;    ///< max |log p|
  double hmax = 0;  ///< max |h_{j,i}|
  double hn = 0;    ///< max ||h_j||_2
  double ln_v = 0;  ///< ln V
  Eigen::MatrixXd hbar;
};

Scales scales_of(const InstanceData& data) {
  const Instance<double> inst = to_scalar<double>(data);
  Scales c;
  c.V = static_cast<double>(inst.V);
  c.d = static_cast<double>(inst.d);
  c.m = static_cast<double>(inst.m);
  for (std::int64_t j = 0; j < inst.m; ++j) {
    c.s = std::max(c.s, static_cast<double>(inst.support_size(j)));
    c.hn = std::max(c.hn, inst.Hbar.col(j).norm());
  }
  c.lp = inst.log_prob.cwiseAbs().maxCoeff();
  c.hmax = inst.Hbar.cwiseAbs().maxCoeff();
  c.ln_v = std::log(c.V);
  c.hbar = inst.Hbar;
  return c;
}

/** Lambda(W) = max_{j,v} sum_i |W_{v,i}| |h_{j,i}| for a row-major V x d matrix. */
double logit_scale(const Scales& c, const std::vector<Rational>& w) {
  const auto V = static_cast<Eigen::Index>(c.V);
  const auto d = static_cast<Eigen::Index>(c.d);
  Eigen::MatrixXd a(V, d);
  for (Eigen::Index v = 0; v < V; ++v) {
    for (Eigen::Index i = 0; i < d; ++i) {
      a(v, i) = std::abs(rational_to_double(w[static_cast<std::size_t>(v * d + i)]));
    }
  }
  return (a * c.hbar.cwiseAbs()).maxCoeff();
}

double bound_entropy(const Scales& c, double eps, double h) {
  return eps * ((c.s + c.m + 3) * h + 1);
}

double bound_excess(const Scales& c, double eps, double lambda, double excess) {
  return eps * ((2 * c.d + 18) * lambda + 2 * c.lp + c.V + 3 * c.s + 6 * c.ln_v + 10 +
                (c.s + c.m + 6) * excess);
}

double bound_ce(const Scales& c, double eps, double lambda, double h, double excess, double ce) {
  return bound_entropy(c, eps, h) + bound_excess(c, eps, lambda, excess) + eps * ce;
}

double bound_gradient(const Scales& c, double eps, double lambda) {
  const double err = c.lp + c.V + c.s + (2 * c.d + 8) * lambda + 2 * c.ln_v + 9;
  return 2 * eps * c.hmax * (err + c.m);
}

// ------------------------------------------------------------------------------ comparisons

json make_check(const std::string& quantity, double error, double bound, double scale,
                const std::string& note = "", std::int64_t step = -1) {
  json c;
  c["quantity"] = quantity;
  if (step >= 0) c["step"] = step;
  c["error"] = error;
  c["bound"] = bound;
  c["relative_error"] = scale > 0 ? error / scale : error;
  c["relative_bound"] = scale > 0 ? bound / scale : bound;
  c["pass"] = std::isfinite(error) && error <= bound;
  if (!note.empty()) c["note"] = note;
  return c;
}

json failed_check(const std::string& quantity, const std::string& note, std::int64_t step = -1) {
  json c;
  c["quantity"] = quantity;
  if (step >= 0) c["step"] = step;
  c["error"] = nullptr;
  c["bound"] = nullptr;
  c["pass"] = false;
  c["note"] = note;
  return c;
}

double abs_diff(const Rational& a, const Rational& b) { return rational_to_double(abs(a - b)); }

double frobenius(const std::vector<Rational>& w) {
  Rational sum = 0;
  for (const Rational& x : w) sum += x * x;
  return std::sqrt(rational_to_double(sum));
}

double max_abs(const std::vector<Rational>& w) {
  Rational worst = 0;
  for (const Rational& x : w) worst = std::max(worst, Rational(abs(x)));
  return rational_to_double(worst);
}

struct MatrixDiff {
  double max_abs = 0;
  double frobenius = 0;
};

/** Differences of exact row-major matrices. */
MatrixDiff diff_exact(const std::vector<Rational>& a, const std::vector<Rational>& b) {
  Rational sum = 0;
  Rational worst = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const Rational e = abs(a[k] - b[k]);
    sum += e * e;
    worst = std::max(worst, e);
  }
  return {rational_to_double(worst), std::sqrt(rational_to_double(sum))};
}

template <class S>
std::vector<Rational> to_rationals(const Matrix<S>& w) {
  std::vector<Rational> out;
  out.reserve(static_cast<std::size_t>(w.size()));
  for (Eigen::Index v = 0; v < w.rows(); ++v) {
    for (Eigen::Index i = 0; i < w.cols(); ++i)
      out.push_back(ScalarTraits<S>::to_rational(w(v, i)));
  }
  return out;
}

template <class S>
Matrix<S> to_matrix(const std::vector<Rational>& w, std::int64_t V, std::int64_t d) {
  Matrix<S> out(V, d);
  for (std::int64_t v = 0; v < V; ++v) {
    for (std::int64_t i = 0; i < d; ++i) {
      out(v, i) = ScalarTraits<S>::from_rational(w[static_cast<std::size_t>(v * d + i)]);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ the checks

/** H, CE, excess and gradient at the test point, and the GD iterates, in precision S. */
template <class S>
void check_in_precision(const Golden& g, const Scales& c, json& checks) {
  using T = ScalarTraits<S>;
  const double eps = T::to_double(T::epsilon());
  const double rr = kGoldenRelativeRounding;
  const Instance<S> inst = to_scalar<S>(g.data);
  const double h = rational_to_double(g.entropy);
  checks.push_back(make_check("entropy", abs_diff(T::to_rational(inst.entropy), g.entropy),
                              bound_entropy(c, eps, h) + rr * h, h));

  // The test point.
  {
    const Matrix<S> W = to_matrix<S>(g.w, g.V, g.d);
    LossWorkspace<S> ws(inst);
    Matrix<S> G(g.V, g.d);
    const LossValue<S> val = loss_and_gradient(inst, W, ws, &G);
    const double lambda = logit_scale(c, g.w);
    const double ce = rational_to_double(g.ce);
    const double ex = rational_to_double(g.excess);
    checks.push_back(make_check("ce", abs_diff(T::to_rational(val.ce), g.ce),
                                bound_ce(c, eps, lambda, h, ex, ce) + rr * ce, ce));
    checks.push_back(make_check("excess", abs_diff(T::to_rational(val.excess), g.excess),
                                bound_excess(c, eps, lambda, ex) + rr * ex, ex));
    const double gmax = max_abs(g.gradient);
    checks.push_back(make_check("gradient", diff_exact(to_rationals(G), g.gradient).max_abs,
                                bound_gradient(c, eps, lambda) + rr * gmax, gmax,
                                "max over entries; relative to max |entry|"));
  }

  // GD, in segments between the golden steps (GD keeps no state besides W, so this is the same
  // run), recording ||W_i|| and ||G_i|| at every step for the accumulated bound B_k.
  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.eta = g.eta;
  opt.points_per_decade = 0;
  opt.record_weights = false;
  const double eta = rational_to_double(g.eta);
  const double sqrt_vd = std::sqrt(c.V * c.d);
  Matrix<S> Wk = to_matrix<S>(g.w0, g.V, g.d);
  double B = 0;
  std::int64_t done = 0;
  std::string diverged;
  for (const GoldenIterate& it : g.iterates) {
    if (!diverged.empty()) {
      for (const char* q : {"gd_w", "gd_ce", "gd_excess"}) {
        checks.push_back(failed_check(q, diverged, it.step));
      }
      continue;
    }
    const std::int64_t n = it.step - done;
    opt.steps = n;
    opt.extra_record_steps.resize(static_cast<std::size_t>(n) + 1);
    std::iota(opt.extra_record_steps.begin(), opt.extra_record_steps.end(), std::int64_t{0});
    const Trajectory<S> tr = run_optimizer(inst, opt, Wk);
    if (tr.diverged_at_step >= 0 || static_cast<std::int64_t>(tr.points.size()) != n + 1) {
      diverged = "our run diverged (non-finite loss or W) at step " +
                 std::to_string(done + std::max<std::int64_t>(tr.diverged_at_step, 0));
      for (const char* q : {"gd_w", "gd_ce", "gd_excess"}) {
        checks.push_back(failed_check(q, diverged, it.step));
      }
      continue;
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& p = tr.points[static_cast<std::size_t>(i)];
      const double wn = T::to_double(p.norm);
      const double wn_next = T::to_double(tr.points[static_cast<std::size_t>(i) + 1].norm);
      const double gn = T::to_double(p.grad_norm);
      B += eps * (wn_next + 2 * eta * gn) + eta * sqrt_vd * bound_gradient(c, eps, c.hn * wn);
    }
    Wk = tr.final_weights;
    done = it.step;
    const double wnorm = frobenius(it.w);
    checks.push_back(make_check("gd_w", diff_exact(to_rationals(Wk), it.w).frobenius,
                                B + rr * wnorm, wnorm, "Frobenius norm; relative to ||W_k||_F",
                                it.step));
    const auto& last = tr.points.back();
    const double lambda = c.hn * T::to_double(last.norm);
    const double gk = T::to_double(last.grad_norm);
    const double ce = rational_to_double(it.ce);
    const double ex = rational_to_double(it.excess);
    checks.push_back(make_check("gd_ce", abs_diff(T::to_rational(last.loss.ce), it.ce),
                                bound_ce(c, eps, lambda, h, ex, ce) + gk * B + rr * ce, ce, "",
                                it.step));
    checks.push_back(make_check("gd_excess", abs_diff(T::to_rational(last.loss.excess), it.excess),
                                bound_excess(c, eps, lambda, ex) + gk * B + rr * ex, ex, "",
                                it.step));
  }
}

void check_numeric(const Golden& g, const Scales& c, const PrecisionSpec& p, json& checks) {
  switch (p.kind) {
    case Precision::kFloat:
      return check_in_precision<float>(g, c, checks);
    case Precision::kDouble:
      return check_in_precision<double>(g, c, checks);
    case Precision::kLongDouble:
      return check_in_precision<long double>(g, c, checks);
    case Precision::kDD:
      return check_in_precision<dd_real>(g, c, checks);
    case Precision::kQD:
      return check_in_precision<qd_real>(g, c, checks);
    case Precision::kFloat128:
      return check_in_precision<Float128>(g, c, checks);
    case Precision::kMp50:
      return check_in_precision<Mp50>(g, c, checks);
    case Precision::kMpfr: {
      // The MPFR precision is process-wide (scalar.hpp): set it for this run, then restore it.
      const unsigned before = Mpfr::default_precision();
      set_mpfr_digits(p.mpfr_digits);
      try {
        check_in_precision<Mpfr>(g, c, checks);
      } catch (...) {
        set_mpfr_digits(before);
        throw;
      }
      set_mpfr_digits(before);
      return;
    }
  }
}

/** The verdicts, W* and W^mm: precision independent, exact. */
void check_certified(const Golden& g, json& checks) {
  CompatibilityOptions copt;
  copt.compute_w_star = false;
  const CompatibilityResult comp = check_compatibility(g.data, copt);
  const SeparabilityResult sep = decide_separability(g.data);
  const auto verdict_check = [&](const std::string& q, const std::string& ours,
                                 const std::string& golden) {
    const bool same = ours == golden;
    checks.push_back(make_check(q, same ? 0.0 : 1.0, 0.0, 0.0,
                                "ours " + ours + ", golden " + golden + " (exact)"));
  };
  verdict_check("compatibility", to_string(comp.verdict), g.compatibility);
  verdict_check("separability", to_string(sep.verdict), g.separability);

  if (g.has_w_star) {
    const WStarResult ws = comp.verdict == Verdict::kHolds
                               ? enclose_w_star(g.data, comp.verdict, kGoldenWStarBits, comp.rank)
                               : WStarResult{};
    if (!ws.computed) {
      checks.push_back(failed_check(
          "w_star", "our W* enclosure was not computed: " +
                        (ws.reason.empty() ? "(C) is " + to_string(comp.verdict) : ws.reason)));
    } else {
      const double gn = frobenius(g.w_star);
      checks.push_back(make_check(
          "w_star", diff_exact(g.w_star, ws.w_mid).frobenius,
          ws.radius + g.w_star_radius + kGoldenRelativeRounding * gn, gn,
          "||golden - our W_mid||_F within our radius + golden radius + golden rounding"));
    }
  }
  if (g.has_w_mm) {
    const MaxMarginResult mm = compute_w_mm(g.data, sep.verdict);
    if (mm.status != MaxMarginStatus::kProven) {
      checks.push_back(
          failed_check("w_mm", "our W^mm is " + to_string(mm.status) + ": " + mm.reason));
    } else {
      // Exact: the entries (when stored), ||W^mm||^2 and the functional must be ours exactly.
      std::int64_t differ = 0;
      std::string what;
      if (g.has_w_mm_exact) {
        for (std::size_t k = 0; k < mm.w.size(); ++k) differ += mm.w[k] != g.w_mm[k] ? 1 : 0;
        what = std::to_string(differ) + " of " + std::to_string(mm.w.size()) + " entries";
      } else {
        what = "entries not stored";
      }
      const bool norm_same = mm.norm_squared == g.w_mm_norm_squared;
      const bool functional_same = golden_functional(mm.w) == g.w_mm_functional;
      differ += (norm_same ? 0 : 1) + (functional_same ? 0 : 1);
      checks.push_back(make_check("w_mm", static_cast<double>(differ), 0.0, 0.0,
                                  "values differing from our certified W^mm, exactly: " + what +
                                      ", ||W^mm||^2 " + (norm_same ? "equal" : "differs") +
                                      ", functional " + (functional_same ? "equal" : "differs")));
      const double mx = max_abs(mm.w);
      checks.push_back(make_check("w_mm_decimal", diff_exact(mm.w, g.w_mm_decimal).max_abs,
                                  kGoldenRelativeRounding * mx, mx,
                                  "max over entries of the 100-digit decimals"));
    }
  }
}

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", x);
  return buf;
}

std::string check_label(const json& c) {
  std::string s = c.at("quantity").get<std::string>();
  if (c.contains("step")) s += " at step " + std::to_string(c.at("step").get<std::int64_t>());
  return s;
}

}  // namespace

Rational golden_functional(const std::vector<Rational>& w) {
  Rng rng(0x776d6d, 0);
  Rational f = 0;
  for (const Rational& x : w) {
    const std::uint64_t c = 1 + rng.uniform_int(std::uint64_t{1} << 62);
    f += Rational(BigInt(c)) * x;
  }
  return f;
}

ConformanceResult run_conformance(const std::string& golden_dir,
                                  const ConformanceOptions& options) {
  namespace fs = std::filesystem;
  const auto t0 = Clock::now();
  std::error_code ec;
  if (!fs::is_directory(golden_dir, ec)) {
    throw IoError("cannot read golden folder " + golden_dir + ": not a directory");
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(golden_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) throw IoError("cannot read golden folder " + golden_dir + ": " + ec.message());
  if (files.empty()) {
    throw InvalidInput("invalid golden folder: " + golden_dir + " has no *.json file, got none");
  }
  std::sort(files.begin(), files.end());
  // Parse every file first: a malformed file is an input error, reported before any work.
  std::vector<Golden> goldens;
  goldens.reserve(files.size());
  for (const fs::path& f : files)
    goldens.push_back(parse_golden(f.string(), f.filename().string()));

  json instances = json::array();
  json failures = json::array();
  std::int64_t num_checks = 0;
  for (const Golden& g : goldens) {
    const auto ti = Clock::now();
    json checks = json::array();
    const Scales c = scales_of(g.data);
    check_numeric(g, c, options.precision, checks);
    if (options.certified_objects) check_certified(g, checks);
    bool passed = true;
    for (const json& ch : checks) {
      ++num_checks;
      if (ch.at("pass").get<bool>()) continue;
      passed = false;
      std::string line = g.file + ": " + check_label(ch);
      if (ch.at("error").is_number() && ch.at("bound").is_number()) {
        line += ": error " + fmt(ch.at("error").get<double>()) + " > bound " +
                fmt(ch.at("bound").get<double>());
      }
      if (ch.contains("note")) line += " (" + ch.at("note").get<std::string>() + ")";
      failures.push_back(line);
    }
    instances.push_back({{"file", g.file},
                         {"name", g.name},
                         {"family", g.family},
                         {"V", g.V},
                         {"d", g.d},
                         {"m", g.m},
                         {"passed", passed},
                         {"checks", checks},
                         {"seconds", since(ti)}});
  }
  ConformanceResult r;
  json& rep = r.report;
  rep["format"] = "ntp-conformance";
  rep["version"] = 1;
  rep["golden_dir"] = golden_dir;
  rep["precision"] = options.precision.name();
  rep["certified_objects"] = options.certified_objects;
  rep["instances"] = instances;
  rep["checks"] = num_checks;
  rep["failed"] = failures.size();
  rep["passed"] = failures.empty();
  rep["failures"] = failures;
  rep["seconds"] = since(t0);
  r.exit = failures.empty() ? ExitCode::kAllHold : ExitCode::kViolated;
  return r;
}

std::string format_conformance(const json& report) {
  std::string out = "conformance of precision " + report.at("precision").get<std::string>() +
                    " against " + std::to_string(report.at("instances").size()) +
                    " golden files in " + report.at("golden_dir").get<std::string>();
  for (const json& inst : report.at("instances")) {
    // The check closest to its bound (largest error / bound).
    double worst = -1;
    std::string worst_label;
    for (const json& c : inst.at("checks")) {
      if (!c.at("error").is_number() || !c.at("bound").is_number()) continue;
      const double b = c.at("bound").get<double>();
      if (b <= 0) continue;
      const double ratio = c.at("error").get<double>() / b;
      if (ratio > worst) {
        worst = ratio;
        worst_label = check_label(c);
      }
    }
    out += "\n  " + std::string(inst.at("passed").get<bool>() ? "pass " : "FAIL ") +
           inst.at("file").get<std::string>() + " (" + inst.at("family").get<std::string>() +
           ", V=" + std::to_string(inst.at("V").get<std::int64_t>()) +
           " d=" + std::to_string(inst.at("d").get<std::int64_t>()) +
           " m=" + std::to_string(inst.at("m").get<std::int64_t>()) +
           "): " + std::to_string(inst.at("checks").size()) + " checks";
    if (worst >= 0) out += ", largest error/bound " + fmt(worst) + " (" + worst_label + ")";
  }
  for (const json& f : report.at("failures")) out += "\n  failed: " + f.get<std::string>();
  const auto n = report.at("checks").get<std::int64_t>();
  const auto failed = report.at("failed").get<std::int64_t>();
  out +=
      "\n" + (failed == 0 ? "all " + std::to_string(n) + " checks pass"
                          : std::to_string(failed) + " of " + std::to_string(n) + " checks fail");
  char buf[48];
  std::snprintf(buf, sizeof buf, " (%.1f s)", report.at("seconds").get<double>());
  return out + buf;
}

}  // namespace ntp
