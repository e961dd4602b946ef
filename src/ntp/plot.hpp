#pragma once
/** @file plot.hpp
 * The gnuplot helpers of `ntpcheck reproduce` (defined in reproduce.cpp), shared with the phase
 * diagram of `ntpcheck sweep` (sweep.hpp): quoting, finding gnuplot, running scripts with atomic
 * pictures, and preparing an output directory.
 */
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ntp {

/** A text for a gnuplot single-quoted string: ' doubled, control characters replaced by blanks. */
std::string gp_quote(const std::string& s);

/** An executable file named `name` (searched on PATH unless it contains '/'), as an absolute
 * path (the child runs in another directory). */
std::optional<std::string> find_executable(const std::string& name);

struct PlotOutcome {
  std::string status;  ///< "ok", "ok, svg only: ...", or "failed: ..."
  std::string png_terminal;
  std::vector<std::string> files;  ///< pictures written, relative to the directory
  double seconds = 0;
};

/**
 * Runs `gnuplot -e "out_prefix='...'" STEM.gp` in `dir` for every stem (posix_spawn, no shell, a
 * 300 s timeout each). A script writes out_prefix.STEM.png (when gnuplot has a png terminal) and
 * out_prefix.STEM.svg; they are moved into place with write_file_atomic, so a picture appears
 * complete or not at all. Failures are reported in the status, never thrown (except IoError when
 * a picture cannot be written).
 */
PlotOutcome make_plots(const std::string& exe, const std::filesystem::path& dir,
                       const std::vector<std::string>& stems);

/** Creates `out_dir` with its parents when missing and checks it is a writable directory;
 * InvalidInput for "" or "-", IoError naming the directory otherwise. */
std::filesystem::path prepare_directory(const std::string& out_dir);

}  // namespace ntp
