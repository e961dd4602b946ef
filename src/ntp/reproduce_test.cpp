#include "ntp/reproduce.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/separability.hpp"
#include "ntp/test_support.hpp"
#include "ntp/train.hpp"

namespace ntp {
namespace {

namespace fs = std::filesystem;
using testing_support::family;

using Table = std::vector<std::vector<std::string>>;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/** Lines split at commas (the files have no quoted fields); the header is row 0. */
Table read_csv(const fs::path& p) {
  Table t;
  std::istringstream in(slurp(p));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> row;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) row.push_back(cell);
    t.push_back(row);
  }
  return t;
}

double to_d(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

const std::vector<std::string> kCurveColumns = {
    "optimizer",  "step", "ce", "entropy", "excess", "norm", "cos_w_wmm", "cos_wminus_wstar_wmm",
    "pf_distance"};

class ReproduceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "ntp_reproduce_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static ReproduceOptions fast() {
    ReproduceOptions o;
    o.steps = 200;
    o.plots = false;
    return o;
  }
  fs::path dir_;
};

/** The rows of curves.csv for one optimizer. */
Table rows_of(const Table& t, const std::string& optimizer) {
  Table r;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i][0] == optimizer) r.push_back(t[i]);
  }
  return r;
}

TEST_F(ReproduceTest, PaperMainCurvesMatchTraining) {
  const InstanceData data = family("paper-main", 1);
  const ReproduceOptions o = fast();
  const ReproduceResult res = reproduce(data, (dir_ / "out").string(), o);
  const fs::path out = dir_ / "out";  // created by reproduce

  EXPECT_EQ(res.plot_status, "skipped: plots disabled");
  for (const std::string f : {"curves.csv", "loss.gp", "norm.gp", "cosine.gp", "pf_distance.gp",
                              "panels.gp", "summary.json"}) {
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
    EXPECT_NE(std::find(res.files.begin(), res.files.end(), f), res.files.end()) << f;
  }
  EXPECT_FALSE(fs::exists(out / "rows.csv"));  // d = 60
  for (const auto& f : res.files) EXPECT_TRUE(fs::is_regular_file(out / f)) << f;

  const Table t = read_csv(out / "curves.csv");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t[0], kCurveColumns);
  const auto grid = log_grid(o.steps, o.points_per_decade);
  ASSERT_EQ(t.size(), 1 + 3 * grid.size());
  for (std::size_t i = 1; i < t.size(); ++i) ASSERT_EQ(t[i].size(), kCurveColumns.size()) << i;

  for (const OptimizerKind k : {OptimizerKind::kGD, OptimizerKind::kNGD, OptimizerKind::kAdam}) {
    OptimizerOptions opt;
    opt.kind = k;
    opt.steps = o.steps;
    opt.eta = k == OptimizerKind::kGD ? Rational(1, 2) : Rational(1, 100);
    opt.points_per_decade = o.points_per_decade;
    const TrainResult tr = train(data, opt, PrecisionSpec{});
    const Table rows = rows_of(t, optimizer_name(k));
    ASSERT_EQ(rows.size(), tr.step.size()) << optimizer_name(k);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      SCOPED_TRACE(optimizer_name(k) + " row " + std::to_string(i));
      EXPECT_EQ(std::stoll(rows[i][1]), tr.step[i]);
      EXPECT_EQ(rows[i][1], std::to_string(grid[i]));
      // %.17g round-trips: the columns are TrainResult's doubles exactly.
      EXPECT_EQ(to_d(rows[i][2]), tr.ce[i]);
      EXPECT_EQ(to_d(rows[i][3]), tr.entropy);
      EXPECT_EQ(to_d(rows[i][4]), tr.excess[i]);
      EXPECT_EQ(to_d(rows[i][5]), tr.norm[i]);
      for (const int c : {6, 7}) {
        const double v = to_d(rows[i][static_cast<std::size_t>(c)]);
        if (tr.norm[i] == 0 && c == 6) {
          EXPECT_TRUE(std::isnan(v)) << "cos with W_0 = 0 is undefined";
        } else {
          EXPECT_GE(v, -1.0);
          EXPECT_LE(v, 1.0);
        }
      }
      EXPECT_GE(to_d(rows[i][8]), 0.0);
    }
    // The paper's trends over 200 steps: the excess falls, ||W|| grows, the direction moves
    // toward W^mm.
    EXPECT_LT(tr.excess.back(), tr.excess[1]);
    EXPECT_GT(tr.norm.back(), tr.norm[1]);
    EXPECT_GT(to_d(rows.back()[6]), to_d(rows[1][6]));
  }

  const auto& s = res.summary;
  EXPECT_EQ(s["format"], "ntp-reproduce");
  EXPECT_EQ(s["compatibility"]["verdict"], "holds");
  EXPECT_EQ(s["separability"]["verdict"], "holds");
  EXPECT_TRUE(s["omitted_curves"].empty());
  EXPECT_EQ(s["optimizers"].size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(slurp(out / "summary.json")), s);
}

TEST_F(ReproduceTest, PaperToyRowsEqualForEqualSupportPatterns) {
  const InstanceData data = family("paper-toy", 1);
  ASSERT_EQ(decide_separability(data).verdict, SeparabilityVerdict::kHolds);
  const ReproduceResult res = reproduce(data, dir_.string(), fast());
  EXPECT_TRUE(fs::is_regular_file(dir_ / "rows.gp"));
  const Table t = read_csv(dir_ / "rows.csv");
  ASSERT_EQ(t.size(), 1u + 5u);
  EXPECT_EQ(t[0], (std::vector<std::string>{"token", "support_pattern", "wmm_1", "wmm_2", "wstar_1",
                                            "wstar_2"}));
  // Supports {0,1,4}, {0,3,4}, {1,2,3}: tokens 0 and 4 are both in S_0 and S_1.
  std::map<std::string, std::vector<std::size_t>> by_pattern;
  for (std::size_t z = 0; z < 5; ++z) {
    ASSERT_EQ(t[1 + z].size(), 6u);
    EXPECT_EQ(t[1 + z][0], std::to_string(z));
    by_pattern[t[1 + z][1]].push_back(1 + z);
  }
  EXPECT_EQ(t[1][1], "0;1");
  EXPECT_EQ(t[5][1], "0;1");
  EXPECT_EQ(by_pattern.size(), 4u);
  for (const auto& [pattern, rows] : by_pattern) {
    for (const std::size_t r : rows) {
      for (const std::size_t c : {2u, 3u, 4u, 5u}) EXPECT_TRUE(std::isfinite(to_d(t[r][c])));
      // W^mm depends only on the supports: equal patterns, equal rows (exactly).
      EXPECT_EQ(t[r][2], t[rows[0]][2]) << pattern;
      EXPECT_EQ(t[r][3], t[rows[0]][3]) << pattern;
    }
  }
  bool group_checked = false;
  for (const auto& g : res.summary["support_pattern_groups"]) {
    EXPECT_TRUE(g["w_mm_rows_equal"].get<bool>());
    group_checked = true;
  }
  EXPECT_TRUE(group_checked);
}

TEST_F(ReproduceTest, InseparableInstanceOmitsTheWmmCurves) {
  const InstanceData data = family("inseparable", 1);
  const ReproduceResult res = reproduce(data, dir_.string(), fast());
  EXPECT_EQ(res.summary["separability"]["verdict"], "violated");
  EXPECT_FALSE(fs::exists(dir_ / "cosine.gp"));
  EXPECT_TRUE(fs::exists(dir_ / "pf_distance.gp"));
  std::vector<std::string> omitted;
  for (const auto& c : res.summary["omitted_curves"]) {
    omitted.push_back(c["curve"]);
    EXPECT_NE(c["reason"].get<std::string>().find("separability (6) violated"), std::string::npos);
  }
  EXPECT_EQ(omitted, (std::vector<std::string>{"cos_w_wmm", "cos_wminus_wstar_wmm"}));
  const Table t = read_csv(dir_ / "curves.csv");
  ASSERT_GT(t.size(), 1u);
  for (std::size_t i = 1; i < t.size(); ++i) {
    EXPECT_TRUE(std::isnan(to_d(t[i][6])));
    EXPECT_TRUE(std::isnan(to_d(t[i][7])));
    EXPECT_TRUE(std::isfinite(to_d(t[i][4])));
    EXPECT_TRUE(std::isfinite(to_d(t[i][8])));
  }
}

TEST_F(ReproduceTest, IncompatibleInstanceOmitsTheWStarCurves) {
  const InstanceData data = family("incompatible", 1);
  const ReproduceResult res = reproduce(data, dir_.string(), fast());
  EXPECT_EQ(res.summary["compatibility"]["verdict"], "violated");
  EXPECT_FALSE(fs::exists(dir_ / "pf_distance.gp"));
  EXPECT_TRUE(fs::exists(dir_ / "cosine.gp"));
  std::vector<std::string> omitted;
  for (const auto& c : res.summary["omitted_curves"]) omitted.push_back(c["curve"]);
  EXPECT_EQ(omitted, (std::vector<std::string>{"cos_wminus_wstar_wmm", "pf_distance"}));
  const Table t = read_csv(dir_ / "curves.csv");
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_TRUE(std::isnan(to_d(t[i][8])));
}

TEST_F(ReproduceTest, UnwritableOutputDirectoryIsACleanError) {
  // A path below a regular file can never be a directory (also for root).
  const fs::path file = dir_ / "plain";
  std::ofstream(file) << "x";
  const std::string bad = (file / "out").string();
  const InstanceData data = family("paper-toy", 1);
  try {
    reproduce(data, bad, fast());
    FAIL() << "no error";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(bad), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), ExitCode::kInvalidInput);
  }
  EXPECT_THROW(reproduce(data, file.string(), fast()), IoError);  // a file, not a directory
  EXPECT_THROW(reproduce(data, "", fast()), InvalidInput);
  ReproduceOptions zero = fast();
  zero.steps = 0;
  EXPECT_THROW(reproduce(data, dir_.string(), zero), InvalidInput);
}

TEST_F(ReproduceTest, MissingGnuplotIsReportedNotThrown) {
  ReproduceOptions o = fast();
  o.plots = true;
  o.gnuplot = (dir_ / "no-such-gnuplot").string();
  const ReproduceResult res = reproduce(family("paper-toy", 1), dir_.string(), o);
  EXPECT_EQ(res.plot_status.rfind("skipped: gnuplot not found", 0), 0u) << res.plot_status;
  EXPECT_TRUE(fs::is_regular_file(dir_ / "loss.gp"));
  EXPECT_FALSE(fs::exists(dir_ / "loss.svg"));
  EXPECT_EQ(res.summary["plot_status"], res.plot_status);
}

TEST_F(ReproduceTest, FailingGnuplotIsReportedNotThrown) {
  if (::access("/bin/false", X_OK) != 0) GTEST_SKIP() << "no /bin/false";
  ReproduceOptions o = fast();
  o.plots = true;
  o.gnuplot = "/bin/false";  // exits with status 1, like a gnuplot that rejects a script
  const ReproduceResult res = reproduce(family("paper-toy", 1), dir_.string(), o);
  EXPECT_EQ(res.plot_status, "failed: gnuplot exited with status 1 on loss.gp");
  EXPECT_TRUE(fs::is_regular_file(dir_ / "summary.json"));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_NE(e.path().extension(), ".png") << e.path();
    EXPECT_NE(e.path().filename().string().front(), '.') << e.path();
  }
}

TEST_F(ReproduceTest, PlotsWithGnuplot) {
  ReproduceOptions o = fast();
  o.plots = true;
  const ReproduceResult res = reproduce(family("paper-toy", 1), dir_.string(), o);
  if (res.plot_status.rfind("skipped: gnuplot not found", 0) == 0) {
    GTEST_SKIP() << res.plot_status;
  }
  // A gnuplot without png terminals still makes the SVG pictures.
  const bool png = res.plot_status == "ok";
  if (!png) {
    ASSERT_EQ(res.plot_status.rfind("ok, svg only", 0), 0u) << res.plot_status;
  }
  const auto listed = [&](const std::string& f) {
    return std::find(res.files.begin(), res.files.end(), f) != res.files.end();
  };
  for (const std::string stem : {"loss", "norm", "cosine", "pf_distance", "panels", "rows"}) {
    if (png) {
      EXPECT_EQ(slurp(dir_ / (stem + ".png")).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8))
          << stem;
      EXPECT_TRUE(listed(stem + ".png")) << stem;
    }
    EXPECT_NE(slurp(dir_ / (stem + ".svg")).find("<svg"), std::string::npos) << stem;
    EXPECT_TRUE(listed(stem + ".svg")) << stem;
  }
  // No temporary picture is left behind.
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_NE(e.path().filename().string().front(), '.') << e.path();
  }
}

}  // namespace
}  // namespace ntp
