#include "ntp/reproduce.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "ntp/atomic_file.hpp"
#include "ntp/compatibility.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/plot.hpp"
#include "ntp/separability.hpp"
#include "ntp/subspace.hpp"
#include "ntp/train.hpp"
#include "ntp/w_star.hpp"

namespace ntp {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/** "%.17g" (round-trips every double), "nan", "inf", "-inf". */
std::string num(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/** A double for JSON: null when not finite (JSON has no NaN). */
nlohmann::json jnum(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

/** cos(A, B) = <A, B>_F / (||A||_F ||B||_F), clamped to [-1, 1] against rounding; NaN when A or B
 * is zero (the direction is undefined). */
double cosine(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  const double na = a.norm();
  const double nb = b.norm();
  if (!(na > 0) || !(nb > 0)) return std::nan("");
  return std::clamp(a.cwiseProduct(b).sum() / (na * nb), -1.0, 1.0);
}

}  // namespace

std::string gp_quote(const std::string& s) {
  std::string r = "'";
  for (const char c : s) {
    if (c == '\'') {
      r += "''";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      r += ' ';
    } else {
      r += c;
    }
  }
  return r + "'";
}

namespace {

// ---------------------------------------------------------------------------------------------
// The certified objects.

struct Objects {
  CompatibilityVerdict compat = CompatibilityVerdict::kInconclusive;
  SeparabilityVerdict sep = SeparabilityVerdict::kInconclusive;
  std::optional<Eigen::MatrixXd> w_star;  ///< V x d, the enclosure midpoint in double
  std::string w_star_reason;              ///< why absent
  std::optional<Eigen::MatrixXd> w_mm;    ///< V x d, nearest doubles of the exact W^mm
  std::vector<Rational> w_mm_exact;       ///< row-major
  std::string w_mm_reason;                ///< why absent
  SubspaceBasis f;                        ///< the basis of F (double SVD), when have_f
  bool have_f = false;    ///< computed only when W* is (it serves ||P_F(W_k) - W*||)
  std::string pf_reason;  ///< why ||P_F(W_k) - W*|| is not computed
  nlohmann::json json;
};

/** W* is not attempted beyond this many (C) rows (as AnalyzeOptions::max_exact_rows). */
constexpr std::int64_t kMaxExactRows = 2000;

Objects certified_objects(const InstanceData& data) {
  Objects ob;
  const auto t0 = Clock::now();
  CompatibilityOptions copt;
  copt.compute_w_star = false;  // the certified enclosure below replaces the SVD companion
  const CompatibilityResult comp = check_compatibility(data, copt);
  ob.compat = comp.verdict;
  const double s_comp = seconds_since(t0);

  const auto t1 = Clock::now();
  nlohmann::json jw = {{"computed", false}};
  if (comp.verdict != CompatibilityVerdict::kHolds) {
    ob.w_star_reason = "compatibility (C) " + to_string(comp.verdict) +
                       (comp.reason.empty() ? "" : " (" + comp.reason + ")") +
                       (comp.verdict == CompatibilityVerdict::kViolated ? ": W* does not exist"
                                                                        : ": W* not computed");
  } else if (comp.num_equations > kMaxExactRows) {
    ob.w_star_reason = "W* not attempted: " + std::to_string(comp.num_equations) +
                       " (C) rows, beyond " + std::to_string(kMaxExactRows) +
                       " (the exact solve grows like rows^3)";
  } else {
    const WStarResult ws = enclose_w_star(data, comp.verdict, 200, comp.rank);
    if (ws.computed) {
      ob.w_star = ws.w_double;
      jw = {{"computed", true},      {"norm", ws.norm},
            {"norm_lo", ws.norm_lo}, {"norm_hi", ws.norm_hi},
            {"radius", ws.radius},   {"max_error_double", ws.max_error_double}};
    } else {
      ob.w_star_reason = "W* enclosure not computed: " + ws.reason;
    }
  }
  if (!ob.w_star) jw["reason"] = ob.w_star_reason;
  const double s_wstar = seconds_since(t1);

  const auto t2 = Clock::now();
  const SeparabilityResult sep = decide_separability(data);
  ob.sep = sep.verdict;
  const double s_sep = seconds_since(t2);

  const auto t3 = Clock::now();
  const MaxMarginResult mm = compute_w_mm(data, sep.verdict);
  nlohmann::json jm = {{"status", to_string(mm.status)}};
  if (mm.status == MaxMarginStatus::kProven) {
    ob.w_mm = mm.w_double;
    ob.w_mm_exact = mm.w;
    jm["norm"] = mm.norm;
    jm["margin"] = mm.margin;
    jm["active_set_size"] = mm.active_set_size;
  } else {
    ob.w_mm_reason =
        sep.verdict != SeparabilityVerdict::kHolds
            ? "separability (6) " + to_string(sep.verdict) +
                  (sep.reason.empty() ? "" : " (" + sep.reason + ")") +
                  (sep.verdict == SeparabilityVerdict::kViolated ? ": W^mm does not exist"
                                                                 : ": W^mm not computed")
            : "W^mm " + to_string(mm.status) + ": " + mm.reason;
    jm["reason"] = ob.w_mm_reason;
  }
  const double s_wmm = seconds_since(t3);

  // P_F is needed only for ||P_F(W_k) - W*||.
  const auto t4 = Clock::now();
  nlohmann::json jf = {{"dim", comp.rank}};
  if (!ob.w_star) {
    ob.pf_reason = ob.w_star_reason;
  } else {
    try {
      ob.f = subspace_basis(to_scalar<double>(data));
      ob.have_f = true;
      jf["numeric_rank"] = ob.f.rank;
      jf["rank_agrees"] = ob.f.rank == comp.rank;
    } catch (const InvalidInput& e) {
      ob.pf_reason = std::string("P_F not computed: ") + e.what();
      jf["reason"] = ob.pf_reason;
    }
  }
  const double s_f = seconds_since(t4);

  ob.json = {{"compatibility",
              {{"verdict", to_string(comp.verdict)}, {"certificate", to_string(comp.certificate)}}},
             {"separability", {{"verdict", to_string(sep.verdict)}}},
             {"subspace_f", jf},
             {"w_star", jw},
             {"w_mm", jm},
             {"seconds",
              {{"compatibility", s_comp},
               {"w_star", s_wstar},
               {"separability", s_sep},
               {"w_mm", s_wmm},
               {"subspace_f", s_f}}}};
  return ob;
}

// ---------------------------------------------------------------------------------------------
// Training and the curves.

struct Run {
  OptimizerKind kind = OptimizerKind::kGD;
  std::string label;  ///< for the plot keys
  TrainResult tr;
  std::vector<double> cos_w_wmm, cos_wminus_wstar_wmm, pf_distance;
  double seconds = 0;
};

Run run_one(const InstanceData& data, OptimizerKind kind, const ReproduceOptions& o,
            const Objects& ob) {
  Run r;
  r.kind = kind;
  OptimizerOptions opt;
  opt.kind = kind;
  opt.steps = o.steps;
  // [T App. A]: GD eta = 0.5; normalized GD and Adam eta = 0.01, Adam betas (0.9, 0.99).
  opt.eta = kind == OptimizerKind::kGD ? Rational(1, 2) : Rational(1, 100);
  opt.beta1 = Rational(9, 10);
  opt.beta2 = Rational(99, 100);
  opt.points_per_decade = o.points_per_decade;
  opt.record_weights = true;
  r.label = kind == OptimizerKind::kGD    ? "GD (η = 0.5)"
            : kind == OptimizerKind::kNGD ? "NGD (η = 0.01)"
                                          : "Adam (η = 0.01)";
  const auto t0 = Clock::now();
  r.tr = train(data, opt, PrecisionSpec{});
  r.seconds = seconds_since(t0);
  if (r.tr.weights.size() != r.tr.step.size()) {
    throw InternalError("reproduce: recorded weights of " + optimizer_name(kind) +
                        " do not match the recorded steps, got " +
                        std::to_string(r.tr.weights.size()) + " for " +
                        std::to_string(r.tr.step.size()));
  }
  const double nan = std::nan("");
  for (const Eigen::MatrixXd& w : r.tr.weights) {
    r.cos_w_wmm.push_back(ob.w_mm ? cosine(w, *ob.w_mm) : nan);
    r.cos_wminus_wstar_wmm.push_back(ob.w_mm && ob.w_star ? cosine(w - *ob.w_star, *ob.w_mm) : nan);
    r.pf_distance.push_back(ob.have_f ? (project_f(ob.f, w) - *ob.w_star).norm() : nan);
  }
  return r;
}

const char* const kCurvesHeader =
    "optimizer,step,ce,entropy,excess,norm,cos_w_wmm,cos_wminus_wstar_wmm,pf_distance\n";

std::string curves_csv(const std::vector<Run>& runs) {
  std::string s = kCurvesHeader;
  for (const Run& r : runs) {
    const std::string name = optimizer_name(r.kind);
    for (std::size_t i = 0; i < r.tr.step.size(); ++i) {
      s += name + ',' + std::to_string(r.tr.step[i]) + ',' + num(r.tr.ce[i]) + ',' +
           num(r.tr.entropy) + ',' + num(r.tr.excess[i]) + ',' + num(r.tr.norm[i]) + ',' +
           num(r.cos_w_wmm[i]) + ',' + num(r.cos_wminus_wstar_wmm[i]) + ',' +
           num(r.pf_distance[i]) + '\n';
    }
  }
  return s;
}

/** For every token: the contexts whose support contains it, ascending. */
std::vector<std::vector<std::int64_t>> support_patterns(const InstanceData& data) {
  std::vector<std::vector<std::int64_t>> pat(static_cast<std::size_t>(data.vocab_size));
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    for (const std::int32_t z : data.contexts[static_cast<std::size_t>(j)].tokens) {
      pat[static_cast<std::size_t>(z)].push_back(j);
    }
  }
  for (auto& p : pat) {
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
  }
  return pat;
}

std::string pattern_text(const std::vector<std::int64_t>& p) {
  if (p.empty()) return "-";
  std::string s;
  for (std::size_t i = 0; i < p.size(); ++i) s += (i ? ";" : "") + std::to_string(p[i]);
  return s;
}

/** Tokens grouped by support pattern (groups of two or more), with whether their rows of the
 * exact W^mm are equal (they must be: W^mm depends only on the supports and is unique). */
nlohmann::json pattern_groups(const InstanceData& data, const Objects& ob) {
  const auto pat = support_patterns(data);
  std::map<std::vector<std::int64_t>, std::vector<std::int64_t>> groups;
  for (std::int64_t z = 0; z < data.vocab_size; ++z) {
    groups[pat[static_cast<std::size_t>(z)]].push_back(z);
  }
  const std::int64_t d = data.embedding_dim;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [p, tokens] : groups) {
    if (tokens.size() < 2) continue;
    nlohmann::json g = {{"support_pattern", pattern_text(p)}, {"tokens", tokens}};
    if (!ob.w_mm_exact.empty()) {
      bool equal = true;
      for (std::size_t t = 1; t < tokens.size() && equal; ++t) {
        for (std::int64_t i = 0; i < d && equal; ++i) {
          equal = ob.w_mm_exact[static_cast<std::size_t>(tokens[0] * d + i)] ==
                  ob.w_mm_exact[static_cast<std::size_t>(tokens[t] * d + i)];
        }
      }
      g["w_mm_rows_equal"] = equal;
    }
    out.push_back(g);
  }
  return out;
}

std::string rows_csv(const InstanceData& data, const Objects& ob) {
  const auto pat = support_patterns(data);
  const double nan = std::nan("");
  std::string s = "token,support_pattern,wmm_1,wmm_2,wstar_1,wstar_2\n";
  for (std::int64_t z = 0; z < data.vocab_size; ++z) {
    s += std::to_string(z) + ',' + pattern_text(pat[static_cast<std::size_t>(z)]);
    for (const auto* w : {&ob.w_mm, &ob.w_star}) {
      for (Eigen::Index i = 0; i < 2; ++i) s += ',' + num(*w ? (**w)(z, i) : nan);
    }
    s += '\n';
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// gnuplot scripts.

const char* color_of(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kGD:
      return "#1f77b4";
    case OptimizerKind::kNGD:
      return "#d62728";
    case OptimizerKind::kAdam:
      return "#2ca02c";
  }
  return "#000000";
}

struct Figure {
  std::string name;  ///< file stem
  int width = 900;
  int height = 620;
  std::string body;  ///< commands drawing the picture on the current terminal
};

/** The preamble of every script: data format, helpers, the choice of the png terminal. */
std::string gp_preamble(const std::string& stem, const std::string& instance_label) {
  return "# " + stem + ".gp: generated by ntpcheck reproduce for " + gp_quote(instance_label) +
         ".\n"
         "# Run in this directory: gnuplot " +
         stem + ".gp  (writes " + stem + ".png when gnuplot has a png terminal, and " + stem +
         ".svg)\n"
         "if (!exists('out_prefix')) out_prefix = ''\n"
         "set encoding utf8\n"
         "set datafile separator ','\n"
         "set datafile columnheaders\n"
         "# the rows of optimizer o at steps k >= 1 (the x axis is logarithmic); finite values\n"
         "fin(v) = (v == v && abs(v) <= 1.7e308) ? v : NaN\n"
         "kx(o) = (strcol('optimizer') eq o && column('step') > 0) ? column('step') : NaN\n"
         "ky(o, c) = (strcol('optimizer') eq o && column('step') > 0) ? fin(column(c)) : NaN\n"
         "pos(v) = v > 0 ? v : NaN\n"
         "png_term = ''\n"
         "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) { png_term = 'pngcairo' } else "
         "{ if (strstrt(' '.GPVAL_TERMINALS.' ', ' png ') > 0) { png_term = 'png' } }\n"
         "print 'ntpcheck png terminal: '.png_term\n";
}

/** A complete script: the preamble, then the figure drawn once per output format. */
std::string gp_script(const Figure& fig, const std::string& instance_label,
                      const std::string& datablocks = "") {
  const std::string size = std::to_string(fig.width) + "," + std::to_string(fig.height);
  std::string s = gp_preamble(fig.name, instance_label) + datablocks;
  s += "fmts = (png_term ne '' ? 'png ' : '').'svg'\n";
  s += "do for [fmt in fmts] {\n";
  s += "  if (fmt eq 'png') { eval('set terminal '.png_term.' size " + size +
       " enhanced background rgb \"white\"') } else { set terminal svg size " + size +
       " enhanced font 'Sans,12' background rgb 'white' }\n";
  s += "  set output out_prefix.'" + fig.name + ".'.fmt\n";
  s += fig.body;
  s += "  set output\n}\n";
  return s;
}

/** State every curve panel sets explicitly (so panels are independent inside a multiplot). */
std::string panel_prelude(const std::string& title, const std::string& ylabel, bool log_y) {
  std::string s =
      "  unset logscale\n  unset label\n  unset arrow\n  set size noratio\n  set bmargin\n"
      "  set logscale x\n  set format x '10^{%T}'\n  set xrange [1:*]\n  set yrange [*:*]\n"
      "  set xlabel 'iteration k'\n  set grid\n  set key default\n  set key inside top left box "
      "opaque\n";
  s += "  set title " + gp_quote(title) + "\n  set ylabel " + gp_quote(ylabel) + "\n";
  s += log_y ? "  set logscale y\n  set format y '10^{%T}'\n" : "  set format y '%g'\n";
  return s;
}

std::string curve(const Run& r, const std::string& column, bool positive, const std::string& dash,
                  const std::string& title) {
  const std::string o = optimizer_name(r.kind);
  std::string y = "ky('" + o + "', '" + column + "')";
  if (positive) y = "pos(" + y + ")";
  return "'curves.csv' using (kx('" + o + "')):(" + y + ") with lines lw 2 dt " + dash +
         " lc rgb '" + color_of(r.kind) + "' " +
         (title.empty() ? "notitle" : "title " + gp_quote(title));
}

std::string plot_of(const std::vector<std::string>& curves) {
  std::string s = "  plot ";
  for (std::size_t i = 0; i < curves.size(); ++i) s += (i ? ", \\\n       " : "") + curves[i];
  return s + "\n";
}

std::string panel_excess(const std::vector<Run>& runs, double entropy) {
  std::vector<std::string> c;
  for (const Run& r : runs) c.push_back(curve(r, "excess", true, "1", r.label));
  // Decreasing curves start high: the lower left corner is free.
  return panel_prelude("CE(W_k) - H (H = " + num(entropy) + ")", "CE(W_k) - H", true) +
         "  set key inside bottom left\n" + plot_of(c);
}

std::string panel_ce(const std::vector<Run>& runs, double entropy) {
  std::vector<std::string> c;
  double top = entropy;
  for (const Run& r : runs) {
    c.push_back(curve(r, "ce", false, "1", r.label));
    for (const double v : r.tr.ce) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
  }
  c.push_back(num(entropy) + " with lines lw 2 dt 2 lc rgb 'black' title 'H'");
  // The curves fall from near log V onto the line H (CE >= H); the key goes in a band below H.
  const double band = top > entropy ? 0.35 * (top - entropy) : 1.0;
  return panel_prelude("CE(W_k) approaching the entropy H", "CE(W_k)", false) + "  set yrange [" +
         num(entropy - band) + ":*]\n  set key inside bottom left\n" + plot_of(c);
}

std::string panel_norm(const std::vector<Run>& runs) {
  std::vector<std::string> c;
  for (const Run& r : runs) c.push_back(curve(r, "norm", false, "1", r.label));
  return panel_prelude("||W_k||", "||W_k||_F", false) + plot_of(c);
}

/** `with_w_star`: also cos(W_k - W*, W^mm) (dashed). */
std::string panel_cosine(const std::vector<Run>& runs, bool with_w_star) {
  // Colour = optimizer, dash = which cosine; the key lists each once, below the plot.
  std::vector<std::string> c;
  for (const Run& r : runs) {
    c.push_back(curve(r, "cos_w_wmm", false, "1", r.label));
    if (with_w_star) c.push_back(curve(r, "cos_wminus_wstar_wmm", false, "2", ""));
  }
  c.emplace_back("NaN with lines lw 2 dt 1 lc rgb 'black' title 'cos(W_k, W^{mm})'");
  if (with_w_star) {
    c.emplace_back("NaN with lines lw 2 dt 2 lc rgb 'black' title 'cos(W_k - W^*, W^{mm})'");
  }
  return panel_prelude(
             with_w_star ? "cos(W_k, W^{mm}) and cos(W_k - W^*, W^{mm})" : "cos(W_k, W^{mm})",
             "cosine", false) +
         "  set yrange [*:1.05]\n  set key below maxrows 2\n  set bmargin 7\n" + plot_of(c);
}

/** `beside_cosine`: in the figure row of panel_cosine, whose bottom margin it copies (aligned
 * axes). */
std::string panel_pf(const std::vector<Run>& runs, bool beside_cosine) {
  std::vector<std::string> c;
  for (const Run& r : runs) c.push_back(curve(r, "pf_distance", true, "1", r.label));
  return panel_prelude("||P_F(W_k) - W^*||", "||P_F(W_k) - W^*||_F", true) +
         "  set key inside bottom left\n" + (beside_cosine ? "  set bmargin 7\n" : "") + plot_of(c);
}

/** Half-width of a square window centred on the origin that holds every point with room for
 * the labels. */
double half_width(const Eigen::MatrixXd& points) {
  const double r = points.cwiseAbs().maxCoeff();
  return std::isfinite(r) && r > 0 ? 1.3 * r : 1.0;
}

/** The d = 2 picture: embeddings h_j, rows of W^mm, rows of W* as arrows from the origin. */
std::string rows_datablocks(const InstanceData& data, const Objects& ob) {
  std::string s = "$H << EOD\nx,y,label\n";
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    const auto& h = data.contexts[static_cast<std::size_t>(j)].embedding;
    s += num(rational_to_double(h[0])) + ',' + num(rational_to_double(h[1])) + ",h_" +
         std::to_string(j) + '\n';
  }
  s += "EOD\n";
  // One label per distinct row, naming every token with that row (equal rows overlap).
  const auto labels = [&](const std::string& block, const Eigen::MatrixXd& w) {
    std::vector<std::pair<std::pair<double, double>, std::string>> l;
    for (std::int64_t z = 0; z < data.vocab_size; ++z) {
      const std::pair<double, double> xy{w(z, 0), w(z, 1)};
      auto it = std::find_if(l.begin(), l.end(), [&](const auto& e) { return e.first == xy; });
      if (it == l.end()) {
        l.emplace_back(xy, "z=" + std::to_string(z));
      } else {
        it->second += " and " + std::to_string(z);
      }
    }
    // Labels at the arrow tips; one that would overprint an earlier one moves down a line.
    const double r = half_width(w);
    std::vector<std::pair<double, double>> placed;
    std::string b = "$" + block + " << EOD\nx,y,label\n";
    for (const auto& [xy, text] : l) {
      auto [x, y] = xy;
      const auto near = [&](const auto& p) {
        return std::abs(p.first - x) < 0.3 * r && std::abs(p.second - y) < 0.07 * r;
      };
      while (std::any_of(placed.begin(), placed.end(), near)) y -= 0.08 * r;
      placed.emplace_back(x, y);
      b += num(x) + ',' + num(y) + ',' + text + '\n';
    }
    return b + "EOD\n";
  };
  if (ob.w_mm) s += labels("WMM", *ob.w_mm);
  if (ob.w_star) s += labels("WSTAR", *ob.w_star);
  return s;
}

/** State every d = 2 panel sets: a square window [-r, r]^2 (equal scales, origin centred). */
std::string rows_prelude(const std::string& title, double r) {
  const std::string range = "[" + num(-r) + ":" + num(r) + "]";
  return "  unset logscale\n  unset label\n  unset arrow\n  set bmargin\n  set grid\n"
         "  set size square\n"
         "  set xrange " +
         range + "\n  set yrange " + range +
         "\n  set offsets 0, 0, 0, 0\n"
         "  set format x '%g'\n  set format y '%g'\n  set xlabel 'coordinate 1'\n"
         "  set ylabel 'coordinate 2'\n  set key off\n  set title " +
         gp_quote(title) + "\n";
}

std::string rows_panel(const std::string& title, double r, const std::string& column_prefix,
                       const std::string& label_block) {
  return rows_prelude(title, r) + "  plot 'rows.csv' using (0):(0):(column('" + column_prefix +
         "_1')):(column('" + column_prefix +
         "_2')):(column('token') + 1) with vectors head filled lw 2 lc variable, \\\n"
         "       $" +
         label_block + " using 'x':'y':'label' with labels offset char 0.5, char 0.8 left\n";
}

std::string rows_body(const InstanceData& data, const Objects& ob) {
  const int panels = 1 + (ob.w_mm ? 1 : 0) + (ob.w_star ? 1 : 0);
  Eigen::MatrixXd h(data.num_contexts(), 2);
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    for (Eigen::Index i = 0; i < 2; ++i) {
      h(j, i) = rational_to_double(data.contexts[static_cast<std::size_t>(j)].embedding[i]);
    }
  }
  std::string s = "  set multiplot layout 1," + std::to_string(panels) + "\n";
  s += rows_prelude("context embeddings h_j", half_width(h)) +
       "  plot $H using (0):(0):'x':'y' with vectors head filled lw 2 lc rgb '#555555', \\\n"
       "       $H using 'x':'y':'label' with labels offset char 0.5, char 0.8 left\n";
  if (ob.w_mm) s += rows_panel("rows of W^{mm} (token z)", half_width(*ob.w_mm), "wmm", "WMM");
  if (ob.w_star) {
    s += rows_panel("rows of W^* (token z)", half_width(*ob.w_star), "wstar", "WSTAR");
  }
  return s + "  unset multiplot\n";
}

// ---------------------------------------------------------------------------------------------
// Running gnuplot.

}  // namespace

std::optional<std::string> find_executable(const std::string& name) {
  const auto usable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  const auto absolute = [](const fs::path& p) {
    std::error_code ec;
    const fs::path a = fs::absolute(p, ec);
    return ec ? p.string() : a.string();
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (usable(name)) return absolute(name);
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  const std::string path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (usable(candidate)) return absolute(candidate);
    start = end + 1;
  }
  return std::nullopt;
}

namespace {

struct ProcessResult {
  std::string spawn_error;  ///< non-empty: the process did not start
  bool timed_out = false;
  int exit_code = -1;  ///< exit status, or -1 (killed by a signal: see signal)
  int signal = 0;
  std::string output;  ///< standard output and error, at most kMaxOutput bytes
};

/** Runs exe with args in directory cwd (posix_spawn: no shell), stdin from /dev/null, stdout and
 * stderr captured; killed after timeout_seconds. */
ProcessResult run_process(const std::string& exe, const std::vector<std::string>& args,
                          const std::string& cwd, double timeout_seconds) {
  constexpr std::size_t kMaxOutput = 1 << 16;
  ProcessResult res;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    res.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return res;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<std::string> argv_s;
  argv_s.push_back(exe);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    res.spawn_error = std::strerror(rc);
    return res;
  }
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_seconds);
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) break;
    if (pr == 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the child closed its output (exited)
    if (res.output.size() < kMaxOutput) {
      res.output.append(buf, std::min(static_cast<std::size_t>(n), kMaxOutput - res.output.size()));
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      res.spawn_error = std::string("waitpid: ") + std::strerror(errno);
      return res;
    }
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  return res;
}

/** The last non-empty line of a text that is not our own terminal report. */
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.rfind("ntpcheck png terminal:", 0) == 0) continue;
    last = line;
  }
  return last;
}

std::string read_file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

PlotOutcome make_plots(const std::string& exe, const fs::path& dir,
                       const std::vector<std::string>& stems) {
  PlotOutcome out;
  const auto t0 = Clock::now();
  const std::string prefix = ".ntpcheck-plot." + std::to_string(::getpid()) + ".";
  bool svg_only = false;
  for (const std::string& stem : stems) {
    const ProcessResult pr = run_process(
        exe, {"-d", "-e", "out_prefix='" + prefix + "'", stem + ".gp"}, dir.string(), 300.0);
    const auto cleanup = [&] {
      std::error_code ec;
      for (const char* ext : {".png", ".svg"}) fs::remove(dir / (prefix + stem + ext), ec);
    };
    if (!pr.spawn_error.empty()) {
      cleanup();
      out.status = "failed: cannot run " + exe + " (" + pr.spawn_error + ")";
      break;
    }
    if (pr.timed_out || pr.exit_code != 0) {
      cleanup();
      const std::string why = pr.timed_out ? "timed out after 300 s"
                              : pr.signal != 0
                                  ? "killed by signal " + std::to_string(pr.signal)
                                  : "exited with status " + std::to_string(pr.exit_code);
      const std::string line = last_line(pr.output);
      out.status =
          "failed: gnuplot " + why + " on " + stem + ".gp" + (line.empty() ? "" : ": " + line);
      break;
    }
    const std::string tag = "ntpcheck png terminal: ";
    const auto at = pr.output.find(tag);
    if (at != std::string::npos) {
      const auto eol = pr.output.find('\n', at);
      out.png_terminal = pr.output.substr(
          at + tag.size(), eol == std::string::npos ? std::string::npos : eol - at - tag.size());
    }
    bool have_svg = false;
    for (const char* ext : {".png", ".svg"}) {
      const fs::path tmp = dir / (prefix + stem + ext);
      std::error_code ec;
      if (!fs::is_regular_file(tmp, ec)) continue;
      write_file_atomic((dir / (stem + ext)).string(), read_file_bytes(tmp));
      fs::remove(tmp, ec);
      out.files.push_back(stem + ext);
      if (std::string(ext) == ".svg") have_svg = true;
    }
    if (!have_svg) {
      cleanup();
      out.status = "failed: gnuplot wrote no " + stem + ".svg";
      break;
    }
    if (out.png_terminal.empty()) svg_only = true;
  }
  if (out.status.empty()) {
    out.status = svg_only ? "ok, svg only: gnuplot has no pngcairo or png terminal" : "ok";
  }
  out.seconds = seconds_since(t0);
  return out;
}

// ---------------------------------------------------------------------------------------------

fs::path prepare_directory(const std::string& out_dir) {
  if (out_dir.empty() || out_dir == "-") {
    throw InvalidInput("invalid option: --out must name a directory, got '" + out_dir + "'");
  }
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw IoError("output directory " + out_dir + ": cannot be created, got " + ec.message());
  }
  if (!fs::is_directory(dir, ec)) {
    throw IoError("output directory " + out_dir + ": not a directory, got " +
                  (ec ? ec.message() : std::string("another kind of file")));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw IoError("output directory " + out_dir + ": not writable, got " + std::strerror(errno));
  }
  return dir;
}

namespace {

std::string instance_label(const InstanceData& data) {
  std::string s = data.name.empty() ? std::string("instance") : data.name;
  if (data.extra.is_object() && data.extra.contains("seed") && data.extra["seed"].is_number()) {
    s += " (seed " + data.extra["seed"].dump() + ")";
  }
  return s;
}

nlohmann::json run_json(const Run& r) {
  const auto& t = r.tr;
  const auto at = [&](std::size_t i) {
    return nlohmann::json{{"step", t.step[i]},
                          {"ce", jnum(t.ce[i])},
                          {"excess", jnum(t.excess[i])},
                          {"norm", jnum(t.norm[i])},
                          {"cos_w_wmm", jnum(r.cos_w_wmm[i])},
                          {"cos_wminus_wstar_wmm", jnum(r.cos_wminus_wstar_wmm[i])},
                          {"pf_distance", jnum(r.pf_distance[i])},
                          {"min_gap", jnum(t.min_gap[i])}};
  };
  nlohmann::json j = {{"optimizer", optimizer_name(r.kind)},
                      {"eta", rational_to_string(t.eta)},
                      {"steps", t.steps_requested},
                      {"recorded", t.step.size()},
                      {"diverged_at_step", t.diverged_at_step},
                      {"stopped_early", t.stopped_early},
                      {"seconds", r.seconds}};
  if (r.kind == OptimizerKind::kAdam) j["betas"] = {0.9, 0.99};
  if (!t.step.empty()) {
    // step 1 (the first step on the log axis) and the last one
    j["first"] = at(t.step.size() > 1 ? 1 : 0);
    j["final"] = at(t.step.size() - 1);
  }
  return j;
}

}  // namespace

ReproduceResult reproduce(const InstanceData& data, const std::string& out_dir,
                          const ReproduceOptions& o) {
  const auto t_start = Clock::now();
  if (o.steps < 1) {
    throw InvalidInput("invalid option: --steps must be at least 1, got " +
                       std::to_string(o.steps));
  }
  if (o.points_per_decade < 1) {
    throw InvalidInput("invalid option: --points-per-decade must be at least 1, got " +
                       std::to_string(o.points_per_decade));
  }
  const fs::path dir = prepare_directory(out_dir);
  ReproduceResult res;
  const auto write = [&](const std::string& name, const std::string& bytes) {
    write_file_atomic((dir / name).string(), bytes);
    res.files.push_back(name);
  };

  const Objects ob = certified_objects(data);
  std::vector<Run> runs;
  for (const OptimizerKind k : {OptimizerKind::kGD, OptimizerKind::kNGD, OptimizerKind::kAdam}) {
    runs.push_back(run_one(data, k, o, ob));
  }
  const double entropy = runs.front().tr.entropy;
  const std::string label = instance_label(data);
  const bool two_d = data.embedding_dim == 2;

  // What cannot be drawn, and why.
  nlohmann::json omitted = nlohmann::json::array();
  if (!ob.w_mm) {
    omitted.push_back({{"curve", "cos_w_wmm"}, {"reason", ob.w_mm_reason}});
    omitted.push_back({{"curve", "cos_wminus_wstar_wmm"}, {"reason", ob.w_mm_reason}});
  } else if (!ob.w_star) {
    omitted.push_back({{"curve", "cos_wminus_wstar_wmm"}, {"reason", ob.w_star_reason}});
  }
  if (!ob.have_f) omitted.push_back({{"curve", "pf_distance"}, {"reason", ob.pf_reason}});

  write("curves.csv", curves_csv(runs));
  if (two_d) write("rows.csv", rows_csv(data, ob));

  // The scripts.
  std::vector<Figure> figs;
  figs.push_back({"loss", 1400, 560,
                  "  set multiplot layout 1,2 title " + gp_quote(label) + " noenhanced\n" +
                      panel_ce(runs, entropy) + panel_excess(runs, entropy) +
                      "  unset multiplot\n"});
  figs.push_back({"norm", 900, 620, panel_norm(runs)});
  if (ob.w_mm) figs.push_back({"cosine", 900, 620, panel_cosine(runs, ob.w_star.has_value())});
  if (ob.have_f) figs.push_back({"pf_distance", 900, 620, panel_pf(runs, false)});
  {
    const int panels = 2 + (ob.w_mm ? 1 : 0) + (ob.w_star ? 1 : 0);
    std::string body = "  set multiplot layout " + std::string(panels > 2 ? "2,2" : "1,2") +
                       " title " + gp_quote(label) + " noenhanced\n" + panel_excess(runs, entropy) +
                       panel_norm(runs);
    if (ob.w_mm) body += panel_cosine(runs, ob.w_star.has_value());
    if (ob.have_f) body += panel_pf(runs, ob.w_mm.has_value());
    body += "  unset multiplot\n";
    figs.push_back({"panels", 1500, panels > 2 ? 1100 : 560, body});
  }
  if (two_d) figs.push_back({"rows", 1500, 560, rows_body(data, ob)});
  std::vector<std::string> stems;
  for (const Figure& f : figs) {
    write(f.name + ".gp", gp_script(f, label, f.name == "rows" ? rows_datablocks(data, ob) : ""));
    stems.push_back(f.name);
  }

  // The pictures.
  PlotOutcome plots;
  if (!o.plots) {
    plots.status = "skipped: plots disabled";
  } else if (const auto exe = find_executable(o.gnuplot); !exe) {
    plots.status = "skipped: gnuplot not found ('" + o.gnuplot + "' is not an executable" +
                   (o.gnuplot.find('/') == std::string::npos ? " on PATH" : "") + ")";
  } else {
    plots = make_plots(*exe, dir, stems);
    for (const auto& f : plots.files) res.files.push_back(f);
  }
  res.plot_status = plots.status;

  // The summary.
  const InstanceSummary is = summarize(data);
  nlohmann::json s;
  s["format"] = "ntp-reproduce";
  s["version"] = 1;
  s["instance"] = {{"name", data.name},
                   {"label", label},
                   {"V", data.vocab_size},
                   {"d", data.embedding_dim},
                   {"m", data.num_contexts()},
                   {"entropy", entropy},
                   {"smoothness_L", is.smoothness_L},
                   {"gd_eta_theorem", default_gd_eta(is)},
                   {"provenance", data.extra}};
  s["steps"] = o.steps;
  s["points_per_decade"] = o.points_per_decade;
  s["precision"] = "double";
  for (const auto& [k, v] : ob.json.items()) {
    if (k != "seconds") s[k] = v;
  }
  // [T App. A] runs GD with eta = 0.5; the theorem's setting is eta <= 1/(2L) (theory.md §4).
  s["gd_eta_within_theorem"] = 0.5 <= default_gd_eta(is);
  s["optimizers"] = nlohmann::json::array();
  for (const Run& r : runs) s["optimizers"].push_back(run_json(r));
  s["omitted_curves"] = omitted;
  s["support_pattern_groups"] = pattern_groups(data, ob);
  s["plot_status"] = plots.status;
  if (!plots.png_terminal.empty()) s["png_terminal"] = plots.png_terminal;
  nlohmann::json secs = ob.json["seconds"];
  for (const Run& r : runs) secs["train_" + optimizer_name(r.kind)] = r.seconds;
  secs["plots"] = plots.seconds;
  secs["total"] = seconds_since(t_start);
  s["seconds"] = secs;
  std::vector<std::string> files = res.files;
  files.emplace_back("summary.json");
  s["files"] = files;
  res.summary = s;
  write("summary.json", s.dump(2) + "\n");
  return res;
}

}  // namespace ntp
