// ntpcheck precision: the precision ladder and the horizon table (precision_cli.hpp).
#include "cli/precision_cli.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ntp/atomic_file.hpp"
#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/plot.hpp"
#include "ntp/precision_ladder.hpp"

namespace ntpcli {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

/** The ladder of --horizons without a FILE: every rung of the ladder given (default: the default
 * ladder plus mpfr:50). */
std::vector<ntp::PrecisionSpec> horizon_types(const PrecisionArgs& a) {
  if (!a.ladder.empty()) return ntp::parse_ladder(a.ladder);
  auto v = ntp::parse_ladder(ntp::kDefaultLadder);
  v.insert(v.end() - 1, ntp::PrecisionSpec{ntp::Precision::kMpfr, 50});
  return v;
}

}  // namespace

int run_precision(const PrecisionArgs& a) {
  // Validate every option before anything is created.
  if (a.file.empty() && !a.horizons) {
    throw ntp::InvalidInput("invalid argument: FILE is required (or --horizons alone), got none");
  }
  if (a.steps_given && (a.steps < 1 || a.steps > 1000000000)) {
    throw ntp::InvalidInput("invalid option: --steps must be in [1, 1e9], got " +
                            std::to_string(a.steps));
  }
  if (!(a.min_digits >= 0) || !std::isfinite(a.min_digits)) {
    throw ntp::InvalidInput("invalid option: --min-digits must be a number >= 0, got " +
                            num(a.min_digits));
  }
  if (!(a.max_seconds >= 0) || !std::isfinite(a.max_seconds)) {
    throw ntp::InvalidInput(
        "invalid option: --max-seconds must be a non-negative number (0: no limit), got " +
        num(a.max_seconds));
  }
  if (a.points_per_decade < 0 || a.points_per_decade > 1000) {
    throw ntp::InvalidInput("invalid option: --points-per-decade must be in [0, 1000], got " +
                            std::to_string(a.points_per_decade));
  }
  ntp::LadderOptions lo;
  lo.optimizer.kind = ntp::parse_optimizer(a.optimizer);
  lo.optimizer.steps = a.steps_given ? a.steps : kDefaultPrecisionSteps;
  lo.optimizer.points_per_decade = a.points_per_decade;
  if (!a.eta.empty()) {
    const auto q = ntp::parse_rational(a.eta);
    if (!q || !(*q > 0)) {
      throw ntp::InvalidInput("invalid option: --eta must be a positive number, got \"" + a.eta +
                              "\"");
    }
    lo.optimizer.eta = *q;
  }
  lo.min_digits = a.min_digits;
  lo.max_seconds = a.max_seconds;
  lo.check_top = a.check_top;
  if (a.file.empty()) {
    // --horizons alone: the table of theory.md §6 measured for each type.
    const auto types = horizon_types(a);
    std::vector<ntp::HorizonTable> hs;
    for (const auto& p : types) hs.push_back(ntp::measure_horizons(p));
    if (a.json) {
      std::printf("%s\n", nlohmann::json({{"format", "ntp-precision-horizons"},
                                          {"version", 1},
                                          {"horizons", ntp::horizons_json(hs)}})
                              .dump(2)
                              .c_str());
    } else {
      std::printf("%s", ntp::horizons_text(hs).c_str());
    }
    return 0;
  }
  lo.ladder = ntp::parse_ladder(a.ladder.empty() ? std::string(ntp::kDefaultLadder) : a.ladder);
  const ntp::InstanceData data = ntp::load_instance(a.file);
  if (!a.out.empty() && (a.out == "-" || std::filesystem::is_regular_file(a.out))) {
    throw ntp::InvalidInput("invalid option: --out must name a directory, got '" + a.out + "'");
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  const double t0 = now_seconds();
  double last = 0;
  bool shown = false;
  auto progress = [&](const std::string& rung, std::int64_t k, std::int64_t total) {
    const double t = now_seconds() - t0;
    if (!a.quiet && t > 1.0 && t - last >= (tty ? 0.25 : 5.0)) {
      last = t;
      shown = true;
      std::fprintf(stderr, "%sprecision: %s step %lld/%lld, %.1f s%s", tty ? "\r" : "",
                   rung.c_str(), static_cast<long long>(k), static_cast<long long>(total), t,
                   tty ? "\033[K" : "\n");
      std::fflush(stderr);
    }
    return true;
  };
  const ntp::LadderResult r = ntp::run_ladder(data, lo, progress);
  if (shown && tty) std::fprintf(stderr, "\n");
  std::vector<ntp::HorizonTable> hs;
  for (const auto& x : r.rungs) hs.push_back(x.horizons);
  const nlohmann::json doc = ntp::ladder_json(r, hs);

  std::string plot_status = "skipped: no --out";
  if (!a.out.empty()) {
    // Created only now: a run refused or failed leaves nothing behind.
    const std::filesystem::path dir = ntp::prepare_directory(a.out);
    ntp::write_file_atomic((dir / "digits.csv").string(), ntp::ladder_csv(r));
    ntp::write_file_atomic((dir / "digits.gp").string(), ntp::ladder_gnuplot(r));
    ntp::write_file_atomic((dir / "ladder.txt").string(),
                           ntp::ladder_text(r) + "\n" + ntp::horizons_text(hs));
    if (!a.plots) {
      plot_status = "skipped: --no-plots";
    } else if (const auto exe = ntp::find_executable("gnuplot"); !exe) {
      plot_status = "skipped: gnuplot not found on PATH";
    } else {
      plot_status = ntp::make_plots(*exe, dir, {"digits"}).status;
    }
    nlohmann::json d = doc;
    d["plots"] = plot_status;
    ntp::write_file_atomic((dir / "ladder.json").string(), d.dump(1) + "\n");
  }
  if (a.json) {
    nlohmann::json d = doc;
    d["plots"] = plot_status;
    std::printf("%s\n", d.dump(2).c_str());
  } else {
    std::printf("%s\n%s", ntp::ladder_text(r).c_str(), ntp::horizons_text(hs).c_str());
    if (!a.out.empty()) {
      std::printf("\nwritten to %s: ladder.json, ladder.txt, digits.csv, digits.gp (plots: %s)\n",
                  a.out.c_str(), plot_status.c_str());
    }
  }
  if (r.partial) {
    std::fprintf(stderr,
                 "ntpcheck: precision ladder stopped by --max-seconds: the result is "
                 "partial\n");
    return static_cast<int>(ntp::ExitCode::kInconclusive);
  }
  return 0;
}

}  // namespace ntpcli
