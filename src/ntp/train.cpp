#include "ntp/train.hpp"

#include <algorithm>
#include <cmath>

#include "ntp/resources.hpp"

namespace ntp {

std::string optimizer_name(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kGD:
      return "gd";
    case OptimizerKind::kNGD:
      return "ngd";
    case OptimizerKind::kAdam:
      return "adam";
  }
  return "?";
}

OptimizerKind parse_optimizer(const std::string& text) {
  if (text == "gd") return OptimizerKind::kGD;
  if (text == "ngd") return OptimizerKind::kNGD;
  if (text == "adam") return OptimizerKind::kAdam;
  throw InvalidInput("invalid option: --optimizer must be gd, ngd or adam, got \"" + text + "\"");
}

std::vector<std::int64_t> log_grid(std::int64_t steps, int points_per_decade,
                                   const std::vector<std::int64_t>& extra) {
  std::vector<std::int64_t> g;
  for (std::int64_t k = 0; k <= std::min<std::int64_t>(10, steps); ++k) g.push_back(k);
  if (points_per_decade > 0) {
    // 10^(i/ppd) computed from integers: round(10^(i/ppd)) via pow is deterministic enough for
    // a grid (any monotone choice is valid); duplicates are removed below.
    for (int i = points_per_decade;; ++i) {
      const double x = std::pow(10.0, static_cast<double>(i) / points_per_decade);
      const auto k = static_cast<std::int64_t>(std::llround(x));
      if (k > steps) break;
      g.push_back(k);
    }
  }
  for (auto k : extra) {
    if (k >= 0 && k <= steps) g.push_back(k);
  }
  g.push_back(steps);
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
  return g;
}

Rational default_eta(OptimizerKind kind, const InstanceSummary& summary) {
  if (kind == OptimizerKind::kGD) return rational_from_double(default_gd_eta(summary));
  return Rational(1, 100);  // the paper's NGD and Adam step (theory.md §5)
}

TrainResult train(const InstanceData& data, const OptimizerOptions& opt,
                  const PrecisionSpec& precision, const Eigen::MatrixXd* W0,
                  const ProgressFn& progress) {
  if (opt.steps < 0) {
    throw InvalidInput("invalid option: --steps must be non-negative, got " +
                       std::to_string(opt.steps));
  }
  {
    // Refuse up front what would not fit (issue 8): the instance in S, W, its gradient, W0 and
    // Adam's moments, the logits workspace, and every recorded W (in S and as doubles).
    const auto K = static_cast<std::uint64_t>(
        log_grid(opt.steps, opt.points_per_decade, opt.extra_record_steps).size());
    const auto V = static_cast<std::uint64_t>(data.vocab_size);
    const auto d = static_cast<std::uint64_t>(data.embedding_dim);
    const auto m = static_cast<std::uint64_t>(data.num_contexts());
    const auto nnz = static_cast<std::uint64_t>(data.support_nnz());
    const std::uint64_t kept = opt.record_weights ? K : 0;
    const std::uint64_t scalars = d * m + 3 * nnz + 2 * m + (5 + kept) * V * d + 2 * V * m;
    check_memory(scalars * bytes_per_scalar(precision) + 8 * kept * V * d,
                 "train in " + precision.name() + " (V=" + std::to_string(V) +
                     ", d=" + std::to_string(d) + ", m=" + std::to_string(m) + ", " +
                     std::to_string(kept) + " recorded W)");
  }
  TrainResult r;
  switch (precision.kind) {
    case Precision::kFloat:
      r = train_typed<float>(data, opt, W0, progress);
      break;
    case Precision::kDouble:
      r = train_typed<double>(data, opt, W0, progress);
      break;
    case Precision::kLongDouble:
      r = train_typed<long double>(data, opt, W0, progress);
      break;
    case Precision::kDD:
      r = train_typed<dd_real>(data, opt, W0, progress);
      break;
    case Precision::kQD:
      r = train_typed<qd_real>(data, opt, W0, progress);
      break;
    case Precision::kFloat128:
      r = train_typed<Float128>(data, opt, W0, progress);
      break;
    case Precision::kMp50:
      r = train_typed<Mp50>(data, opt, W0, progress);
      break;
    case Precision::kMpfr:
      set_mpfr_digits(precision.mpfr_digits);
      r = train_typed<Mpfr>(data, opt, W0, progress);
      break;
  }
  r.precision = precision;
  return r;
}

}  // namespace ntp
