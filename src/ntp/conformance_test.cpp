// The conformance suite (conformance.hpp) against the real golden files of precision/golden/, and
// the checker itself tested by mutation: a golden value changed where the tested precision must
// see it is reported as failing, naming instance and quantity; a malformed file is invalid input.
#include "ntp/conformance.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ntp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/** precision/golden/ of the source tree this file belongs to (CMake compiles it by its absolute
 * path, so __FILE__ locates the tree without a configured definition). */
fs::path golden_dir() {
  return (fs::path(__FILE__).parent_path() / ".." / ".." / "precision" / "golden")
      .lexically_normal();
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/** A fresh temporary folder, removed at the end of the test. */
class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(fs::temp_directory_path() /
              ("ntp_conformance_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/** Changes the n-th significant digit (1-based) of a decimal string by 5 (mod 10). */
std::string change_digit(std::string s, int n) {
  int seen = 0;
  bool leading = true;
  for (char& ch : s) {
    if (ch == 'e' || ch == 'E') break;
    if (ch < '0' || ch > '9') continue;
    if (leading && ch == '0') continue;
    leading = false;
    if (++seen == n) {
      ch = static_cast<char>('0' + (ch - '0' + 5) % 10);
      return s;
    }
  }
  ADD_FAILURE() << "no digit " << n << " in " << s;
  return s;
}

const json* find_check(const json& report, const std::string& file, const std::string& quantity,
                       std::int64_t step = -1) {
  for (const json& inst : report.at("instances")) {
    if (inst.at("file") != file) continue;
    for (const json& c : inst.at("checks")) {
      if (c.at("quantity") == quantity && (step < 0 || c.value("step", std::int64_t{-1}) == step)) {
        return &c;
      }
    }
  }
  return nullptr;
}

/** Copies one golden file into `dir`, applying `mutate` to its JSON. */
template <class F>
void copy_mutated(const std::string& file, const fs::path& dir, F&& mutate) {
  json g = read_json(golden_dir() / file);
  mutate(g);
  write_text(dir / file, g.dump(1));
}

TEST(Conformance, GoldenSuiteHasEveryFamilyAndPassesInDouble) {
  const ConformanceResult r = run_conformance(golden_dir().string());
  std::printf("%s\n", format_conformance(r.report).c_str());
  EXPECT_EQ(r.exit, ExitCode::kAllHold);
  EXPECT_TRUE(r.report.at("passed").get<bool>());
  EXPECT_EQ(r.report.at("format"), "ntp-conformance");
  EXPECT_EQ(r.report.at("version"), 1);
  const json& instances = r.report.at("instances");
  EXPECT_GE(instances.size(), 12U);
  std::set<std::string> families;
  bool has_paper_main_size = false;
  for (const json& inst : instances) {
    families.insert(inst.at("family").get<std::string>());
    has_paper_main_size |= inst.at("V") == 10 && inst.at("d") == 60 && inst.at("m") == 50;
    // Every file has the loss, entropy and the four GD checkpoints, each with a finite bound.
    std::set<std::string> quantities;
    for (const json& c : inst.at("checks")) {
      quantities.insert(c.at("quantity").get<std::string>());
      EXPECT_TRUE(c.at("pass").get<bool>()) << inst.at("file") << " " << c.dump();
    }
    for (const char* q : {"entropy", "ce", "excess", "gradient", "compatibility", "separability",
                          "gd_w", "gd_ce", "gd_excess"}) {
      EXPECT_TRUE(quantities.count(q)) << inst.at("file") << " lacks " << q;
    }
  }
  for (const char* f : {"overparameterized", "one-hot", "paper-toy", "paper-main", "incompatible",
                        "inseparable", "underparameterized", "corpus"}) {
    EXPECT_TRUE(families.count(f)) << "no golden instance of family " << f;
  }
  EXPECT_TRUE(has_paper_main_size);
  ::testing::Test::RecordProperty("seconds", std::to_string(r.report.at("seconds").get<double>()));
}

TEST(Conformance, GoldenSuitePassesInFloatAndLongDouble) {
  for (const char* p : {"float", "long-double"}) {
    ConformanceOptions o;
    o.precision = parse_precision(p);
    o.certified_objects = false;  // precision independent: covered by the double run
    const ConformanceResult r = run_conformance(golden_dir().string(), o);
    EXPECT_EQ(r.exit, ExitCode::kAllHold) << format_conformance(r.report);
  }
}

TEST(Conformance, GradientChangedInTheTenthDigitFailsInDouble) {
  TempDir dir("gradient");
  const std::string file = "05-overparameterized.json";
  copy_mutated(file, dir.path(), [](json& g) {
    std::string& x = g["loss"]["gradient"][2][3].get_ref<std::string&>();
    x = change_digit(x, 10);
  });
  ConformanceOptions o;
  o.certified_objects = false;
  const ConformanceResult r = run_conformance(dir.path().string(), o);
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  const json* c = find_check(r.report, file, "gradient");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->at("pass").get<bool>());
  EXPECT_GT(c->at("error").get<double>(), c->at("bound").get<double>());
  ASSERT_EQ(r.report.at("failures").size(), 1U) << r.report.at("failures").dump();
  const std::string line = r.report.at("failures")[0].get<std::string>();
  EXPECT_NE(line.find(file), std::string::npos) << line;
  EXPECT_NE(line.find("gradient"), std::string::npos) << line;
  const std::string text = format_conformance(r.report);
  EXPECT_NE(text.find("FAIL " + file), std::string::npos) << text;
  EXPECT_NE(text.find("1 of"), std::string::npos) << text;
}

TEST(Conformance, ValuesChangedInTheTwentiethDigitFailInMpfr40) {
  TempDir dir("mpfr");
  const std::string file = "01-overparameterized-tiny.json";
  ConformanceOptions o;
  o.precision = parse_precision("mpfr:40");
  o.certified_objects = false;
  copy_mutated(file, dir.path(), [](json&) {});
  EXPECT_EQ(run_conformance(dir.path().string(), o).exit, ExitCode::kAllHold);
  copy_mutated(file, dir.path(), [](json& g) {
    std::string& x = g["loss"]["gradient"][1][0].get_ref<std::string&>();
    x = change_digit(x, 20);
    std::string& w = g["gd"]["iterates"][2]["w"][0][1].get_ref<std::string&>();
    w = change_digit(w, 20);
  });
  const ConformanceResult r = run_conformance(dir.path().string(), o);
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  EXPECT_FALSE(find_check(r.report, file, "gradient")->at("pass").get<bool>());
  EXPECT_FALSE(find_check(r.report, file, "gd_w", 100)->at("pass").get<bool>());
  EXPECT_TRUE(find_check(r.report, file, "gd_w", 10)->at("pass").get<bool>());
  EXPECT_TRUE(find_check(r.report, file, "ce")->at("pass").get<bool>());
}

TEST(Conformance, WrongStepSizeAndCertifiedObjectsAreCaught) {
  TempDir dir("objects");
  const std::string file = "03-paper-toy.json";
  copy_mutated(file, dir.path(), [](json& g) {
    // A GD run with 1% too large a step, W* off in its 50th digit, one W^mm entry off by 1e-30.
    const Rational eta = *parse_rational(g["gd"]["eta"].get<std::string>());
    g["gd"]["eta"] = (eta * Rational(101, 100)).str();
    std::string& ws = g["w_star"]["w"][0][0].get_ref<std::string&>();
    ws = change_digit(ws, 50);
    std::string& mm = g["w_mm"]["exact"][1][1].get_ref<std::string&>();
    mm = (*parse_rational(mm, 1 << 20) +
          Rational(BigInt(1), boost::multiprecision::pow(BigInt(10), 30)))
             .str();
  });
  const ConformanceResult r = run_conformance(dir.path().string());
  EXPECT_EQ(r.exit, ExitCode::kViolated);
  for (std::int64_t k : kGoldenGdSteps) {
    EXPECT_FALSE(find_check(r.report, file, "gd_w", k)->at("pass").get<bool>()) << k;
  }
  EXPECT_FALSE(find_check(r.report, file, "w_star")->at("pass").get<bool>());
  const json* mm = find_check(r.report, file, "w_mm");
  EXPECT_FALSE(mm->at("pass").get<bool>()) << mm->dump();
  EXPECT_EQ(mm->at("error").get<double>(), 1.0);  // one entry differs; the norm is ours
  EXPECT_TRUE(find_check(r.report, file, "gradient")->at("pass").get<bool>());
}

TEST(Conformance, MalformedGoldenFilesAreInvalidInput) {
  const std::string file = "02-one-hot-tiny.json";
  const auto expect_invalid = [&](const auto& mutate, const std::string& field) {
    TempDir dir("malformed");
    copy_mutated(file, dir.path(), mutate);
    try {
      run_conformance(dir.path().string());
      ADD_FAILURE() << "no InvalidInput for " << field;
    } catch (const InvalidInput& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file), std::string::npos) << what;
      EXPECT_NE(what.find(field), std::string::npos) << what;
    }
  };
  expect_invalid([](json& g) { g["loss"]["gradient"][0][0] = 0.5; }, "loss.gradient[0][0]");
  expect_invalid([](json& g) { g["loss"]["gradient"][0][0] = "0.5x"; }, "loss.gradient[0][0]");
  expect_invalid([](json& g) { g["loss"]["gradient"].erase(0); }, "loss.gradient");
  expect_invalid([](json& g) { g["loss"].erase("ce"); }, "loss.ce");
  expect_invalid([](json& g) { g["version"] = 2; }, "version");
  expect_invalid([](json& g) { g["format"] = "ntp-instance"; }, "format");
  expect_invalid([](json& g) { g["gd"]["iterates"][1]["step"] = 1; }, "gd.iterates[1].step");
  expect_invalid([](json& g) { g["w_star"]["radius"] = "-1"; }, "w_star.radius");
  expect_invalid([](json& g) { g["gd"]["eta"] = "1000"; }, "gd.eta");  // far above 2/L
  expect_invalid([](json& g) { g["conditions"]["separability"] = "maybe"; },
                 "conditions.separability");
  expect_invalid([](json& g) { g["instance"]["vocab_size"] = 1; }, "instance");
  {
    TempDir dir("notjson");
    write_text(dir.path() / "bad.json", "{\"format\": ");
    EXPECT_THROW(run_conformance(dir.path().string()), InvalidInput);
  }
  {
    TempDir dir("empty");
    EXPECT_THROW(run_conformance(dir.path().string()), InvalidInput);
  }
  EXPECT_THROW(run_conformance((golden_dir() / "no-such-folder").string()), IoError);
}

}  // namespace
}  // namespace ntp
