#include "ntp/sweep.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance_io.hpp"

namespace ntp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string templ = ::testing::TempDir() + "ntp_sweep_XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string str() const { return path_.string(); }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

SweepSpec spec_of(const std::string& text) { return parse_sweep_spec(json::parse(text)); }

/** The message of the InvalidInput that parse_sweep_spec throws for `text`. */
std::string spec_error(const std::string& text) {
  try {
    (void)parse_sweep_spec(json::parse(text));
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "(no error)";
}

// ---------------------------------------------------------------------------------------------
// Spec and grid order

TEST(SweepSpec, GridOrderIsNestedLoopsWithSeedsInnermost) {
  const SweepSpec s = spec_of(R"({"task": "conditions",
      "grid": {"family": "one-hot", "V": [3, 2], "m": 4, "d": {"from": 1, "to": 5, "step": 2},
               "seeds": [7, 5]}})");
  ASSERT_EQ(s.size, 2 * 3 * 2);
  // Loops: family, V, m, support, alpha, d, seeds (innermost), values in the order written.
  const std::vector<std::tuple<std::int64_t, std::int64_t, std::uint64_t>> want = {
      {3, 1, 7}, {3, 1, 5}, {3, 3, 7}, {3, 3, 5}, {3, 5, 7}, {3, 5, 5},
      {2, 1, 7}, {2, 1, 5}, {2, 3, 7}, {2, 3, 5}, {2, 5, 7}, {2, 5, 5}};
  for (std::int64_t i = 0; i < s.size; ++i) {
    const SweepParams p = sweep_point(s, i);
    EXPECT_EQ(p.family, "one-hot");
    EXPECT_EQ(p.m, 4);
    EXPECT_EQ(p.support, 1);  // one-hot: implied
    EXPECT_EQ(p.alpha, 1.0);
    EXPECT_EQ(p.V, std::get<0>(want[static_cast<std::size_t>(i)])) << i;
    EXPECT_EQ(p.d, std::get<1>(want[static_cast<std::size_t>(i)])) << i;
    EXPECT_EQ(p.seed, std::get<2>(want[static_cast<std::size_t>(i)])) << i;
  }
}

TEST(SweepSpec, SeveralGridsFollowEachOther) {
  const SweepSpec s = spec_of(R"({"task": {"name": "conditions"},
      "grid": [{"family": "one-hot", "V": 2, "m": 6, "d": [2, 3], "seeds": {"from": 1, "to": 3}},
               {"family": ["gaussian", "underparameterized"], "V": 5, "m": 6, "d": 4,
                "support": [2, 3], "alpha": [0.5, 2], "seeds": 9}]})");
  ASSERT_EQ(s.grids.size(), 2U);
  ASSERT_EQ(s.size, 6 + 2 * 2 * 2);
  EXPECT_EQ(sweep_point(s, 5).d, 3);
  EXPECT_EQ(sweep_point(s, 5).seed, 3U);
  // Second grid: family, V, m, support, alpha, d, seeds.
  const SweepParams a = sweep_point(s, 6);
  EXPECT_EQ(a.family, "gaussian");
  EXPECT_EQ(a.support, 2);
  EXPECT_EQ(a.alpha, 0.5);
  const SweepParams b = sweep_point(s, 7);
  EXPECT_EQ(b.alpha, 2.0);
  EXPECT_EQ(b.support, 2);
  EXPECT_EQ(sweep_point(s, 8).support, 3);
  EXPECT_EQ(sweep_point(s, 13).family, "underparameterized");
  EXPECT_THROW((void)sweep_point(s, 14), InternalError);
}

TEST(SweepSpec, LargeSeedsAndCanonicalTasks) {
  const SweepSpec s = spec_of(R"({"format": "ntp-sweep-spec", "version": 1,
      "task": {"name": "check", "claims": ["gd_invariants"], "budget": 2, "steps": 100},
      "grid": {"family": "one-hot", "V": 2, "m": 3, "d": 2,
               "seeds": [18446744073709551615, 0]}})");
  EXPECT_EQ(sweep_point(s, 0).seed, 18446744073709551615ULL);
  EXPECT_EQ(
      s.task.canonical.dump(),
      R"({"budget":2.0,"claims":["gd_invariants"],"name":"check","precision":"double","steps":100})");
  const SweepSpec a = spec_of(R"({"task": "analyze", "grid": {"family": "one-hot", "V": 2,
      "m": 3, "d": 2, "seeds": 1}})");
  EXPECT_EQ(a.task.canonical.dump(), R"({"excess":1e-06,"name":"analyze","precision":"double"})");
}

TEST(SweepSpec, ErrorsNameTheFieldAndTheValue) {
  const std::string g = R"("grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2, "seeds": 1})";
  struct Case {
    std::string spec;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"[1]", {"(document)", "JSON object"}},
      {"{" + g + "}", {"task", "required"}},
      {R"({"task": "conditions"})", {"grid", "required"}},
      {R"({"task": "conditions", "grids": 1, )" + g + "}", {"grids", "not a spec key"}},
      {R"({"task": "train", )" + g + "}", {"task.name", "conditions, analyze or check", "train"}},
      {R"({"task": {"name": "analyze", "precision": "dd"}, )" + g + "}",
       {"task.precision", "double, long-double", "dd"}},
      {R"({"task": {"name": "analyze", "precision": "quad"}, )" + g + "}",
       {"task.precision", "quad"}},
      {R"({"task": {"name": "analyze", "budget": 3}, )" + g + "}",
       {"task.budget", "not an option of task analyze"}},
      {R"({"task": {"name": "check", "claims": ["nope"]}, )" + g + "}",
       {"task.claims", "gd_invariants", "nope"}},
      {R"({"task": {"name": "check", "steps": 0}, )" + g + "}", {"task.steps", "got 0"}},
      {R"({"task": {"name": "check", "budget": -1}, )" + g + "}", {"task.budget", "-1"}},
      {R"({"task": "conditions", "format": "ntp-sweep", )" + g + "}", {"format", "ntp-sweep"}},
      {R"({"task": "conditions", "version": 2, )" + g + "}", {"version", "must be 1", "2"}},
      {R"({"task": "conditions", "grid": []})", {"grid", "empty list"}},
      {R"({"task": "conditions", "grid": [3]})", {"grid[0]", "object of axes", "3"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "seeds": 1}})",
       {"grid.d", "required"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2,
          "seeds": 1, "overlap": 0.5}})",
       {"grid.overlap", "no generator family has an overlap parameter", "0.5"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2,
          "seeds": 1, "dim": 3}})",
       {"grid.dim", "not a grid axis", "\"dim\""}},
      {R"({"task": "conditions", "grid": {"family": "paper-main", "V": 2, "m": 4, "d": 2,
          "seeds": 1}})",
       {"grid.family", "fixed sizes", "paper-main"}},
      {R"({"task": "conditions", "grid": {"family": "corpus", "V": 2, "m": 4, "d": 2,
          "seeds": 1}})",
       {"grid.family", "text file", "corpus"}},
      {R"({"task": "conditions", "grid": {"family": ["one-hot", "toy"], "V": 2, "m": 4, "d": 2,
          "seeds": 1}})",
       {"grid.family[1]", "must be one of", "toy"}},
      {R"({"task": "conditions", "grid": {"family": "gaussian", "V": 4, "m": 4, "d": 2,
          "seeds": 1}})",
       {"grid.support", "required unless every family is one-hot"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 1, "m": 4, "d": 2,
          "seeds": 1}})",
       {"grid.V", "in [2, 1000000]", "got 1"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": [],
          "seeds": 1}})",
       {"grid.d", "empty list"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": [2, 3, 2],
          "seeds": 1}})",
       {"grid.d", "repeat", "got 2"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2.5,
          "seeds": 1}})",
       {"grid.d", "integer", "2.5"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4,
          "d": {"from": 3, "to": 1}, "seeds": 1}})",
       {"grid.d.to", "at least from = 3", "got 1"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4,
          "d": {"from": 1, "to": 3, "step": 0}, "seeds": 1}})",
       {"grid.d.step", ">= 1", "got 0"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4,
          "d": {"from": 1, "upto": 3}, "seeds": 1}})",
       {"grid.d.upto", "not a range key"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2,
          "seeds": -1}})",
       {"grid.seeds", "got -1"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4, "d": 2,
          "seeds": 1, "alpha": 0}})",
       {"grid.alpha", "positive finite", "got 0"}},
      {R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2, "m": 4,
          "d": {"from": 1, "to": 100000}, "seeds": {"from": 1, "to": 1000}}})",
       {"grid", "at most 10000000 points"}},
  };
  for (const Case& c : cases) {
    const std::string msg = spec_error(c.spec);
    EXPECT_EQ(msg.rfind("invalid sweep spec: ", 0), 0U) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const std::string& w : c.words) {
      EXPECT_NE(msg.find(w), std::string::npos) << "\"" << w << "\" not in: " << msg;
    }
  }
}

TEST(SweepSpec, ImpossiblePointsAreRefusedByTheGenerator) {
  const auto err = [](const std::string& text) -> std::string {
    try {
      check_sweep_points(spec_of(text));
    } catch (const InvalidInput& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string e = err(R"({"task": "conditions", "grid": {"family": "gaussian", "V": [3, 4],
      "m": 5, "d": 2, "support": 3, "seeds": 1}})");
  EXPECT_NE(e.find("grid point gaussian V=3 d=2 m=5 support=3"), std::string::npos) << e;
  EXPECT_NE(e.find("support_size"), std::string::npos) << e;
  e = err(R"({"task": "conditions", "grid": {"family": "overparameterized", "V": 3, "m": 5,
      "d": [5, 4], "support": 1, "seeds": 1}})");
  EXPECT_NE(e.find("d=4"), std::string::npos) << e;
  EXPECT_NE(e.find("embedding_dim"), std::string::npos) << e;
  // gaussian takes any d: under- below m, overparameterized from m on.
  EXPECT_EQ(err(R"({"task": "conditions", "grid": {"family": "gaussian", "V": 3, "m": 5,
      "d": {"from": 1, "to": 8}, "support": 2, "seeds": 1}})"),
            "(no error)");
  // one-hot accepts V = 2 and any d, m (Cover's setting).
  EXPECT_EQ(err(R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2,
      "m": [1, 2, 40], "d": [1, 39, 80], "seeds": 1}})"),
            "(no error)");
}

TEST(SweepSpec, GaussianIsTheSharedConstructionOfUnderAndOverparameterized) {
  SweepParams p;
  p.family = "gaussian";
  p.V = 6;
  p.m = 8;
  p.support = 2;
  p.seed = 3;
  for (const std::int64_t d : {3, 8, 11}) {
    p.d = d;
    const std::string fam = d < 8 ? "underparameterized" : "overparameterized";
    EXPECT_EQ(generator_family(p), fam);
    GeneratorOptions o = generator_options(p);
    const InstanceData a = generate(o);
    o.family = fam;
    EXPECT_EQ(instance_to_json(a), instance_to_json(generate(o)));
    EXPECT_NE(reproduce_command(p, SweepTask{})
                  .find("ntpcheck generate " + fam + " --seed 3 -V 6 -d " + std::to_string(d) +
                        " -m 8 -k 2"),
              std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Points

TEST(SweepPoint, ConditionsAreDecidedAndVerified) {
  const SweepSpec s = spec_of(R"({"task": "conditions", "grid": [
      {"family": "one-hot", "V": 2, "m": 6, "d": [1, 6], "seeds": 1},
      {"family": "incompatible", "V": 5, "m": 6, "d": 6, "support": 2, "seeds": 2},
      {"family": "inseparable", "V": 5, "m": 6, "d": 6, "support": 2, "seeds": 2}]})");
  const json a = run_sweep_point(s, 0);  // one-hot, d = 1
  const json b = run_sweep_point(s, 1);  // one-hot, d = m: separable (Cover: P = 1)
  const json c = run_sweep_point(s, 2);  // incompatible
  const json d = run_sweep_point(s, 3);  // inseparable
  for (const json* r : {&a, &b, &c, &d}) {
    const json& res = (*r)["result"];
    ASSERT_FALSE(res.contains("error")) << res.dump();
    EXPECT_EQ(res["exit"], 0) << res.dump();
    EXPECT_EQ(res["compatibility"]["verified"], true) << res.dump();
    EXPECT_EQ(res["separability"]["verified"], true) << res.dump();
  }
  // One-hot: no (C) equation, so (C) holds by full row rank; "both" is (6).
  EXPECT_EQ(a["result"]["compatibility"]["verdict"], "holds");
  EXPECT_EQ(a["result"]["compatibility"]["equations"], 0);
  EXPECT_EQ(b["result"]["separability"]["verdict"], "holds");
  EXPECT_EQ(b["result"]["both"], "holds");
  EXPECT_EQ(c["result"]["compatibility"]["verdict"], "violated");
  EXPECT_EQ(c["result"]["separability"]["verdict"], "holds");
  EXPECT_EQ(c["result"]["both"], "violated");
  EXPECT_EQ(d["result"]["compatibility"]["verdict"], "holds");
  EXPECT_EQ(d["result"]["separability"]["verdict"], "violated");
  EXPECT_EQ(d["result"]["separability"]["certificate"], "farkas");
  EXPECT_EQ(a["index"], 0);
  EXPECT_EQ(a["seed"], 1);
  EXPECT_EQ(a["generator"], "one-hot");
  EXPECT_EQ(a["reproduce"],
            "ntpcheck generate one-hot --seed 1 -V 2 -d 1 -m 6 -k 1 | ntpcheck analyze -");
  // Deterministic: the same record twice.
  EXPECT_EQ(run_sweep_point(s, 3).dump(), d.dump());
}

TEST(SweepPoint, AnalyzeAndCheckTasksCarryNoTimings) {
  const SweepSpec an = spec_of(R"({"task": "analyze", "grid": {"family": "overparameterized",
      "V": 3, "m": 3, "d": 4, "support": 2, "seeds": 1}})");
  const json r = run_sweep_point(an, 0);
  ASSERT_TRUE(r["result"].contains("report")) << r.dump();
  EXPECT_EQ(r["result"]["exit"], 0) << r.dump();
  EXPECT_EQ(r["result"]["report"]["format"], "ntp-analysis");
  const std::string text = r.dump();
  EXPECT_EQ(text.find("\"seconds\""), std::string::npos);
  EXPECT_EQ(text.find("\"timings\""), std::string::npos);
  EXPECT_EQ(text, run_sweep_point(an, 0).dump());

  const SweepSpec ck = spec_of(R"({"task": {"name": "check", "claims": ["lemma1_overparameterized",
      "gd_invariants"], "steps": 200, "budget": 30}, "grid": {"family": "overparameterized",
      "V": 3, "m": 3, "d": 4, "support": 2, "seeds": 1}})");
  const json c = run_sweep_point(ck, 0);
  ASSERT_TRUE(c["result"].contains("claims")) << c.dump();
  ASSERT_EQ(c["result"]["claims"].size(), 2U);
  EXPECT_EQ(c["result"]["claims"][0]["name"], "lemma1_overparameterized");
  EXPECT_EQ(c["result"]["claims"][0]["verdict"], "holds");
  EXPECT_EQ(c["result"]["exit"], 0) << c.dump();
  EXPECT_NE(c["reproduce"].get<std::string>().find(
                "| ntpcheck check - --claims lemma1_overparameterized,gd_invariants --budget 30.0 "
                "--steps 200 --precision double"),
            std::string::npos)
      << c["reproduce"];
}

// ---------------------------------------------------------------------------------------------
// Directory: shards, resume, merge

const char* const kSmall = R"({"task": "conditions", "grid": [
    {"family": "one-hot", "V": 2, "m": 8, "d": [2, 4, 6], "seeds": {"from": 1, "to": 4}},
    {"family": "gaussian", "V": 4, "m": 6, "d": [3, 6], "support": 2, "seeds": [1, 2]}]})";

TEST(SweepDirectory, ResumeSkipsFinishedPointsAndDropsACutLine) {
  const SweepSpec s = spec_of(kSmall);
  ASSERT_EQ(s.size, 12 + 4);
  TempDir fresh, resumed;
  {
    // Reference: everything in one go.
    SweepDirectory dir(fresh.str(), s);
    const auto todo = pending_points(s, dir.scan());
    ASSERT_EQ(todo.size(), 16U);
    EXPECT_EQ(run_sweep_points(s, fresh.str(), todo).computed, 16);
  }
  const SweepMerge ref = merge_sweep(s, fresh.str());
  EXPECT_EQ(ref.finished, 16);
  EXPECT_EQ(ref.exit, ExitCode::kAllHold);
  const std::string ref_bytes = slurp(fresh.path() / "results.jsonl");

  {
    SweepDirectory dir(resumed.str(), s);
    auto todo = pending_points(s, dir.scan());
    todo.resize(7);  // "killed" after 7 points
    run_sweep_points(s, resumed.str(), todo);
  }
  // A kill mid-write: a prefix of a record without its newline.
  const fs::path shard0 = resumed.path() / shard_file_name(0);
  ASSERT_EQ(lines_of(slurp(shard0)).size(), 7U);
  {
    std::ofstream out(shard0, std::ios::app | std::ios::binary);
    out << R"({"index":7,"params":{"family":"one-hot","V":2,)";
  }
  {
    // A partial merge (before the resume) says so: 7 finished, exit 2 (unfinished points).
    const SweepMerge partial = merge_sweep(s, resumed.str());
    EXPECT_EQ(partial.finished, 7);
    EXPECT_EQ(partial.exit, ExitCode::kInconclusive);
  }
  {
    SweepDirectory dir(resumed.str(), s);
    const ShardScan scan = dir.scan();
    EXPECT_EQ(scan.lines, 7);
    EXPECT_GT(scan.truncated_bytes, 0);
    const auto todo = pending_points(s, scan);
    ASSERT_EQ(todo.size(), 9U);
    EXPECT_EQ(todo.front(), 7);
    // Resume on another shard (as another rank would).
    SweepRunOptions o;
    o.rank = 3;
    EXPECT_EQ(run_sweep_points(s, resumed.str(), todo, o).computed, 9);
    EXPECT_EQ(pending_points(s, dir.scan()).size(), 0U);
  }
  // Every point once: 7 + 9 lines, the cut line gone, the merged table byte-identical.
  const std::string s0 = slurp(shard0);
  EXPECT_EQ(lines_of(s0).size(), 7U);
  EXPECT_EQ(s0.back(), '\n');
  EXPECT_EQ(lines_of(slurp(resumed.path() / shard_file_name(3))).size(), 9U);
  const SweepMerge m = merge_sweep(s, resumed.str());
  EXPECT_EQ(m.finished, 16);
  EXPECT_EQ(slurp(resumed.path() / "results.jsonl"), ref_bytes);
  // Sorted by index, no timing / host / rank fields.
  std::int64_t i = 0;
  for (const std::string& l : lines_of(ref_bytes)) {
    const json r = json::parse(l);
    EXPECT_EQ(r["index"], i++);
    EXPECT_FALSE(r.contains("seconds") || r.contains("host") || r.contains("rank")) << l;
  }
  // The shards do carry them.
  const json first = json::parse(lines_of(s0).front());
  EXPECT_TRUE(first.contains("seconds") && first.contains("host") && first.contains("rank"));
}

TEST(SweepDirectory, AnExtendedGridReusesFinishedPoints) {
  TempDir t;
  const SweepSpec a = spec_of(R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2,
      "m": 6, "d": [2, 4], "seeds": {"from": 1, "to": 3}}})");
  {
    SweepDirectory dir(t.str(), a);
    run_sweep_points(a, t.str(), pending_points(a, dir.scan()));
  }
  // More seeds and one more d: the indices move, the 6 finished points are still found.
  const SweepSpec b = spec_of(R"({"task": "conditions", "grid": {"family": "one-hot", "V": 2,
      "m": 6, "d": [2, 3, 4], "seeds": {"from": 1, "to": 5}}})");
  SweepDirectory dir(t.str(), b);
  const auto todo = pending_points(b, dir.scan());
  EXPECT_EQ(todo.size(), 15U - 6U);
  // A different task is a different point.
  const SweepSpec c = spec_of(R"({"task": "analyze", "grid": {"family": "one-hot", "V": 2,
      "m": 6, "d": [2, 4], "seeds": {"from": 1, "to": 3}}})");
  EXPECT_EQ(pending_points(c, dir.scan()).size(), 6U);
}

TEST(SweepDirectory, ACorruptCompleteLineIsAnErrorNamingFileAndLine) {
  TempDir t;
  const SweepSpec s = spec_of(kSmall);
  {
    SweepDirectory dir(t.str(), s);
    auto todo = pending_points(s, dir.scan());
    todo.resize(2);
    run_sweep_points(s, t.str(), todo);
  }
  {
    std::ofstream out(t.path() / shard_file_name(0), std::ios::app | std::ios::binary);
    out << "{\"index\": 2}\n";
  }
  SweepDirectory dir(t.str(), s);
  try {
    (void)dir.scan();
    FAIL() << "no error";
  } catch (const InvalidInput& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("shard-0.jsonl line 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("params"), std::string::npos) << msg;
  }
}

TEST(SweepDirectory, OneSweepPerDirectoryAtATime) {
  TempDir t;
  const SweepSpec s = spec_of(kSmall);
  SweepDirectory a(t.str(), s);
  EXPECT_THROW(SweepDirectory(t.str(), s), InvalidInput);
  EXPECT_EQ(json::parse(slurp(t.path() / "spec.json")), s.source);
}

// ---------------------------------------------------------------------------------------------
// Phase diagram

TEST(SweepPhase, CoverFormula) {
  // Exact small cases: 3 points in the plane, 6 of the 8 dichotomies are separable through the
  // origin: 2^-2 (C(2,0) + C(2,1)) = 3/4.
  EXPECT_EQ(cover_probability(2, 3), 0.75);
  EXPECT_EQ(cover_probability(1, 5), 1.0 / 16);  // only the 2 constant labellings
  for (const std::int64_t m : {1, 2, 7, 20, 41}) {
    EXPECT_EQ(cover_probability(m, m), 1.0) << m;
    EXPECT_EQ(cover_probability(m + 5, m), 1.0) << m;
    EXPECT_EQ(cover_probability(0, m), 0.0) << m;
    // Symmetry C(m-1, k) = C(m-1, m-1-k): P(d) + P(m-d) = 1, so P = 1/2 at d/m = 1/2.
    for (std::int64_t d = 0; d <= m; ++d) {
      EXPECT_NEAR(cover_probability(d, m) + cover_probability(m - d, m), 1.0, 1e-15) << d;
    }
  }
  EXPECT_EQ(cover_probability(10, 20), 0.5);
  EXPECT_TRUE(std::isnan(cover_probability(3, 10001)));
}

TEST(SweepPhase, WilsonInterval) {
  // Reference values (Wilson 1927; e.g. Agresti & Coull 1998, Table 1 style): 5/10 ->
  // [0.2366, 0.7634]; 0/10 -> [0, 0.2775]; 10/10 -> [0.7225, 1].
  Interval w = wilson_interval(5, 10);
  EXPECT_NEAR(w.lo, 0.236593, 1e-6);
  EXPECT_NEAR(w.hi, 0.763407, 1e-6);
  w = wilson_interval(0, 10);
  EXPECT_EQ(w.lo, 0.0);
  EXPECT_NEAR(w.hi, 0.277533, 1e-6);
  w = wilson_interval(10, 10);
  EXPECT_NEAR(w.lo, 0.722467, 1e-6);
  EXPECT_EQ(w.hi, 1.0);
  w = wilson_interval(0, 0);
  EXPECT_EQ(w.lo, 0.0);
  EXPECT_EQ(w.hi, 1.0);
}

json conditions_record(const std::string& family, std::int64_t V, std::int64_t m, std::int64_t d,
                       const std::string& sep, const std::string& comp) {
  const std::string both = sep == "holds" && comp == "holds"         ? "holds"
                           : sep == "violated" || comp == "violated" ? "violated"
                                                                     : "inconclusive";
  return {{"params",
           {{"family", family}, {"V", V}, {"support", 1}, {"alpha", 1.0}, {"m", m}, {"d", d}}},
          {"result",
           {{"separability", {{"verdict", sep}}},
            {"compatibility", {{"verdict", comp}}},
            {"both", both},
            {"exit", 0}}}};
}

TEST(SweepPhase, RowsCountDecidedPointsAndFindTheCrossing) {
  std::vector<json> recs;
  // d = 2: 1 of 4 separable; d = 4: 3 of 4, one point undecided; second group separate.
  for (const char* v : {"holds", "violated", "violated", "violated"}) {
    recs.push_back(conditions_record("one-hot", 2, 8, 2, v, "holds"));
  }
  for (const char* v : {"holds", "holds", "holds", "inconclusive"}) {
    recs.push_back(conditions_record("one-hot", 2, 8, 4, v, "holds"));
  }
  recs.push_back(conditions_record("gaussian", 4, 8, 2, "holds", "violated"));
  const auto rows = phase_rows(recs);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].group, 1);
  EXPECT_EQ(rows[0].d, 2);
  EXPECT_EQ(rows[0].n[0], 4);
  EXPECT_EQ(rows[0].k[0], 1);
  EXPECT_EQ(rows[1].n[0], 3);
  EXPECT_EQ(rows[1].k[0], 3);
  EXPECT_EQ(rows[1].inconclusive, 1);
  EXPECT_EQ(rows[1].n[1], 4);
  EXPECT_EQ(rows[1].k[1], 4);
  EXPECT_EQ(rows[0].cover, cover_probability(2, 8));
  EXPECT_EQ(rows[2].group, 2);
  EXPECT_TRUE(std::isnan(rows[2].cover));
  EXPECT_EQ(rows[2].k[2], 0);
  EXPECT_EQ(rows[2].n[2], 1);
  // p goes 1/4 (x = 1/4) -> 1 (x = 1/2): 1/2 is reached at x = 1/4 + (1/4)(1/4)/(3/4) = 1/3.
  const std::vector<PhaseRow> g1(rows.begin(), rows.begin() + 2);
  EXPECT_NEAR(half_crossing(g1, 0), 1.0 / 3.0, 1e-15);
  EXPECT_TRUE(std::isnan(half_crossing(g1, 1)));  // compatible everywhere: no crossing

  TempDir t;
  const PhaseOutput po = write_phase(rows, t.str(), false);
  EXPECT_EQ(po.plot_status, "skipped: plots disabled");
  const auto csv = lines_of(slurp(t.path() / "phase.csv"));
  ASSERT_EQ(csv.size(), 4U);
  EXPECT_EQ(csv[1].substr(0, 40), "1,one-hot,2,1,1.0,8,2,0.25,4,0,4,1,0.25,");
  EXPECT_NE(slurp(t.path() / "phase.gp").find("Cover''s formula, m = 8"), std::string::npos);
  const json pj = json::parse(slurp(t.path() / "phase.json"));
  EXPECT_NEAR(pj["groups"][0]["half_crossing_d_over_m"]["separable"].get<double>(), 1.0 / 3, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Cover's threshold reproduced by the machinery

/** P(X <= x) for X ~ Bin(n, p), by summing the pmf (lgamma; ample accuracy for tails >= 1e-12). */
double binomial_cdf(std::int64_t x, std::int64_t n, double p) {
  if (x < 0) return 0;
  if (x >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  double s = 0;
  for (std::int64_t k = 0; k <= x; ++k) {
    const double lg =
        std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
        std::lgamma(static_cast<double>(n - k) + 1) + static_cast<double>(k) * std::log(p) +
        static_cast<double>(n - k) * std::log1p(-p);
    s += std::exp(lg);
  }
  return std::min(1.0, s);
}

/** True when x is in the two-sided acceptance region of Bin(n, p) at level a:
 * P(X <= x) > a/2 and P(X >= x) > a/2. */
bool accepted(std::int64_t x, std::int64_t n, double p, double a) {
  return binomial_cdf(x, n, p) > a / 2 && 1 - binomial_cdf(x - 1, n, p) > a / 2;
}

// One-hot with V = 2 is binary classification through the origin: context j has label
// s_j = +1 if its next token is 0, else -1, and (6b) reads s_j (w_0 - w_1)^T h_j >= 1 (no (6a)
// rows), i.e. the m points s_j h_j lie strictly inside a half-space: linear separability of the
// labelled points by a hyperplane through the origin. The generator draws the labels uniformly
// and independently (Rng::subset of size 1) and h_j ~ N(0, I/d) (in general position with
// probability 1; the 2^-16 grid rounding makes a degenerate configuration astronomically
// unlikely at these sizes). Cover (1965): P(separable) = 2^(1-m) sum_{k<d} C(m-1, k), which is
// 1/2 exactly at d = m/2.
//
// Criterion: the separable count X_d over S independent seeds is Bin(S, p_d) under Cover's
// formula. A point d fails when its count is outside the two-sided acceptance region at level
// alpha/K (alpha = 1e-3, K points; both tails alpha/(2K)). By Bonferroni a correct
// implementation fails this test with probability at most 1e-3 whatever the dependence between
// the d values (they share the labels of a seed). The seeds are fixed, so the outcome is
// deterministic. Power: the same counts must be rejected for a threshold shifted by 0.1 in d/m
// (p_d replaced by Cover's P at d - 2 and at d + 2), so the acceptance regions are not vacuous.
// The empirical crossing of 1/2 (linear interpolation in d/m) is within 0.05 of 1/2: with 300
// seeds its standard deviation is 0.0067 (10^5 simulated binomial draws at these d; largest
// deviation seen 0.026), so 0.05 is over 7 standard deviations.
TEST(SweepCover, OneHotBinaryReproducesCoversThreshold) {
  const std::int64_t m = 20;
  const std::int64_t seeds = 300;
  const std::vector<std::int64_t> ds = {2, 4, 6, 8, 9, 10, 11, 12, 14, 16, 18};
  json dj = json::array();
  for (const auto d : ds) dj.push_back(d);
  const json spec = {{"task", "conditions"},
                     {"grid",
                      {{"family", "one-hot"},
                       {"V", 2},
                       {"m", m},
                       {"d", dj},
                       {"seeds", {{"from", 1}, {"to", seeds}}}}}};
  const SweepSpec s = parse_sweep_spec(spec);
  TempDir t;
  const auto t0 = std::chrono::steady_clock::now();
  {
    SweepDirectory dir(t.str(), s);
    run_sweep_points(s, t.str(), pending_points(s, dir.scan()));
  }
  const SweepMerge merged = merge_sweep(s, t.str());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(merged.finished, s.size);
  EXPECT_EQ(merged.exit, ExitCode::kAllHold);  // every verdict decided and verified
  const auto rows = phase_rows(merged.records);
  ASSERT_EQ(rows.size(), ds.size());
  const double alpha = 1e-3;
  const auto K = static_cast<double>(ds.size());
  int rejected_shift_down = 0, rejected_shift_up = 0;
  std::printf("Cover, m = %lld, %lld seeds per d (%.1f s):\n  d  d/m   separable  Cover P\n",
              static_cast<long long>(m), static_cast<long long>(seeds), secs);
  for (const PhaseRow& r : rows) {
    ASSERT_EQ(r.n[0], seeds) << "d = " << r.d;  // all decided
    EXPECT_EQ(r.k[1], seeds) << "one-hot: (C) has no equation, so it holds";
    EXPECT_EQ(r.k[2], r.k[0]) << "both = separable when (C) always holds";
    const double p = cover_probability(r.d, m);
    EXPECT_EQ(r.cover, p);
    std::printf("  %2lld %.2f  %3lld/%lld     %.4f\n", static_cast<long long>(r.d),
                static_cast<double>(r.d) / static_cast<double>(m), static_cast<long long>(r.k[0]),
                static_cast<long long>(seeds), p);
    EXPECT_TRUE(accepted(r.k[0], seeds, p, alpha / K))
        << "d = " << r.d << ": " << r.k[0] << " of " << seeds << " separable; Cover's P = " << p;
    if (!accepted(r.k[0], seeds, cover_probability(r.d - 2, m), alpha / K)) ++rejected_shift_down;
    if (!accepted(r.k[0], seeds, cover_probability(r.d + 2, m), alpha / K)) ++rejected_shift_up;
  }
  EXPECT_GT(rejected_shift_down, 0) << "the test cannot tell a threshold at d/m = 0.6";
  EXPECT_GT(rejected_shift_up, 0) << "the test cannot tell a threshold at d/m = 0.4";
  // The empirical 1/2 crossing of (6) lies near Cover's 1/2.
  const double x = half_crossing(rows, 0);
  std::printf("  empirical P = 1/2 crossing at d/m = %.3f (Cover: 0.5)\n", x);
  EXPECT_NEAR(x, 0.5, 0.05);
}

}  // namespace
}  // namespace ntp
