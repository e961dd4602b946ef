// ntp_make_golden: regenerates the conformance suite precision/golden/*.json (issue 5; the format
// is in src/ntp/conformance.hpp and precision/golden/README.md). Deterministic: running it again
// rewrites every file bit-identically.
//
//     cmake --build BUILD --target ntp_make_golden && BUILD/precision/ntp_make_golden
//         [--out DIR] [--only NAME] [--source DIR]
//
// It works from the source tree (--source, default the configured one), so the corpus instance
// names its text by the relative path precision/golden/corpus.txt. Reference values: MPFR at
// kReferenceDigits digits, checked against a second run at kCheckDigits digits (they must agree
// to kAgreement relative, far below the 100 printed digits); W* from the certified enclosure,
// W^mm exact. Not run in CI (it takes minutes).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/atomic_file.hpp"
#include "ntp/certificate.hpp"
#include "ntp/compatibility.hpp"
#include "ntp/conformance.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance_io.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/optimize.hpp"
#include "ntp/rng.hpp"
#include "ntp/separability.hpp"
#include "ntp/train.hpp"
#include "ntp/w_star.hpp"

#ifndef NTPCHECK_SOURCE_DIR
#error "NTPCHECK_SOURCE_DIR must name the source tree (precision/CMakeLists.txt sets it)"
#endif

namespace ntp {
namespace {

using ojson = nlohmann::ordered_json;

constexpr unsigned kReferenceDigits = 160;
constexpr unsigned kCheckDigits = 130;
/** The two reference runs must agree to this, relative to the magnitude compared. */
constexpr double kAgreement = 1e-105;
/** The test point's random stream ("gold"), independent of the generator's streams 1-4. */
constexpr std::uint64_t kTestPointStream = 0x676f6c64;
constexpr const char* kCorpusPath = "precision/golden/corpus.txt";
constexpr const char* kCommand =
    "cmake --build BUILD --target ntp_make_golden && BUILD/precision/ntp_make_golden";

struct Spec {
  std::string name;  ///< file name without .json
  std::string description;
  GeneratorOptions gen;
};

GeneratorOptions options(const std::string& family, std::uint64_t seed, std::int64_t V = -1,
                         std::int64_t d = -1, std::int64_t m = -1, std::int64_t k = -1,
                         double alpha = 1.0) {
  GeneratorOptions g;
  g.family = family;
  g.seed = seed;
  g.vocab_size = V;
  g.embedding_dim = d;
  g.num_contexts = m;
  g.support_size = k;
  g.dirichlet_alpha = alpha;
  return g;
}

GeneratorOptions corpus_options(const std::string& level, int context_length,
                                const std::string& embedding, std::int64_t d,
                                std::int64_t max_contexts, std::uint64_t seed) {
  GeneratorOptions g = options("corpus", seed, -1, d);
  g.corpus_path = kCorpusPath;
  g.corpus_level = level;
  g.context_length = context_length;
  g.corpus_embedding = embedding;
  g.max_contexts = max_contexts;
  return g;
}

/** The suite, tiny to paper-main; every generator family appears. */
std::vector<Spec> specs() {
  return {
      {"01-overparameterized-tiny", "the smallest overparameterized instance (d = m = 2)",
       options("overparameterized", 1, 3, 2, 2, 2)},
      {"02-one-hot-tiny", "one-hot supports, d = m: H = 0, W* = 0, ordinary separability",
       options("one-hot", 1, 3, 3, 3)},
      {"03-paper-toy", "the paper's toy instance (d = 2, m = 3, V = 5) [T App. A]",
       options("paper-toy", 1)},
      {"04-underparameterized-tiny", "d < m with overlapping supports",
       options("underparameterized", 2, 4, 2, 5, 2)},
      {"05-overparameterized", "the family defaults (V = 8, d = 12, m = 10, |S_j| = 3)",
       options("overparameterized", 1)},
      {"06-one-hot", "one-hot with d < m (V = 5, d = 4, m = 6)", options("one-hot", 1)},
      {"07-incompatible", "(C) fails (two contexts share h and support), (6) holds",
       options("incompatible", 1)},
      {"08-inseparable", "(6) fails (h_1 = -h_0), (C) holds", options("inseparable", 1)},
      {"09-underparameterized", "the family defaults (V = 6, d = 3, m = 12, |S_j| = 2)",
       options("underparameterized", 1)},
      {"10-corpus-word", "word-level corpus, context length 1, Gaussian embeddings (d = 16)",
       corpus_options("word", 1, "gaussian", 16, 8, 1)},
      {"11-corpus-char", "character-level corpus, context length 2, one-hot embeddings",
       corpus_options("char", 2, "one-hot", -1, 10, 1)},
      {"12-overparameterized-medium", "V = 12, d = 24, m = 20, |S_j| = 4, Dirichlet(1/2)",
       options("overparameterized", 3, 12, 24, 20, 4, 0.5)},
      {"13-paper-main", "the paper's main instance (V = 10, d = 60, m = 50, |S_j| = 6), seed 1",
       options("paper-main", 1)},
  };
}

/** `ntpcheck generate` arguments that reproduce the instance (run from the source tree). */
std::string instance_command(const GeneratorOptions& g) {
  std::string c = "ntpcheck generate " + g.family + " --seed " + std::to_string(g.seed);
  const auto flag = [&](const char* f, std::int64_t v) {
    if (v != -1) c += std::string(" ") + f + " " + std::to_string(v);
  };
  flag("-V", g.vocab_size);
  flag("-d", g.embedding_dim);
  flag("-m", g.num_contexts);
  flag("-k", g.support_size);
  if (g.dirichlet_alpha != 1.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", g.dirichlet_alpha);
    c += std::string(" --alpha ") + buf;
  }
  if (g.family == "corpus") {
    c += " --corpus " + g.corpus_path + " --level " + g.corpus_level + " --context-length " +
         std::to_string(g.context_length) + " --embedding " + g.corpus_embedding;
    flag("--max-contexts", g.max_contexts);
  }
  return c;
}

ojson generator_json(const GeneratorOptions& g) {
  ojson j;
  j["family"] = g.family;
  j["seed"] = g.seed;
  j["vocab_size"] = g.vocab_size;
  j["embedding_dim"] = g.embedding_dim;
  j["num_contexts"] = g.num_contexts;
  j["support_size"] = g.support_size;
  j["dirichlet_alpha"] = g.dirichlet_alpha;
  if (g.family == "corpus") {
    j["corpus_path"] = g.corpus_path;
    j["corpus_level"] = g.corpus_level;
    j["context_length"] = g.context_length;
    j["corpus_embedding"] = g.corpus_embedding;
    j["max_contexts"] = g.max_contexts;
  }
  j["note"] = "GeneratorOptions of src/ntp/generators.hpp; -1 means the family default";
  return j;
}

/** W[v][i] = (floor(2^11 u) - 2^10) / 2^10, u = Rng(seed, "gold").uniform(), row-major: dyadic
 * in [-1, 1) with at most 11 significant bits, so exact in float and every wider type. */
std::vector<Rational> test_point(std::uint64_t seed, std::int64_t V, std::int64_t d) {
  Rng rng(seed, kTestPointStream);
  std::vector<Rational> w;
  for (std::int64_t k = 0; k < V * d; ++k) {
    const auto n = static_cast<long long>(std::floor(rng.uniform() * 2048.0));  // exact
    w.emplace_back(BigInt(n - 1024), BigInt(1024));
  }
  return w;
}

/** The largest power of 2 not above 1/(2L) (default_gd_eta): the GD theorem's setting. */
Rational gd_eta(const InstanceSummary& s) {
  int e = 0;
  (void)std::frexp(default_gd_eta(s), &e);  // x = f 2^e, f in [1/2, 1): 2^(e-1) <= x
  const int p = e - 1;
  return p >= 0 ? Rational(BigInt(1) << p) : Rational(BigInt(1), BigInt(1) << -p);
}

struct Iterate {
  std::int64_t step = 0;
  std::vector<Rational> w;
  Rational ce, excess;
};

/** The reference values, exact rationals of MPFR results. */
struct Reference {
  Rational entropy, ce, excess;
  std::vector<Rational> gradient;
  std::vector<Iterate> iterates;
};

std::vector<Rational> row_major(const Matrix<Mpfr>& w) {
  std::vector<Rational> out;
  for (Eigen::Index v = 0; v < w.rows(); ++v) {
    for (Eigen::Index i = 0; i < w.cols(); ++i) {
      out.push_back(ScalarTraits<Mpfr>::to_rational(w(v, i)));
    }
  }
  return out;
}

Reference compute_reference(const InstanceData& data, const std::vector<Rational>& w,
                            const Rational& eta, unsigned digits) {
  using T = ScalarTraits<Mpfr>;
  set_mpfr_digits(digits);
  const Instance<Mpfr> inst = to_scalar<Mpfr>(data);
  Matrix<Mpfr> W(inst.V, inst.d);
  for (std::int64_t v = 0; v < inst.V; ++v) {
    for (std::int64_t i = 0; i < inst.d; ++i) {
      W(v, i) = T::from_rational(w[static_cast<std::size_t>(v * inst.d + i)]);
    }
  }
  LossWorkspace<Mpfr> ws(inst);
  Matrix<Mpfr> G(inst.V, inst.d);
  const LossValue<Mpfr> val = loss_and_gradient(inst, W, ws, &G);
  Reference r;
  r.entropy = T::to_rational(inst.entropy);
  r.ce = T::to_rational(val.ce);
  r.excess = T::to_rational(val.excess);
  r.gradient = row_major(G);

  OptimizerOptions opt;
  opt.kind = OptimizerKind::kGD;
  opt.eta = eta;
  opt.steps = kGoldenGdSteps.back();
  opt.points_per_decade = 0;
  opt.extra_record_steps.assign(kGoldenGdSteps.begin(), kGoldenGdSteps.end());
  opt.record_weights = true;
  const Matrix<Mpfr> W0 = Matrix<Mpfr>::Zero(inst.V, inst.d);
  const Trajectory<Mpfr> tr = run_optimizer(inst, opt, W0);
  if (tr.diverged_at_step >= 0) {
    throw InternalError("reference GD diverged at step " + std::to_string(tr.diverged_at_step));
  }
  for (std::int64_t k : kGoldenGdSteps) {
    for (std::size_t p = 0; p < tr.points.size(); ++p) {
      if (tr.points[p].step != k) continue;
      r.iterates.push_back({k, row_major(tr.weights[p]), T::to_rational(tr.points[p].loss.ce),
                            T::to_rational(tr.points[p].loss.excess)});
    }
  }
  if (r.iterates.size() != kGoldenGdSteps.size()) throw InternalError("GD steps not recorded");
  return r;
}

/** Largest |a - b| / max|a| over a group of values (0 when both are exactly zero). */
double relative_gap(const std::vector<Rational>& a, const std::vector<Rational>& b) {
  Rational scale = 0;
  Rational worst = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    scale = std::max(scale, Rational(abs(a[k])));
    worst = std::max(worst, Rational(abs(a[k] - b[k])));
  }
  if (worst == 0) return 0;
  if (scale == 0) return INFINITY;
  return rational_to_double(worst / scale);
}

/** The worst disagreement of two reference runs (each value or matrix relative to itself). */
double agreement(const Reference& a, const Reference& b) {
  double worst = 0;
  const auto one = [&](const Rational& x, const Rational& y) {
    worst = std::max(worst, relative_gap({x}, {y}));
  };
  one(a.entropy, b.entropy);
  one(a.ce, b.ce);
  one(a.excess, b.excess);
  worst = std::max(worst, relative_gap(a.gradient, b.gradient));
  for (std::size_t k = 0; k < a.iterates.size(); ++k) {
    one(a.iterates[k].ce, b.iterates[k].ce);
    one(a.iterates[k].excess, b.iterates[k].excess);
    worst = std::max(worst, relative_gap(a.iterates[k].w, b.iterates[k].w));
  }
  return worst;
}

std::string dec(const Rational& q) { return rational_to_decimal(q, kGoldenDigits); }

/** Exact "p/q" (or "p") text. */
std::string exact(const Rational& q) { return q.str(); }

template <class F>
ojson matrix_json(const std::vector<Rational>& w, std::int64_t V, std::int64_t d, F&& text) {
  ojson rows = ojson::array();
  for (std::int64_t v = 0; v < V; ++v) {
    ojson row = ojson::array();
    for (std::int64_t i = 0; i < d; ++i)
      row.push_back(text(w[static_cast<std::size_t>(v * d + i)]));
    rows.push_back(row);
  }
  return rows;
}

std::string sci(double x, int digits = 2) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*e", digits, x);
  return buf;
}

std::string hexf(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%a", x);
  return buf;
}

ojson make_golden(const Spec& spec) {
  const InstanceData data = generate(spec.gen);
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const InstanceSummary summary = summarize(data);
  const std::vector<Rational> w = test_point(spec.gen.seed, V, d);
  const Rational eta = gd_eta(summary);

  const Reference ref = compute_reference(data, w, eta, kReferenceDigits);
  const Reference chk = compute_reference(data, w, eta, kCheckDigits);
  const double gap = agreement(ref, chk);
  if (!(gap <= kAgreement)) {
    throw InternalError(spec.name + ": the references at " + std::to_string(kReferenceDigits) +
                        " and " + std::to_string(kCheckDigits) + " digits differ by " + sci(gap) +
                        " relative (must be <= " + sci(kAgreement) + ")");
  }

  CompatibilityOptions copt;
  copt.compute_w_star = false;
  const CompatibilityResult comp = check_compatibility(data, copt);
  const SeparabilityResult sep = decide_separability(data);
  if (comp.verdict == Verdict::kInconclusive || sep.verdict == Verdict::kInconclusive) {
    throw InternalError(spec.name + ": a condition is inconclusive: " + comp.reason + sep.reason);
  }

  ojson g;
  g["format"] = kGoldenFormat;
  g["version"] = kGoldenVersion;
  g["name"] = spec.name;
  g["description"] = spec.description;
  ojson prov;
  prov["program"] = "precision/make_golden.cpp";
  prov["command"] = kCommand;
  prov["generator"] = generator_json(spec.gen);
  prov["instance_command"] = instance_command(spec.gen) + " (from the source tree)";
  prov["test_point"] =
      "loss.w[v][i] = (floor(2^11 u) - 2^10) / 2^10 with u = Rng(seed, stream 0x676f6c64)"
      ".uniform() drawn in row-major order (src/ntp/rng.hpp)";
  prov["eta_rule"] = "the largest power of 2 not above 1/(2L), L from summarize()";
  prov["reference"] = "MPFR at " + std::to_string(kReferenceDigits) +
                      " decimal digits (to_scalar, loss_and_gradient, run_optimizer), printed to " +
                      std::to_string(kGoldenDigits) + " significant digits; a second run at " +
                      std::to_string(kCheckDigits) + " digits agrees to " + sci(gap, 1) +
                      " relative";
  prov["w_star"] = "enclose_w_star(target_bits " + std::to_string(kGoldenWStarBits) +
                   "): centre rounded to " + std::to_string(kGoldenDigits) + " digits";
  prov["w_mm"] = "compute_w_mm: float QP, exact KKT, verified in rationals (status proven)";
  g["provenance"] = prov;
  g["summary"] = {{"V", V},
                  {"d", d},
                  {"m", data.num_contexts()},
                  {"support_nnz", data.support_nnz()},
                  {"fingerprint", instance_fingerprint(data)},
                  {"smoothness_L", summary.smoothness_L},
                  {"default_gd_eta", default_gd_eta(summary)}};
  g["conditions"] = {{"compatibility", to_string(comp.verdict)},
                     {"separability", to_string(sep.verdict)}};
  ojson absent = ojson::object();
  if (comp.verdict != Verdict::kHolds) {
    absent["w_star"] = "(C) is violated (certificate " + to_string(comp.certificate) + ")";
  }
  if (sep.verdict != Verdict::kHolds) {
    absent["w_mm"] = "(6) is violated (certificate " + to_string(sep.certificate.kind) + ")";
  }
  if (!absent.empty()) g["absent"] = absent;
  g["instance"] = ojson::parse(instance_to_json(data).dump());

  g["entropy"] = dec(ref.entropy);
  g["loss"] = {{"w", matrix_json(w, V, d, [](const Rational& q) { return rational_to_string(q); })},
               {"ce", dec(ref.ce)},
               {"excess", dec(ref.excess)},
               {"gradient", matrix_json(ref.gradient, V, d, dec)}};

  if (comp.verdict == Verdict::kHolds) {
    const WStarResult ws = enclose_w_star(data, comp.verdict, kGoldenWStarBits, comp.rank);
    if (!ws.computed) throw InternalError(spec.name + ": W* not enclosed: " + ws.reason);
    const double rel = ws.norm_lo > 0 ? ws.radius / ws.norm_lo : ws.radius;
    if (!(ws.radius == 0 || (ws.norm_lo > 0 && rel < 1e-100))) {
      throw InternalError(spec.name + ": W* radius " + sci(ws.radius) +
                          " is not below 1e-100 relative");
    }
    g["w_star"] = {{"w", matrix_json(ws.w_mid, V, d, dec)},
                   {"radius", hexf(ws.radius)},
                   {"radius_decimal", sci(ws.radius)},
                   {"radius_relative", sci(rel)},
                   {"target_bits", kGoldenWStarBits},
                   {"log_precision_bits", ws.log_precision_bits},
                   {"dim_f", ws.dim_f}};
  }
  if (sep.verdict == Verdict::kHolds) {
    const MaxMarginResult mm = compute_w_mm(data, sep.verdict);
    if (mm.status != MaxMarginStatus::kProven) {
      throw InternalError(spec.name + ": W^mm is " + to_string(mm.status) + ": " + mm.reason);
    }
    std::size_t bytes = 0;
    for (const Rational& q : mm.w) bytes += exact(q).size();
    ojson wmm;
    wmm["w"] = matrix_json(mm.w, V, d, dec);
    if (bytes <= kGoldenMaxExactBytes) {
      wmm["exact"] = matrix_json(mm.w, V, d, exact);
    } else {
      wmm["exact_omitted"] = "the exact entries take " + std::to_string(bytes) + " bytes (limit " +
                             std::to_string(kGoldenMaxExactBytes) +
                             "): norm_squared and functional pin them down exactly";
    }
    wmm["norm_squared"] = exact(mm.norm_squared);
    wmm["functional"] = exact(golden_functional(mm.w));
    wmm["status"] = to_string(mm.status);
    g["w_mm"] = wmm;
  }

  ojson gd;
  gd["optimizer"] = "gd";
  gd["eta"] = rational_to_string(eta);
  gd["eta_times_L"] = rational_to_double(eta) * summary.smoothness_L;
  gd["w0"] = matrix_json(std::vector<Rational>(static_cast<std::size_t>(V * d), Rational(0)), V, d,
                         [](const Rational& q) { return rational_to_string(q); });
  ojson its = ojson::array();
  for (const Iterate& it : ref.iterates) {
    its.push_back({{"step", it.step},
                   {"ce", dec(it.ce)},
                   {"excess", dec(it.excess)},
                   {"w", matrix_json(it.w, V, d, dec)}});
  }
  gd["iterates"] = its;
  g["gd"] = gd;
  return g;
}

int run(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string source = NTPCHECK_SOURCE_DIR;
  std::string out;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--out" || a == "--only" || a == "--source") && i + 1 < argc) {
      (a == "--out" ? out : a == "--only" ? only : source) = argv[++i];
    } else {
      std::cerr << "usage: ntp_make_golden [--out DIR] [--only NAME] [--source DIR]\n";
      return 3;
    }
  }
  out = fs::absolute(out.empty() ? fs::path(source) / "precision" / "golden" : fs::path(out))
            .string();
  fs::current_path(source);  // the corpus path is relative to the source tree
  bool any = false;
  for (const Spec& spec : specs()) {
    if (!only.empty() && spec.name != only) continue;
    any = true;
    const auto t0 = std::chrono::steady_clock::now();
    const ojson g = make_golden(spec);
    const std::string path = (fs::path(out) / (spec.name + ".json")).string();
    write_file_atomic(path, g.dump(1) + "\n");
    std::cerr << spec.name << ": "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
              << " s\n";
  }
  if (!any) {
    std::cerr << "ntp_make_golden: no instance named " << only << "\n";
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace ntp

int main(int argc, char** argv) {
  try {
    return ntp::run(argc, argv);
  } catch (const ntp::Error& e) {
    std::cerr << "ntp_make_golden: " << e.what() << "\n";
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "ntp_make_golden: internal error: " << e.what() << "\n";
    return 4;
  }
}
