#pragma once
/** @file reproduce.hpp
 * `ntpcheck reproduce`: the experiments of the paper [T App. A] (theory.md §5) on one instance,
 * as data files, gnuplot scripts and pictures.
 *
 * For the instance it computes the certified objects W* (enclosure midpoint, w_star.hpp) and W^mm
 * (exact, max_margin.hpp) and the subspace F (subspace.hpp), runs GD (eta = 1/2), normalized GD
 * (eta = 1/100) and Adam (eta = 1/100, betas 0.9, 0.99) in double for `steps` iterations from
 * W_0 = 0 with W_k recorded on the log-spaced grid of optimize.hpp, and writes into the output
 * directory (each file atomically, atomic_file.hpp):
 *
 *  - curves.csv: one row per optimizer and recorded step k, columns
 *      optimizer, step, ce, entropy, excess, norm, cos_w_wmm, cos_wminus_wstar_wmm, pf_distance
 *    = the optimizer's name, k, CE(W_k), H, CE(W_k) - H (the KL form, TrainResult::excess),
 *    ||W_k||_F, cos(W_k, W^mm), cos(W_k - W*, W^mm), ||P_F(W_k) - W*||_F [T Thm 2], each "%.17g".
 *    cos(A, B) = <A, B> / (||A|| ||B||) (Frobenius), "nan" when A = 0 (e.g. W_0 = 0). The W^mm
 *    columns are "nan" when W^mm does not exist or is not proved (separability (6) not proved), the
 *    W* columns when W* is not enclosed (compatibility (C) not proved, or more than 2000 (C) rows,
 *    the limit of `analyze`); the summary says why ("omitted_curves").
 *  - rows.csv (only when d = 2, e.g. paper-toy): one row per token z, columns
 *      token, support_pattern, wmm_1, wmm_2, wstar_1, wstar_2
 *    = z, the contexts whose support contains z ("0;1": z is in S_0 and S_1; "-": in none), the row
 *    z of W^mm and of W* (the paper's toy picture; tokens with the same support pattern have equal
 *    rows of W^mm, which depends only on the supports).
 *  - loss.gp, norm.gp, cosine.gp, pf_distance.gp (the paper's four panels: CE and H with CE - H on
 *    a log scale, ||W_k||, cos(W_k, W^mm) and cos(W_k - W*, W^mm), ||P_F(W_k) - W*||, each with the
 *    three optimizers against the iteration on a log scale), panels.gp (all four in one figure),
 *    and rows.gp when d = 2 (rows of W^mm and W* as arrows from the origin, and the embeddings
 *    h_j). Each script, run in the directory (`gnuplot loss.gp`), writes <name>.png (pngcairo, else
 *    png; skipped when gnuplot has neither) and <name>.svg. Panels that need an object that was not
 *    computed are left out.
 *  - summary.json: the "ntp-reproduce" summary (also returned): verdicts, the objects' norms, the
 *    final values per optimizer, omitted curves with the reason, files, plot status, timings.
 *
 * When ReproduceOptions::plots is set and the gnuplot executable is found (PATH search, or the
 * given path), the scripts are run with it (posix_spawn, no shell; working directory = the output
 * directory; standard input /dev/null; output captured) and the pictures written atomically; a
 * missing or failing gnuplot is reported in ReproduceResult::plot_status, never thrown.
 */
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/instance.hpp"

namespace ntp {

struct ReproduceOptions {
  std::int64_t steps = 10000;  ///< iterations of each optimizer (the paper's 10^4), >= 1
  int points_per_decade = 20;  ///< record grid density (optimize.hpp log_grid), >= 1
  /** The gnuplot executable: a name searched on PATH, or a path (contains '/'). */
  std::string gnuplot = "gnuplot";
  bool plots = true;  ///< run gnuplot on the scripts (they are written either way)
};

struct ReproduceResult {
  /** The files written, relative to the output directory, in the order written. */
  std::vector<std::string> files;
  /** "ok" when every picture was made; otherwise why plots were skipped or incomplete
   * ("skipped: ...", "failed: ...", "ok, svg only: ..."). */
  std::string plot_status;
  nlohmann::json summary;  ///< the "ntp-reproduce" summary, as written to summary.json
};

/**
 * Reproduces the paper's experiments on `data` into `out_dir` (created, with its parents, when
 * missing); see the file comment for what is written. Throws InvalidInput for bad options (steps or
 * points_per_decade < 1, an empty out_dir) and IoError naming the path when the directory cannot be
 * created or written. Findings (a condition that fails, a diverging run) go to the summary.
 */
ReproduceResult reproduce(const InstanceData& data, const std::string& out_dir,
                          const ReproduceOptions& o = {});

}  // namespace ntp
