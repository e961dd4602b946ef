// ntpcheck: the command-line interface. The only place that prints or exits (design.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include "cli/geometry_cli.hpp"
#include "cli/precision_cli.hpp"
#include "cli/sweep_cli.hpp"
#include "ntp/analyze.hpp"
#include "ntp/atomic_file.hpp"
#include "ntp/certificate.hpp"
#include "ntp/claims.hpp"
#include "ntp/conformance.hpp"
#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/identify.hpp"
#include "ntp/instance_io.hpp"
#include "ntp/npy.hpp"
#include "ntp/reproduce.hpp"
#include "ntp/train.hpp"
#include "ntp/verify.hpp"

namespace {

using nlohmann::json;
using ntp::ExitCode;

constexpr const char* kExitCodes =
    "Exit codes: 0 success (all claims hold), 1 a claim is violated (verify: the candidate is\n"
    "wrong), 2 inconclusive or stopped by\n"
    "--max-seconds (partial result) or diverged (non-finite loss), 3 invalid input (message names\n"
    "the field), 4 internal error.";

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

json summary_json(const ntp::InstanceData& data, const ntp::InstanceSummary& s) {
  json j;
  j["name"] = data.name;
  j["description"] = data.description;
  j["vocab_size"] = s.V;
  j["embedding_dim"] = s.d;
  j["num_contexts"] = s.m;
  j["support_size"] = {{"min", s.support_min}, {"max", s.support_max}, {"mean", s.support_mean}};
  j["tokens_in_no_support"] = s.tokens_in_no_support;
  j["one_hot"] = s.all_one_hot;
  j["entropy"] = s.entropy;
  j["smoothness_L"] = s.smoothness_L;
  j["smoothness_L_crude"] = s.smoothness_L_crude;
  j["default_gd_eta"] = ntp::default_gd_eta(s);
  j["embedding_rank"] = s.embedding_rank;
  j["rank_tolerance"] = s.rank_tolerance;
  j["max_embedding_norm"] = s.max_embedding_norm;
  if (!data.extra.is_null()) j["extra"] = data.extra;
  return j;
}

void print_summary(const ntp::InstanceData& data, const ntp::InstanceSummary& s) {
  std::printf("instance      %s\n", data.name.empty() ? "(unnamed)" : data.name.c_str());
  if (!data.description.empty()) std::printf("              %s\n", data.description.c_str());
  std::printf("sizes         V = %lld tokens, d = %lld, m = %lld contexts\n",
              static_cast<long long>(s.V), static_cast<long long>(s.d),
              static_cast<long long>(s.m));
  std::printf("supports      |S_j| min %lld, mean %.2f, max %lld%s; %lld token(s) in no support\n",
              static_cast<long long>(s.support_min), s.support_mean,
              static_cast<long long>(s.support_max),
              s.all_one_hot ? " (one-hot: H = 0, F = {0})" : "",
              static_cast<long long>(s.tokens_in_no_support));
  std::printf("entropy       H = %.17g\n", s.entropy);
  std::printf(
      "embeddings    rank %lld of min(d, m) = %lld (singular values > %.3g); max ||h_j|| = %.6g\n",
      static_cast<long long>(s.embedding_rank), static_cast<long long>(std::min(s.d, s.m)),
      s.rank_tolerance, s.max_embedding_norm);
  std::printf("smoothness    L = (1/2) lambda_max(sum pi_j h_j h_j^T) = %.6g (crude bound %.6g)\n",
              s.smoothness_L, s.smoothness_L_crude);
  std::printf("GD step       eta = 1/(2L) = %.6g (the setting of [T Thm 2])\n",
              ntp::default_gd_eta(s));
  if (s.d > s.m && s.embedding_rank == s.m) {
    std::printf(
        "note          d > m with full-rank embeddings: both conditions hold [T Lemma 1]\n");
  }
}

/** Progress on stderr for runs longer than a second, and the --max-seconds budget. */
class Progress {
 public:
  Progress(std::string label, bool quiet, double max_seconds)
      : label_(std::move(label)),
        quiet_(quiet),
        max_seconds_(max_seconds),
        start_(std::chrono::steady_clock::now()),
        tty_(isatty(STDERR_FILENO) != 0) {}
  ~Progress() {
    if (shown_ && tty_) std::fprintf(stderr, "\n");
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool operator()(std::int64_t step, std::int64_t total) {
    const double t = seconds();
    if (max_seconds_ > 0 && t > max_seconds_) {
      budget_hit_ = true;
      return false;
    }
    if (!quiet_ && t > 1.0 && t - last_ >= (tty_ ? 0.25 : 5.0)) {
      last_ = t;
      shown_ = true;
      std::fprintf(
          stderr, "%s%s: step %lld/%lld (%.0f%%), %.1f s%s", tty_ ? "\r" : "", label_.c_str(),
          static_cast<long long>(step), static_cast<long long>(total),
          total > 0 ? 100.0 * static_cast<double>(step) / static_cast<double>(total) : 100.0, t,
          tty_ ? "" : "\n");
      std::fflush(stderr);
    }
    return true;
  }
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  [[nodiscard]] bool budget_hit() const { return budget_hit_; }

 private:
  std::string label_;
  bool quiet_;
  double max_seconds_;
  std::chrono::steady_clock::time_point start_;
  bool tty_;
  double last_ = 0;
  bool shown_ = false;
  bool budget_hit_ = false;
};

json train_json(const ntp::InstanceData& data, const ntp::TrainResult& r, bool with_weights) {
  json j;
  j["format"] = "ntp-trajectory";
  j["version"] = 1;
  j["instance"] = data.name;
  j["precision"] = r.precision.name();
  j["optimizer"] = ntp::optimizer_name(r.optimizer);
  j["eta"] = ntp::rational_to_json(r.eta);
  j["eta_double"] = ntp::rational_to_double(r.eta);
  j["steps_requested"] = r.steps_requested;
  j["partial"] = r.stopped_early;
  if (r.diverged_at_step >= 0) j["diverged_at_step"] = r.diverged_at_step;
  j["entropy"] = r.entropy;
  j["entropy_text"] = r.entropy_text;
  j["step"] = r.step;
  j["ce"] = r.ce;
  j["excess"] = r.excess;
  j["norm"] = r.norm;
  j["grad_norm"] = r.grad_norm;
  if (r.has_out_of_support) j["min_gap"] = r.min_gap;
  j["ce_text"] = r.ce_text;
  j["excess_text"] = r.excess_text;
  j["norm_text"] = r.norm_text;
  if (with_weights) {
    json ws = json::array();
    for (const auto& W : r.weights) {
      json rows = json::array();
      for (Eigen::Index i = 0; i < W.rows(); ++i) {
        json row = json::array();
        for (Eigen::Index k = 0; k < W.cols(); ++k) row.push_back(W(i, k));
        rows.push_back(std::move(row));
      }
      ws.push_back(std::move(rows));
    }
    j["W"] = std::move(ws);
  }
  return j;
}

void write_trajectory(const std::string& path, const ntp::InstanceData& data,
                      const ntp::TrainResult& r) {
  const bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (is_json) {
    ntp::write_file_atomic(path, train_json(data, r, true).dump() + "\n");
    return;
  }
  const auto K = static_cast<std::int64_t>(r.step.size());
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  std::vector<double> W(static_cast<std::size_t>(K * V * d));
  for (std::int64_t k = 0; k < K; ++k) {
    const auto& M = r.weights[static_cast<std::size_t>(k)];
    for (std::int64_t i = 0; i < V; ++i) {
      for (std::int64_t c = 0; c < d; ++c)
        W[static_cast<std::size_t>((k * V + i) * d + c)] = M(i, c);
    }
  }
  ntp::NpzArrays arrays;
  arrays.emplace_back("step", ntp::NpyArrayView(std::span<const std::int64_t>(r.step), {K}));
  // float runs store float32 W (their iterates exactly), so verify judges them by float's epsilon.
  const ntp::NpyDtype w_dtype = r.precision.kind == ntp::Precision::kFloat
                                    ? ntp::NpyDtype::kFloat32
                                    : ntp::NpyDtype::kFloat64;
  arrays.emplace_back("W", ntp::NpyArrayView(std::span<const double>(W), {K, V, d}, w_dtype));
  arrays.emplace_back("ce", ntp::NpyArrayView(std::span<const double>(r.ce), {K}));
  arrays.emplace_back("excess", ntp::NpyArrayView(std::span<const double>(r.excess), {K}));
  arrays.emplace_back("norm", ntp::NpyArrayView(std::span<const double>(r.norm), {K}));
  arrays.emplace_back("grad_norm", ntp::NpyArrayView(std::span<const double>(r.grad_norm), {K}));
  const std::vector<std::int64_t> partial{r.stopped_early ? 1 : 0};
  const std::vector<std::int64_t> diverged{r.diverged_at_step};
  arrays.emplace_back("partial", ntp::NpyArrayView(std::span<const std::int64_t>(partial), {}));
  arrays.emplace_back("diverged_at_step",
                      ntp::NpyArrayView(std::span<const std::int64_t>(diverged), {}));
  if (r.has_out_of_support) {
    arrays.emplace_back("min_gap", ntp::NpyArrayView(std::span<const double>(r.min_gap), {K}));
  }
  ntp::write_npz(path, arrays);
}

void print_trajectory(const ntp::TrainResult& r, std::size_t max_rows) {
  std::printf("%10s  %-24s  %-12s  %-12s  %-12s\n", "step", "CE", "CE - H", "||W||", "min gap R");
  const std::size_t K = r.step.size();
  const std::size_t stride = K > max_rows ? (K + max_rows - 1) / max_rows : 1;
  for (std::size_t i = 0; i < K; ++i) {
    if (i % stride != 0 && i + 1 != K) continue;
    std::printf("%10lld  %-24s  %-12s  %-12s  %-12s\n", static_cast<long long>(r.step[i]),
                fmt("%.17g", r.ce[i]).c_str(), fmt("%.6e", r.excess[i]).c_str(),
                fmt("%.6g", r.norm[i]).c_str(),
                r.has_out_of_support ? fmt("%.6g", r.min_gap[i]).c_str() : "-");
  }
}

struct TrainArgs {
  std::string file;
  std::string optimizer = "gd";
  std::int64_t steps = 1000;
  std::string eta;
  std::string precision = "double";
  std::string out;
  std::string init;
  int points_per_decade = 10;
  double max_seconds = 0;
};

ntp::TrainResult do_train(const ntp::InstanceData& data, const TrainArgs& a, bool quiet,
                          bool* budget_hit) {
  ntp::OptimizerOptions opt;
  opt.kind = ntp::parse_optimizer(a.optimizer);
  opt.steps = a.steps;
  opt.points_per_decade = a.points_per_decade;
  if (!(a.max_seconds >= 0) || !std::isfinite(a.max_seconds)) {
    throw ntp::InvalidInput(
        "invalid option: --max-seconds must be a non-negative number (0: no limit), got " +
        fmt("%g", a.max_seconds));
  }
  if (a.points_per_decade < 0 || a.points_per_decade > 1000) {
    throw ntp::InvalidInput("invalid option: --points-per-decade must be in [0, 1000], got " +
                            std::to_string(a.points_per_decade));
  }
  if (a.steps < 0 || a.steps > 1'000'000'000) {
    throw ntp::InvalidInput("invalid option: --steps must be in [0, 1e9], got " +
                            std::to_string(a.steps));
  }
  if (!a.eta.empty()) {
    auto q = ntp::parse_rational(a.eta);
    if (!q || *q <= 0) {
      throw ntp::InvalidInput("invalid option: --eta must be a positive number, got \"" + a.eta +
                              "\"");
    }
    opt.eta = *q;
  } else {
    opt.eta = ntp::default_eta(opt.kind, ntp::summarize(data));
  }
  const ntp::PrecisionSpec prec = ntp::parse_precision(a.precision);
  std::optional<Eigen::MatrixXd> W0;
  if (!a.init.empty()) {
    W0 = ntp::read_candidate_weights(a.init, data.vocab_size, data.embedding_dim).W;
  }
  Progress progress("train " + a.optimizer + " " + prec.name(), quiet, a.max_seconds);
  ntp::TrainResult r = ntp::train(data, opt, prec, W0 ? &*W0 : nullptr,
                                  [&](std::int64_t k, std::int64_t n) { return progress(k, n); });
  *budget_hit = progress.budget_hit();
  return r;
}

/** The instances named by check's arguments: files, @FAMILY[:SEED], '-', or folders (every *.json
 * inside, sorted). */
std::vector<std::string> expand_instances(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    std::error_code ec;
    if (!a.empty() && a.front() != '@' && a != "-" && std::filesystem::is_directory(a, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(a, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".json")
          files.push_back(e.path().string());
      }
      if (ec) throw ntp::IoError("cannot read folder " + a + ": " + ec.message());
      if (files.empty()) {
        throw ntp::InvalidInput("invalid argument: folder " + a + " holds no *.json instance file");
      }
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(a);
    }
  }
  return out;
}

std::string short_num(double x) { return fmt("%.3g", x); }

void print_claims(const ntp::InstanceClaims& ic) {
  std::printf("instance %s (%s)\n", ic.instance.c_str(), ic.name.c_str());
  std::printf("  %-26s %-15s %-11s %-11s %s\n", "claim", "verdict", "measured", "bound",
              "reason / time");
  for (const auto& c : ic.claims) {
    std::printf("  %-26s %-15s %-11s %-11s %s\n", c.name.c_str(), ntp::to_string(c.verdict).c_str(),
                short_num(c.measured).c_str(), short_num(c.bound).c_str(),
                (c.reason.empty() ? fmt("%.2f s", c.seconds) : c.reason).c_str());
  }
}

int run_main(int argc, char** argv) {
  CLI::App app{
      "ntpcheck: checks, with evidence, the theory of gradient descent on next-token\n"
      "prediction (Thrampoulidis, NeurIPS 2024). FILE is an ntp-instance JSON file, '-' for\n"
      "standard input, or @FAMILY[:SEED] for a generated instance (e.g. @paper-main)."};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  bool json_out = false;
  bool quiet = false;

  // generate
  auto* gen = app.add_subcommand("generate", "Write a generated instance (ntp-instance JSON)");
  ntp::GeneratorOptions gopt;
  std::string gen_out = "-";
  std::string families;
  for (const auto& f : ntp::generator_families()) families += (families.empty() ? "" : ", ") + f;
  gen->add_option("family", gopt.family, "One of: " + families)->required();
  std::string seed_text = "1";
  gen->add_option("--seed", seed_text, "Random seed, an integer in [0, 2^64) (default 1)");
  gen->add_option("--vocab,-V", gopt.vocab_size, "Vocabulary size V");
  gen->add_option("--dim,-d", gopt.embedding_dim, "Embedding dimension d");
  gen->add_option("--contexts,-m", gopt.num_contexts, "Number of contexts m");
  gen->add_option("--support,-k", gopt.support_size, "Support size |S_j|");
  gen->add_option("--alpha", gopt.dirichlet_alpha, "Dirichlet concentration of the probabilities");
  gen->add_option("--corpus", gopt.corpus_path, "corpus: text file");
  gen->add_option("--level", gopt.corpus_level, "corpus: word or char tokens");
  gen->add_option("--context-length", gopt.context_length, "corpus: tokens per context");
  gen->add_option("--embedding", gopt.corpus_embedding, "corpus: gaussian or one-hot embeddings");
  gen->add_option("--max-contexts", gopt.max_contexts, "corpus: keep the most frequent contexts");
  gen->add_option("-o,--out", gen_out, "Output file (default: standard output)");

  // info
  auto* info = app.add_subcommand("info", "Summarize an instance: sizes, supports, H, L, rank");
  std::string info_file;
  info->add_option("file", info_file, "Instance (FILE, -, or @FAMILY[:SEED])")->required();
  info->add_flag("--json", json_out, "Machine-readable output");

  // train
  auto* tr = app.add_subcommand("train", "Run GD, normalized GD or Adam and record the trajectory");
  TrainArgs ta;
  tr->add_option("file", ta.file, "Instance (FILE, -, or @FAMILY[:SEED])")->required();
  tr->add_option("--optimizer", ta.optimizer, "gd, ngd or adam (default gd)");
  tr->add_option("--steps", ta.steps, "Iterations (default 1000)");
  tr->add_option(
      "--eta", ta.eta,
      "Step size, exact decimal or rational (default: 1/(2L) for gd, 0.01 for ngd/adam)");
  tr->add_option("--precision", ta.precision,
                 std::string("Arithmetic: ") + ntp::precision_names_help());
  tr->add_option("--out", ta.out, ".npz (step, W, ce, excess, norm, grad_norm, min_gap) or .json");
  tr->add_option("--init", ta.init, "Initial W0 as a .npy (V x d, float32/float64); default zero");
  tr->add_option("--points-per-decade", ta.points_per_decade, "Log-spaced record grid density");
  tr->add_option("--max-seconds", ta.max_seconds,
                 "Stop after this time with a partial, marked result");
  tr->add_flag("--json", json_out, "Machine-readable summary on standard output");
  tr->add_flag("--quiet", quiet, "No progress line on standard error");

  // run: the main job
  auto* run = app.add_subcommand("run", "The main job: instance summary and short GD/NGD runs");
  std::string run_file = "@paper-main";
  std::int64_t run_steps = 1000;
  run->add_option("file", run_file, "Instance (default @paper-main, generated from seed 1)");
  run->add_option("--steps", run_steps, "Iterations of each run (default 1000)");
  run->add_flag("--quiet", quiet, "No progress line on standard error");

  // analyze
  auto* an = app.add_subcommand(
      "analyze", "Decide (C) and (6) with certificates; certify W*, W^mm and bound (9)");
  std::string an_file;
  std::string an_certs;
  std::string an_precision = "double";
  double an_epsilon = 1e-6;
  an->add_option("file", an_file, "Instance (FILE, -, or @FAMILY[:SEED])")->required();
  an->add_flag("--json", json_out, "The stable JSON report on standard output (docs/formats.md)");
  an->add_option("--certificates", an_certs,
                 "Write every certificate to this JSON file (re-check with ntpcheck certify)");
  an->add_option("--precision", an_precision,
                 "Precision of the floating W* compared with its enclosure: double, long-double, "
                 "float128 or mpfr:N (default double)");
  an->add_option("--excess", an_epsilon,
                 "Report the R with CE(W* + R W^mm) - H <= this (default 1e-6)");

  // check
  auto* ck = app.add_subcommand(
      "check", "Decide the theory's claims (verdict, measured, bound, evidence) on instances");
  std::vector<std::string> ck_files;
  std::string ck_claims;
  double ck_budget = 10;
  std::string ck_precision = "double";
  std::int64_t ck_steps = 10000;
  std::string ck_junit;
  ck->add_option("files", ck_files, "Instances: FILE, -, @FAMILY[:SEED] or a folder of *.json")
      ->required();
  ck->add_option("--claims", ck_claims, "Comma-separated claim names (default: all)");
  ck->add_option("--budget", ck_budget, "Soft time budget per instance in seconds (default 10)");
  ck->add_option("--precision", ck_precision,
                 std::string("Arithmetic of the GD / NGD runs: ") + ntp::precision_names_help());
  ck->add_option("--steps", ck_steps, "GD and NGD iterations (default 10000)");
  ck->add_flag("--json", json_out, "Machine-readable output");
  ck->add_option("--junit", ck_junit, "Also write a JUnit XML report to this file");

  // reproduce
  auto* rp = app.add_subcommand(
      "reproduce", "The paper's experiments: GD, NGD, Adam curves as CSV and gnuplot pictures");
  std::string rp_target;
  std::string rp_out;
  std::string rp_seed = "1";
  std::int64_t rp_steps = 10000;
  bool rp_no_plots = false;
  rp->add_option("target", rp_target, "paper-main, paper-toy (generated) or an instance FILE")
      ->required();
  rp->add_option("--out", rp_out, "Output directory (created if missing)")->required();
  rp->add_option("--seed", rp_seed, "Seed of the generated paper instance (default 1)");
  rp->add_option("--steps", rp_steps, "Iterations of each optimizer (default 10000, the paper's)");
  rp->add_flag("--no-plots", rp_no_plots, "Write the CSV and gnuplot scripts only");

  // certify
  auto* ce = app.add_subcommand(
      "certify", "Re-verify a certificate file against an instance, without the solvers");
  std::string ce_cert;
  std::string ce_file;
  ce->add_option("certificates", ce_cert, "Certificate file written by analyze --certificates")
      ->required();
  ce->add_option("file", ce_file, "Instance (FILE, -, or @FAMILY[:SEED])")->required();
  ce->add_flag("--json", json_out, "Machine-readable result on standard output");

  // verify
  auto* vf = app.add_subcommand(
      "verify",
      "Check another implementation's weights (.npy) or trajectory (.npz) against the "
      "reference: point metrics, invariants, and a replay in double and in --truth");
  std::string vf_file, vf_weights, vf_traj, vf_init, vf_eta, vf_out;
  std::string vf_optimizer = "gd";
  std::string vf_truth = "dd";
  double vf_factor = ntp::VerifyOptions{}.factor;
  double vf_tolerance = ntp::VerifyOptions{}.tolerance;
  double vf_cap = ntp::VerifyOptions{}.max_allowed_relative;
  std::int64_t vf_steps_taken = -1;
  std::string vf_reported_loss;
  bool vf_no_refs = false;
  double vf_max_seconds = 0;
  vf->add_option("file", vf_file, "Instance (FILE, -, or @FAMILY[:SEED])")->required();
  vf->add_option("--weights", vf_weights, "Candidate W as .npy (V x d, float32/float64)");
  vf->add_option("--trajectory", vf_traj,
                 "Candidate trajectory .npz: step int [K], W float [K,V,d], optional loss [K]");
  vf->add_option("--optimizer", vf_optimizer, "What produced the candidate: gd, ngd, adam");
  vf->add_option("--eta", vf_eta,
                 "Step size of the candidate's optimizer (default as ntpcheck train)");
  vf->add_option("--init", vf_init, "W0 as .npy (default zero)");
  vf->add_option(
      "--truth", vf_truth,
      std::string("Precision of the truth replay (default dd): ") + ntp::precision_names_help());
  vf->add_option("--factor", vf_factor, "Room relative to the double replay's error (default 16)");
  vf->add_option("--tolerance", vf_tolerance,
                 "Allowed error per step in units of the candidate's unit roundoff (default 16)");
  vf->add_option("--max-relative-error", vf_cap,
                 "Cap of the allowance (default 1e-3): above it, within the allowance, a "
                 "checkpoint is inconclusive");
  vf->add_option("--steps-taken", vf_steps_taken, "--weights: steps that produced W, if known");
  vf->add_option("--reported-loss", vf_reported_loss, "--weights: the candidate's own CE at W");
  vf->add_flag("--no-reference-objects", vf_no_refs,
               "Skip W* and W^mm (certified, seconds on paper-main)");
  vf->add_option("--out", vf_out, "Also write the JSON report to this file");
  vf->add_option("--max-seconds", vf_max_seconds,
                 "Stop the replay after this time: later checkpoints are not compared (partial, "
                 "exit 2 unless a compared one failed)");
  vf->add_flag("--json", json_out,
               "The JSON report (docs/formats.md ntp-verify) on standard output");
  vf->add_flag("--quiet", quiet, "No progress line on standard error");

  // conformance
  auto* cf = app.add_subcommand(
      "conformance", "Run our implementations against the golden reference values (100 digits)");
  std::string cf_dir = "precision/golden";
  std::string cf_precision = "double";
  cf->add_option("dir", cf_dir, "Folder of ntp-golden *.json files (default precision/golden)");
  cf->add_option(
      "--precision", cf_precision,
      std::string("Arithmetic of the implementations tested: ") + ntp::precision_names_help());
  cf->add_flag("--json", json_out, "The JSON report (ntp-conformance) on standard output");

  // identify
  auto* idf = app.add_subcommand(
      "identify",
      "Distribution equivalence of two log-linear predictors, the recovered map, and "
      "which linear properties transfer (docs/identify.md)");
  std::string id_a, id_b, id_props, id_precision, id_tolerance;
  std::int64_t id_pivot = 0;
  idf->add_option("a", id_a, "Predictor A (ntp-predictor JSON)")->required();
  idf->add_option("b", id_b, "Predictor B (ntp-predictor JSON)")->required();
  idf->add_option("--property", id_props, "Properties to decide (ntp-properties JSON)");
  idf->add_option("--precision", id_precision,
                  std::string("exact, or a precision for the log-odds comparison: ") +
                      ntp::precision_names_help() +
                      " (default: exact when both files say \"exact\": true, else double)");
  idf->add_option("--pivot", id_pivot, "Pivot token y0 of the log-odds (default 0)");
  idf->add_option("--tolerance", id_tolerance,
                  "Stated absolute accuracy of the log-odds (default 0)");
  idf->add_flag("--json", json_out, "The JSON report (ntp-identify) on standard output");

  // sweep (issue 11; docs/sweep.md)
  auto* sw = app.add_subcommand(
      "sweep",
      "Run a task (conditions, analyze, check) on every point of a grid of generated instances: "
      "resumable shards, a merged table, the phase diagram; on MPI under mpirun (docs/sweep.md)");
  ntpcli::SweepArgs sa;
  bool sw_no_plots = false;
  sw->add_option("spec", sa.spec, "Sweep spec (ntp-sweep-spec JSON, docs/sweep.md)")->required();
  sw->add_option("--out", sa.out,
                 "Output directory (created if missing; a rerun resumes what it holds)")
      ->required();
  sw->add_option("--max-seconds", sa.max_seconds,
                 "Start no point after this time (partial, exit 2; rerun to resume)");
  sw->add_flag("--no-plots", sw_no_plots,
               "Conditions sweeps: write phase.csv/.json/.gp but do not run gnuplot");
  sw->add_flag("--json", json_out, "The JSON summary (ntp-sweep) on standard output");
  sw->add_flag("--quiet", quiet, "No progress line on standard error");

  // precision (issue 6; docs/precision.md)
  auto* pr = app.add_subcommand(
      "precision",
      "The precision ladder: the same run in several precisions, digits agreed with the top rung, "
      "horizons of theory.md §6 crossed (docs/precision.md)");
  ntpcli::PrecisionArgs pa;
  bool pr_no_plots = false;
  pr->add_option("file", pa.file, "Instance (FILE, -, or @FAMILY[:SEED]); not with --horizons");
  pr->add_option("--ladder", pa.ladder,
                 std::string("Comma-separated precisions (default ") + ntp::kDefaultLadder + ")");
  pr->add_option("--optimizer", pa.optimizer, "gd (default), ngd or adam");
  auto* pr_steps = pr->add_option("--steps", pa.steps, "Iterations (default 1000)");
  pr->add_option("--eta", pa.eta, "Step size, exact decimal or rational (default as in train)");
  pr->add_option("--out", pa.out, "Directory for ladder.json, digits.csv, digits.gp, pictures");
  pr->add_option("--min-digits", pa.min_digits,
                 "Digits agreed a rung needs to count as evidence (default 3)");
  pr->add_option("--max-seconds", pa.max_seconds,
                 "Stop the runs after this time (partial, exit 2; 0: no limit)");
  pr->add_option("--points-per-decade", pa.points_per_decade, "Record grid (default 10)");
  pr->add_flag("--check-top", pa.check_top,
               "Also run the top rung's recipe at 1.5x its digits and compare the top with it");
  pr->add_flag("--horizons", pa.horizons,
               "Print the measured horizon table of theory.md §6 (no FILE needed)");
  pr->add_flag("--no-plots", pr_no_plots, "Write digits.gp but do not run gnuplot");
  pr->add_flag("--json", json_out, "The JSON report (ntp-precision-ladder) on standard output");
  pr->add_flag("--quiet", quiet, "No progress line on standard error");

  // geometry (issue 9; docs/geometry.md)
  ntpcli::GeometryArgs ga;
  auto* geo = ntpcli::add_geometry_subcommand(app, ga);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ntpcheck: invalid arguments: %s\n", e.what());
    return static_cast<int>(ExitCode::kInvalidInput);
  }

  if (pr->parsed()) {
    pa.json = json_out;
    pa.quiet = quiet;
    pa.plots = !pr_no_plots;
    pa.steps_given = pr_steps->count() > 0;
    return ntpcli::run_precision(pa);
  }
  if (geo->parsed()) return ntpcli::run_geometry_command(ga);
  if (sw->parsed()) {
    sa.json = json_out;
    sa.quiet = quiet;
    sa.plots = !sw_no_plots;
    return ntpcli::run_sweep(sa);
  }
  if (gen->parsed()) {
    gopt.seed = ntp::parse_seed(seed_text, "--seed");
    const ntp::InstanceData data = ntp::generate(gopt);
    ntp::write_file_atomic(gen_out, ntp::instance_to_json(data).dump(1) + "\n");
    return 0;
  }
  if (info->parsed()) {
    const ntp::InstanceData data = ntp::load_instance(info_file);
    const ntp::InstanceSummary s = ntp::summarize(data);
    if (json_out) {
      std::printf("%s\n", summary_json(data, s).dump(2).c_str());
    } else {
      print_summary(data, s);
    }
    return 0;
  }
  if (tr->parsed()) {
    const ntp::InstanceData data = ntp::load_instance(ta.file);
    bool budget_hit = false;
    const ntp::TrainResult r = do_train(data, ta, quiet, &budget_hit);
    if (!ta.out.empty()) write_trajectory(ta.out, data, r);
    if (json_out) {
      std::printf("%s\n", train_json(data, r, false).dump(2).c_str());
    } else {
      std::printf("train %s, precision %s, eta %s, %lld steps%s\n",
                  ntp::optimizer_name(r.optimizer).c_str(), r.precision.name().c_str(),
                  ntp::rational_to_string(r.eta).c_str(), static_cast<long long>(r.steps_requested),
                  r.stopped_early ? " (PARTIAL: stopped by --max-seconds)" : "");
      std::printf("H = %s\n", r.entropy_text.c_str());
      print_trajectory(r, 40);
      if (r.diverged_at_step >= 0) {
        std::printf("DIVERGED: the loss or W is not finite at step %lld (try a smaller --eta)\n",
                    static_cast<long long>(r.diverged_at_step));
      }
      if (!ta.out.empty()) std::printf("trajectory written to %s\n", ta.out.c_str());
    }
    if (budget_hit) {
      std::fprintf(stderr,
                   "ntpcheck: stopped by --max-seconds at step %lld: the result is partial\n",
                   static_cast<long long>(r.step.empty() ? 0 : r.step.back()));
    }
    if (r.diverged_at_step >= 0) {
      std::fprintf(stderr, "ntpcheck: the run diverged: non-finite loss or W at step %lld\n",
                   static_cast<long long>(r.diverged_at_step));
    }
    return budget_hit || r.diverged_at_step >= 0 ? static_cast<int>(ExitCode::kInconclusive) : 0;
  }
  if (an->parsed()) {
    ntp::AnalyzeOptions opt;
    opt.precision = ntp::parse_precision(an_precision, "--precision");
    if (!(an_epsilon > 0) || !std::isfinite(an_epsilon)) {
      throw ntp::InvalidInput("invalid option: --excess must be finite and > 0, got " +
                              fmt("%g", an_epsilon));
    }
    opt.attainment.epsilon = an_epsilon;
    const ntp::InstanceData data = ntp::load_instance(an_file);
    const ntp::AnalyzeResult res = ntp::analyze(data, opt);
    if (!an_certs.empty()) {
      ntp::write_file_atomic(an_certs, ntp::certificates_to_json(res.certificates).dump(1) + "\n");
    }
    if (json_out) {
      std::printf("%s\n", res.report.dump(2).c_str());
    } else {
      std::printf("%s\n", ntp::format_analysis(res.report).c_str());
      if (!an_certs.empty()) std::printf("certificates written to %s\n", an_certs.c_str());
    }
    return static_cast<int>(res.exit);
  }
  if (ck->parsed()) {
    ntp::CheckOptions opt;
    opt.budget_seconds = ck_budget;
    opt.steps = ck_steps;
    opt.precision = ntp::parse_precision(ck_precision, "--precision");
    std::size_t pos = 0;
    while (!ck_claims.empty() && pos <= ck_claims.size()) {
      const std::size_t comma = ck_claims.find(',', pos);
      const std::string name =
          ck_claims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (!name.empty()) opt.claims.push_back(name);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (!ck_claims.empty() && opt.claims.empty()) {
      throw ntp::InvalidInput("invalid option: --claims lists no claim, got \"" + ck_claims + "\"");
    }
    std::vector<ntp::InstanceClaims> all;
    int exit_code = 0;
    json doc = json::array();
    for (const std::string& f : expand_instances(ck_files)) {
      const ntp::InstanceData data = ntp::load_instance(f);
      ntp::InstanceClaims ic{f, data.name, ntp::check_claims(data, opt)};
      const int code = static_cast<int>(ntp::claims_exit_code(ic.claims));
      // Severity: violated (1) over inconclusive (2) over all hold (0).
      if (code == 1 || (code == 2 && exit_code == 0)) exit_code = code;
      if (json_out) {
        json claims = json::array();
        for (const auto& c : ic.claims) claims.push_back(ntp::claim_to_json(c));
        doc.push_back({{"instance", f}, {"name", data.name}, {"claims", claims}});
      } else {
        print_claims(ic);
      }
      all.push_back(std::move(ic));
    }
    if (!ck_junit.empty()) ntp::write_file_atomic(ck_junit, ntp::claims_to_junit(all));
    if (json_out) {
      std::printf("%s\n", json({{"instances", doc}, {"exit", exit_code}}).dump(2).c_str());
    }
    return exit_code;
  }
  if (rp->parsed()) {
    ntp::InstanceData data;
    if (rp_target == "paper-main" || rp_target == "paper-toy") {
      ntp::GeneratorOptions g;
      g.family = rp_target;
      g.seed = ntp::parse_seed(rp_seed, "--seed");
      data = ntp::generate(g);
    } else {
      data = ntp::load_instance(rp_target);
    }
    ntp::ReproduceOptions o;
    o.steps = rp_steps;
    o.plots = !rp_no_plots;
    const ntp::ReproduceResult r = ntp::reproduce(data, rp_out, o);
    std::printf("reproduce %s: %zu files in %s; plots: %s\n", data.name.c_str(), r.files.size(),
                rp_out.c_str(), r.plot_status.c_str());
    for (const auto& f : r.files) std::printf("  %s\n", f.c_str());
    return 0;
  }
  if (ce->parsed()) {
    const ntp::CertificateBundle bundle = ntp::read_certificate_file(ce_cert);
    const ntp::InstanceData data = ntp::load_instance(ce_file);
    const std::vector<ntp::SectionCheck> checks = ntp::verify_certificates(data, bundle);
    bool all = !checks.empty();
    json out = json::array();
    for (const auto& c : checks) {
      all = all && c.verified;
      out.push_back({{"section", c.section},
                     {"claims", c.verdict},
                     {"verified", c.verified},
                     {"detail", c.detail},
                     {"seconds", c.seconds}});
    }
    if (json_out) {
      std::printf("%s\n", json({{"sections", out}, {"all_verified", all}}).dump(2).c_str());
    } else {
      for (const auto& c : checks) {
        std::printf("%-14s %-10s %s  %s (%.3f s)\n", c.section.c_str(), c.verdict.c_str(),
                    c.verified ? "VERIFIED" : "REJECTED", c.detail.c_str(), c.seconds);
      }
      if (checks.empty()) std::printf("the certificate file has no sections\n");
    }
    if (!all) {
      std::fprintf(stderr, "ntpcheck: certify: %s\n",
                   checks.empty() ? "no section to verify" : "a certificate was rejected");
    }
    return all ? 0 : static_cast<int>(ExitCode::kViolated);
  }
  if (vf->parsed()) {
    if (vf_weights.empty() == vf_traj.empty()) {
      throw ntp::InvalidInput(
          "invalid option: give exactly one of --weights and --trajectory, got " +
          std::string(vf_weights.empty() ? "neither" : "both"));
    }
    ntp::VerifyOptions vo;
    vo.truth = ntp::parse_precision(vf_truth, "--truth");
    vo.factor = vf_factor;
    vo.tolerance = vf_tolerance;
    vo.max_allowed_relative = vf_cap;
    vo.reference_objects = !vf_no_refs;
    ntp::OptimizerOptions opt;
    opt.kind = ntp::parse_optimizer(vf_optimizer);
    vo.gd_invariants = opt.kind != ntp::OptimizerKind::kAdam;
    if (!vf_reported_loss.empty()) {
      const auto q = ntp::parse_rational(vf_reported_loss);
      if (!q) {
        throw ntp::InvalidInput("invalid option: --reported-loss must be a number, got \"" +
                                vf_reported_loss + "\"");
      }
      vo.reported_loss = ntp::rational_to_double(*q);
    }
    if (vf_steps_taken < -1 || vf_steps_taken > ntp::kMaxVerifySteps) {
      throw ntp::InvalidInput("invalid option: --steps-taken must be in [0, " +
                              std::to_string(ntp::kMaxVerifySteps) + "], got " +
                              std::to_string(vf_steps_taken));
    }
    vo.steps_taken = vf_steps_taken;
    const ntp::InstanceData data = ntp::load_instance(vf_file);
    std::optional<Eigen::MatrixXd> W0;
    if (!vf_init.empty()) {
      W0 = ntp::read_candidate_weights(vf_init, data.vocab_size, data.embedding_dim).W;
    }
    ntp::VerifyResult res;
    if (!vf_weights.empty()) {
      const ntp::CandidateWeights cw =
          ntp::read_candidate_weights(vf_weights, data.vocab_size, data.embedding_dim);
      res = ntp::verify_weights(data, cw, W0 ? &*W0 : nullptr, vo);
    } else {
      if (!vf_eta.empty()) {
        auto q = ntp::parse_rational(vf_eta);
        if (!q || *q <= 0) {
          throw ntp::InvalidInput("invalid option: --eta must be a positive number, got \"" +
                                  vf_eta + "\"");
        }
        opt.eta = *q;
      } else {
        opt.eta = ntp::default_eta(opt.kind, ntp::summarize(data));
      }
      const ntp::CandidateTrajectory ct =
          ntp::read_candidate_trajectory(vf_traj, data.vocab_size, data.embedding_dim);
      vo.max_seconds = vf_max_seconds;
      Progress progress("verify replay", quiet, 0);
      res = ntp::verify_trajectory(data, ct, opt, W0 ? &*W0 : nullptr, vo,
                                   [&](std::int64_t k, std::int64_t n) { return progress(k, n); });
    }
    if (!vf_out.empty()) ntp::write_file_atomic(vf_out, res.report.dump(2) + "\n");
    if (res.report.value("partial", false)) {
      std::fprintf(stderr, "ntpcheck: replay stopped by --max-seconds: the result is partial\n");
    }
    if (json_out) {
      std::printf("%s\n", res.report.dump(2).c_str());
    } else {
      std::printf("%s\n", ntp::format_verify(res.report).c_str());
    }
    return static_cast<int>(res.exit);
  }
  if (cf->parsed()) {
    ntp::ConformanceOptions co;
    co.precision = ntp::parse_precision(cf_precision, "--precision");
    const ntp::ConformanceResult res = ntp::run_conformance(cf_dir, co);
    if (json_out) {
      std::printf("%s\n", res.report.dump(2).c_str());
    } else {
      std::printf("%s\n", ntp::format_conformance(res.report).c_str());
    }
    return static_cast<int>(res.exit);
  }
  if (idf->parsed()) {
    ntp::IdentifyOptions io;
    if (id_precision == "exact") {
      io.arithmetic = ntp::Arithmetic::kExact;
    } else if (!id_precision.empty()) {
      io.arithmetic = ntp::Arithmetic::kFloat;
      io.precision = ntp::parse_precision(id_precision, "--precision");
    }
    io.pivot = id_pivot;
    if (!id_tolerance.empty()) {
      const auto q = ntp::parse_rational(id_tolerance);
      if (!q || *q < 0) {
        throw ntp::InvalidInput("invalid option: --tolerance must be a number >= 0, got \"" +
                                id_tolerance + "\"");
      }
      io.tolerance = *q;
    }
    const ntp::Predictor a = ntp::read_predictor_file(id_a);
    const ntp::Predictor b = ntp::read_predictor_file(id_b);
    std::vector<ntp::Property> props;
    if (!id_props.empty()) props = ntp::read_property_file(id_props);
    const ntp::IdentifyResult res = ntp::identify(a, b, props, io);
    if (json_out) {
      std::printf("%s\n", res.report.dump(1).c_str());
    } else {
      std::printf("%s\n", ntp::format_identify(res.report).c_str());
    }
    return static_cast<int>(res.exit_code);
  }
  if (run->parsed()) {
    const ntp::InstanceData data = ntp::load_instance(run_file);
    const ntp::InstanceSummary s = ntp::summarize(data);
    print_summary(data, s);
    for (const char* o : {"gd", "ngd"}) {
      TrainArgs a;
      a.optimizer = o;
      a.steps = run_steps;
      bool budget_hit = false;
      const ntp::TrainResult r = do_train(data, a, quiet, &budget_hit);
      std::printf("\n%s in double, eta = %s, %lld steps (CE - H computed directly in KL form)\n",
                  std::string(o) == "gd" ? "gradient descent" : "normalized gradient descent",
                  fmt("%.6g", ntp::rational_to_double(r.eta)).c_str(),
                  static_cast<long long>(run_steps));
      print_trajectory(r, 12);
    }
    return 0;
  }
  return static_cast<int>(ExitCode::kInternalError);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const ntp::InvalidInput& e) {
    std::fprintf(stderr, "ntpcheck: %s\n", e.what());
    const auto& ps = e.problems();
    if (ps.size() > 1) {
      for (std::size_t i = 0; i < ps.size() && i < 20; ++i) {
        std::fprintf(stderr, "  %s %s\n", ps[i].path.c_str(), ps[i].message.c_str());
      }
      if (ps.size() > 20) std::fprintf(stderr, "  ... %zu more\n", ps.size() - 20);
    }
    return static_cast<int>(e.exit_code());
  } catch (const ntp::Error& e) {
    std::fprintf(stderr, "ntpcheck: %s\n", e.what());
    return static_cast<int>(e.exit_code());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "ntpcheck: internal error: out of memory\n");
    return static_cast<int>(ExitCode::kInternalError);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ntpcheck: internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::kInternalError);
  }
}
