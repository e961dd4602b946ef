// ntpcheck sweep: the single-process driver and the summary (sweep_cli.hpp).
#include "cli/sweep_cli.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "ntp/errors.hpp"

namespace ntpcli {
namespace {

using nlohmann::json;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string crossing_text(const json& x) {
  if (!x.is_number()) return "none";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", x.get<double>());
  return buf;
}

}  // namespace

SweepProgress::SweepProgress(bool quiet, std::int64_t total)
    : quiet_(quiet), total_(total), start_(now_seconds()), tty_(isatty(STDERR_FILENO) != 0) {}

SweepProgress::~SweepProgress() {
  if (shown_ && tty_) std::fprintf(stderr, "\n");
}

void SweepProgress::operator()(std::int64_t done) {
  const double t = now_seconds() - start_;
  if (quiet_ || t < 1.0 || (t - last_ < (tty_ ? 0.25 : 5.0) && done != total_)) return;
  last_ = t;
  shown_ = true;
  std::fprintf(stderr, "%ssweep: %lld/%lld points (%.0f%%), %.1f s%s", tty_ ? "\r" : "",
               static_cast<long long>(done), static_cast<long long>(total_),
               total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
               t, tty_ ? "" : "\n");
  std::fflush(stderr);
}

int finish_sweep(const ntp::SweepSpec& spec, const SweepArgs& a, const SweepRunInfo& info) {
  const ntp::SweepMerge merge = ntp::merge_sweep(spec, a.out);
  json s;
  s["format"] = "ntp-sweep";
  s["version"] = 1;
  s["spec"] = a.spec;
  s["out"] = a.out;
  s["task"] = spec.task.canonical;
  s["points"] = merge.points;
  s["finished"] = merge.finished;
  s["remaining"] = merge.points - merge.finished;
  s["complete"] = merge.finished == merge.points;
  s["reused"] = info.reused;
  s["computed"] = info.computed;
  s["mode"] = info.mode;
  s["ranks"] = info.ranks;
  s["workers"] = info.workers;
  s["stopped_by_budget"] = info.stopped_by_budget;
  s["truncated_bytes"] = info.truncated_bytes;
  s["duplicate_records"] = info.duplicates;
  s["exit_counts"] = merge.exit_counts;
  s["seconds"] = info.seconds;
  std::vector<std::string> files = {"spec.json", "results.jsonl"};
  json phase;
  std::string plot_status;
  if (spec.task.kind == ntp::SweepTaskKind::kConditions) {
    const auto rows = ntp::phase_rows(merge.records);
    const ntp::PhaseOutput po = ntp::write_phase(rows, a.out, a.plots);
    for (const auto& f : po.files) files.push_back(f);
    phase = po.summary;
    plot_status = po.plot_status;
    s["phase"] = phase["groups"];
    s["plot_status"] = plot_status;
  }
  s["files"] = files;
  s["exit"] = static_cast<int>(merge.exit);
  if (a.json) {
    std::printf("%s\n", s.dump(2).c_str());
  } else {
    std::printf("sweep %s: %lld points, task %s; %lld finished before, %lld run now in %.1f s (%s",
                a.spec.c_str(), static_cast<long long>(merge.points),
                spec.task.canonical["name"].get<std::string>().c_str(),
                static_cast<long long>(info.reused), static_cast<long long>(info.computed),
                info.seconds, info.mode.c_str());
    if (info.mode == "mpi") std::printf(", %d ranks, %d computing", info.ranks, info.workers);
    std::printf(")\n");
    if (info.truncated_bytes > 0) {
      std::printf("resume: removed a partial last line (%lld bytes) cut by an earlier kill\n",
                  static_cast<long long>(info.truncated_bytes));
    }
    std::printf("results %s/results.jsonl: %lld of %lld points%s; exit codes:", a.out.c_str(),
                static_cast<long long>(merge.finished), static_cast<long long>(merge.points),
                merge.finished == merge.points ? " (complete)" : " (PARTIAL: rerun to resume)");
    for (const auto& [code, n] : merge.exit_counts) {
      std::printf(" %s: %lld", code.c_str(), static_cast<long long>(n));
    }
    std::printf("\n");
    if (!phase.is_null()) {
      std::printf("phase diagram %s/phase.csv (Wilson 95%% intervals); plots: %s\n", a.out.c_str(),
                  plot_status.c_str());
      std::printf("  %-44s  P = 1/2 at d/m:  %-10s %-10s %-10s %s\n", "group", "(6)", "(C)", "both",
                  "Cover");
      for (const auto& g : phase["groups"]) {
        const json& x = g["half_crossing_d_over_m"];
        std::printf("  %-44s                   %-10s %-10s %-10s %s\n",
                    g["label"].get<std::string>().c_str(), crossing_text(x["separable"]).c_str(),
                    crossing_text(x["compatible"]).c_str(), crossing_text(x["both"]).c_str(),
                    g.contains("cover_half_crossing_d_over_m")
                        ? crossing_text(g["cover_half_crossing_d_over_m"]).c_str()
                        : "-");
      }
    }
  }
  std::fflush(stdout);
  if (info.stopped_by_budget) {
    std::fprintf(stderr,
                 "ntpcheck: sweep stopped by --max-seconds: %lld points remain (rerun to "
                 "resume)\n",
                 static_cast<long long>(merge.points - merge.finished));
  }
  return static_cast<int>(merge.exit);
}

int run_sweep(const SweepArgs& a) {
  if (!(a.max_seconds >= 0) || !std::isfinite(a.max_seconds)) {
    throw ntp::InvalidInput(
        "invalid option: --max-seconds must be a non-negative number (0: no limit), got " +
        std::to_string(a.max_seconds));
  }
  if (a.out.empty() || a.out == "-") {
    throw ntp::InvalidInput("invalid option: --out must name a directory, got '" + a.out + "'");
  }
  const int launch = mpi_launch_size();
  if (launch > 1 || launch == -1) {
    if (mpi_built()) return run_sweep_mpi(a);
    if (launch > 1) {
      throw ntp::InvalidInput(
          "invalid option: ntpcheck was built without MPI (NTPCHECK_MPI=OFF) but runs under an "
          "MPI launcher with " +
          std::to_string(launch) +
          " processes, which would each run the whole sweep: rebuild with -DNTPCHECK_MPI=ON or "
          "run without mpirun, got " +
          std::to_string(launch) + " processes");
    }
  }
  const double t0 = now_seconds();
  const ntp::SweepSpec spec = ntp::read_sweep_spec(a.spec);
  ntp::check_sweep_points(spec);
  ntp::SweepDirectory dir(a.out, spec);
  const ntp::ShardScan scan = dir.scan();
  const std::vector<std::int64_t> todo = ntp::pending_points(spec, scan);
  SweepRunInfo info;
  info.reused = spec.size - static_cast<std::int64_t>(todo.size());
  info.truncated_bytes = scan.truncated_bytes;
  info.duplicates = scan.duplicates;
  SweepProgress progress(a.quiet, static_cast<std::int64_t>(todo.size()));
  ntp::SweepRunOptions ro;
  ro.max_seconds = a.max_seconds;
  ro.rank = 0;
  ro.progress = [&](std::int64_t done, std::int64_t) { progress(done); };
  const ntp::SweepRunStats st = ntp::run_sweep_points(spec, a.out, todo, ro);
  info.computed = st.computed;
  info.stopped_by_budget = st.stopped_by_budget;
  info.seconds = now_seconds() - t0;
  return finish_sweep(spec, a, info);
}

}  // namespace ntpcli
