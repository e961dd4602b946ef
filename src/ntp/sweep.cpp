#include "ntp/sweep.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>
#include <utility>

#include "ntp/analyze.hpp"
#include "ntp/atomic_file.hpp"
#include "ntp/claims.hpp"
#include "ntp/compatibility.hpp"
#include "ntp/plot.hpp"
#include "ntp/rational.hpp"
#include "ntp/scalar.hpp"
#include "ntp/separability.hpp"

namespace ntp {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kWhat = "invalid sweep spec: ";
constexpr const char* kAxes = "family, V, d, m, support, alpha, seeds";

/** A value for an error message: compact JSON, cut at 80 characters. */
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

[[noreturn]] void bad(const std::string& field, const std::string& problem, const json& value) {
  throw InvalidInput(kWhat + field + " " + problem + ", got " + shown(value));
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/** a * b, or -1 when it exceeds kMaxSweepPoints. */
std::int64_t checked_product(std::int64_t a, std::int64_t b) {
  if (a < 0 || b < 0) return -1;
  if (b != 0 && a > kMaxSweepPoints / b) return -1;
  return a * b;
}

/** The integers of an axis: an integer, a list of distinct integers, or {"from", "to", "step"}. */
template <class T>
std::vector<T> integer_axis(const json& v, const std::string& field, T lo, T hi) {
  const std::string range_text = "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  const auto one = [&](const json& x, const std::string& where) -> T {
    if (!x.is_number_integer()) bad(where, "must be an integer " + range_text, x);
    if (x.is_number_unsigned()) {
      const auto u = x.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(hi) || u < static_cast<std::uint64_t>(lo)) {
        bad(where, "must be an integer " + range_text, x);
      }
      return static_cast<T>(u);
    }
    const auto s = x.get<std::int64_t>();
    if (s < 0 && std::is_unsigned_v<T>) bad(where, "must be an integer " + range_text, x);
    if (s < static_cast<std::int64_t>(lo) ||
        (!std::is_unsigned_v<T> && s > static_cast<std::int64_t>(hi))) {
      bad(where, "must be an integer " + range_text, x);
    }
    return static_cast<T>(s);
  };
  std::vector<T> out;
  if (v.is_number_integer()) {
    out.push_back(one(v, field));
  } else if (v.is_array()) {
    if (v.empty()) bad(field, "must not be an empty list", v);
    if (static_cast<std::int64_t>(v.size()) > kMaxSweepPoints) {
      bad(field, "must have at most " + std::to_string(kMaxSweepPoints) + " values", v.size());
    }
    std::set<T> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const T x = one(v[i], field + "[" + std::to_string(i) + "]");
      if (!seen.insert(x).second) bad(field, "must not repeat a value", v[i]);
      out.push_back(x);
    }
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.items()) {
      if (k != "from" && k != "to" && k != "step") {
        bad(field + "." + k, "is not a range key (from, to, step)", k);
      }
    }
    if (!v.contains("from")) bad(field + ".from", "is required in a range", v);
    if (!v.contains("to")) bad(field + ".to", "is required in a range", v);
    const T from = one(v["from"], field + ".from");
    const T to = one(v["to"], field + ".to");
    std::uint64_t step = 1;
    if (v.contains("step")) {
      const json& s = v["step"];
      if (!s.is_number_integer() || (!s.is_number_unsigned() && s.get<std::int64_t>() < 1)) {
        bad(field + ".step", "must be an integer >= 1", s);
      }
      step = s.get<std::uint64_t>();
      if (step < 1) bad(field + ".step", "must be an integer >= 1", s);
    }
    if (to < from) bad(field + ".to", "must be at least from = " + std::to_string(from), v["to"]);
    const std::uint64_t span = static_cast<std::uint64_t>(to) - static_cast<std::uint64_t>(from);
    const std::uint64_t count = span / step + 1;
    if (count > static_cast<std::uint64_t>(kMaxSweepPoints)) {
      bad(field, "must have at most " + std::to_string(kMaxSweepPoints) + " values", v);
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      out.push_back(static_cast<T>(static_cast<std::uint64_t>(from) + i * step));
    }
  } else {
    bad(field, "must be an integer, a list of integers or a range {\"from\", \"to\", \"step\"}", v);
  }
  return out;
}

std::vector<double> number_axis(const json& v, const std::string& field) {
  const auto one = [&](const json& x, const std::string& where) {
    if (!x.is_number()) bad(where, "must be a positive finite number", x);
    const double a = x.get<double>();
    if (!(a > 0) || !std::isfinite(a)) bad(where, "must be a positive finite number", x);
    return a;
  };
  std::vector<double> out;
  if (v.is_array()) {
    if (v.empty()) bad(field, "must not be an empty list", v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double a = one(v[i], field + "[" + std::to_string(i) + "]");
      if (std::find(out.begin(), out.end(), a) != out.end()) {
        bad(field, "must not repeat a value", v[i]);
      }
      out.push_back(a);
    }
  } else {
    out.push_back(one(v, field));
  }
  return out;
}

const std::vector<std::string>& sweep_families() {
  static const std::vector<std::string> f = {"gaussian", "overparameterized", "underparameterized",
                                             "one-hot",  "incompatible",      "inseparable"};
  return f;
}

std::vector<std::string> family_axis(const json& v, const std::string& field) {
  std::string known;
  for (const auto& f : sweep_families()) known += (known.empty() ? "" : ", ") + f;
  const auto one = [&](const json& x, const std::string& where) {
    if (!x.is_string()) bad(where, "must be a family name (" + known + ")", x);
    const auto s = x.get<std::string>();
    if (s == "paper-main" || s == "paper-toy") {
      bad(where, "has fixed sizes and cannot be swept (use " + known + ")", x);
    }
    if (s == "corpus") bad(where, "needs a text file and cannot be swept (use " + known + ")", x);
    if (std::find(sweep_families().begin(), sweep_families().end(), s) == sweep_families().end()) {
      bad(where, "must be one of " + known, x);
    }
    return s;
  };
  std::vector<std::string> out;
  if (v.is_array()) {
    if (v.empty()) bad(field, "must not be an empty list", v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto s = one(v[i], field + "[" + std::to_string(i) + "]");
      if (std::find(out.begin(), out.end(), s) != out.end()) {
        bad(field, "must not repeat a value", v[i]);
      }
      out.push_back(std::move(s));
    }
  } else {
    out.push_back(one(v, field));
  }
  return out;
}

SweepAxes parse_axes(const json& g, const std::string& path) {
  if (!g.is_object()) bad(path, "must be an object of axes (" + std::string(kAxes) + ")", g);
  for (const auto& [k, v] : g.items()) {
    if (k == "overlap") {
      bad(path + ".overlap",
          "is not an axis: no generator family has an overlap parameter (supports are uniformly "
          "random |S_j|-subsets of the V tokens, so overlap is set by support and V)",
          v);
    }
    if (k != "family" && k != "V" && k != "d" && k != "m" && k != "support" && k != "alpha" &&
        k != "seeds") {
      bad(path + "." + k, "is not a grid axis (axes: " + std::string(kAxes) + ")", k);
    }
  }
  for (const char* req : {"family", "V", "d", "m", "seeds"}) {
    if (!g.contains(req)) bad(path + "." + req, "is required", g);
  }
  SweepAxes a;
  a.family = family_axis(g["family"], path + ".family");
  a.V = integer_axis<std::int64_t>(g["V"], path + ".V", 2, SizeLimits::kMaxVocab);
  a.d = integer_axis<std::int64_t>(g["d"], path + ".d", 1, SizeLimits::kMaxDim);
  a.m = integer_axis<std::int64_t>(g["m"], path + ".m", 1, SizeLimits::kMaxContexts);
  if (g.contains("support")) {
    a.support =
        integer_axis<std::int64_t>(g["support"], path + ".support", 1, SizeLimits::kMaxVocab - 1);
  } else {
    const bool all_one_hot =
        std::all_of(a.family.begin(), a.family.end(), [](const auto& f) { return f == "one-hot"; });
    if (!all_one_hot) {
      bad(path + ".support", "is required unless every family is one-hot", g["family"]);
    }
    a.support = {1};
  }
  a.alpha = g.contains("alpha") ? number_axis(g["alpha"], path + ".alpha") : std::vector{1.0};
  a.seeds = integer_axis<std::uint64_t>(g["seeds"], path + ".seeds", 0,
                                        std::numeric_limits<std::uint64_t>::max());
  if (a.size() < 0) {
    bad(path, "must have at most " + std::to_string(kMaxSweepPoints) + " points", g);
  }
  return a;
}

SweepTask parse_task(const json& t) {
  SweepTask task;
  std::string name;
  json opts = json::object();
  if (t.is_string()) {
    name = t.get<std::string>();
  } else if (t.is_object()) {
    if (!t.contains("name") || !t["name"].is_string()) {
      bad("task.name", "must be a string (conditions, analyze or check)",
          t.contains("name") ? t["name"] : json(nullptr));
    }
    name = t["name"].get<std::string>();
    opts = t;
    opts.erase("name");
  } else {
    bad("task", "must be a task name or an object with \"name\"", t);
  }
  const auto allow = [&](std::initializer_list<const char*> keys) {
    for (const auto& [k, v] : opts.items()) {
      bool ok = false;
      for (const char* a : keys) ok = ok || k == a;
      if (!ok) bad("task." + k, "is not an option of task " + name, k);
    }
  };
  const auto positive = [&](const char* key, double& out) {
    if (!opts.contains(key)) return;
    const json& v = opts[key];
    if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>())) {
      bad(std::string("task.") + key, "must be a positive finite number", v);
    }
    out = v.get<double>();
  };
  const auto precision = [&](bool analyze_only) {
    if (!opts.contains("precision")) return;
    const json& v = opts["precision"];
    if (!v.is_string()) bad("task.precision", "must be a precision name", v);
    PrecisionSpec p;
    try {
      p = parse_precision(v.get<std::string>(), "task.precision");
    } catch (const InvalidInput& e) {
      throw InvalidInput(kWhat + std::string(e.what()));
    }
    if (analyze_only && p.kind != Precision::kDouble && p.kind != Precision::kLongDouble &&
        p.kind != Precision::kFloat128 && p.kind != Precision::kMpfr) {
      bad("task.precision", "must be double, long-double, float128 or mpfr:N for analyze", v);
    }
    task.precision = p.name();
  };
  if (name == "conditions") {
    allow({});
    task.kind = SweepTaskKind::kConditions;
    task.canonical = {{"name", name}};
  } else if (name == "analyze") {
    allow({"excess", "precision"});
    task.kind = SweepTaskKind::kAnalyze;
    positive("excess", task.excess);
    precision(true);
    task.canonical = {{"name", name}, {"excess", task.excess}, {"precision", task.precision}};
  } else if (name == "check") {
    allow({"claims", "budget", "steps", "precision"});
    task.kind = SweepTaskKind::kCheck;
    if (opts.contains("claims")) {
      const json& c = opts["claims"];
      if (!c.is_array() || c.empty()) bad("task.claims", "must be a non-empty list of claims", c);
      const auto names = claim_names();
      for (const auto& x : c) {
        if (!x.is_string() ||
            std::find(names.begin(), names.end(), x.get<std::string>()) == names.end()) {
          std::string known;
          for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
          bad("task.claims", "must name claims among " + known, x);
        }
        task.claims.push_back(x.get<std::string>());
      }
    }
    positive("budget", task.budget);
    if (opts.contains("steps")) {
      if (!opts["steps"].is_number_integer()) {
        bad("task.steps", "must be an integer in [1, 1000000000]", opts["steps"]);
      }
      task.steps = integer_axis<std::int64_t>(opts["steps"], "task.steps", 1, 1'000'000'000)[0];
    }
    precision(false);
    task.canonical = {{"name", name},
                      {"claims", task.claims.empty() ? claim_names() : task.claims},
                      {"budget", task.budget},
                      {"steps", task.steps},
                      {"precision", task.precision}};
  } else {
    bad("task.name", "must be conditions, analyze or check", name);
  }
  return task;
}

/** Decode of an index within one grid: the axis positions, innermost (seeds) last. */
SweepParams decode(const SweepAxes& a, std::int64_t i) {
  SweepParams p;
  const auto take = [&i](std::size_t n) {
    const auto k = static_cast<std::size_t>(i % static_cast<std::int64_t>(n));
    i /= static_cast<std::int64_t>(n);
    return k;
  };
  p.seed = a.seeds[take(a.seeds.size())];
  p.d = a.d[take(a.d.size())];
  p.alpha = a.alpha[take(a.alpha.size())];
  p.support = a.support[take(a.support.size())];
  p.m = a.m[take(a.m.size())];
  p.V = a.V[take(a.V.size())];
  p.family = a.family[take(a.family.size())];
  return p;
}

std::string describe(const SweepParams& p) {
  return p.family + " V=" + std::to_string(p.V) + " d=" + std::to_string(p.d) +
         " m=" + std::to_string(p.m) + " support=" + std::to_string(p.support) +
         " alpha=" + dump(json(p.alpha)) + " seed=" + std::to_string(p.seed);
}

json strip_timings(const json& j) {
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) {
      if (k == "seconds" || k == "timings") continue;
      out[k] = strip_timings(v);
    }
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const auto& v : j) out.push_back(strip_timings(v));
    return out;
  }
  return j;
}

Verdict combine_both(Verdict a, Verdict b) {
  if (a == Verdict::kViolated || b == Verdict::kViolated) return Verdict::kViolated;
  if (a == Verdict::kHolds && b == Verdict::kHolds) return Verdict::kHolds;
  return Verdict::kInconclusive;
}

json conditions_result(const InstanceData& data) {
  CompatibilityOptions copt;
  copt.compute_w_star = false;
  const CompatibilityResult comp = check_compatibility(data, copt);
  Verdict cv = comp.verdict;
  json c = {{"certificate", to_string(comp.certificate)},
            {"equations", comp.num_equations},
            {"rank", comp.rank},
            {"left_null_dim", comp.left_null_dim}};
  bool c_ok = false;
  std::string why;
  if (cv == Verdict::kHolds) {
    c_ok = verify_compatibility_certificate(data, comp.left_null_space, &why, copt);
  } else if (cv == Verdict::kViolated) {
    c_ok = verify_incompatibility_certificate(data, comp.y, copt);
    if (!c_ok) why = "A^T y = 0 and y . log r != 0 not both proved";
  } else {
    why = comp.reason;
  }
  if (!c_ok && cv != Verdict::kInconclusive) {
    why = "certificate rejected by the independent verifier: " + why;
    cv = Verdict::kInconclusive;
  }
  c["verdict"] = to_string(cv);
  c["verified"] = c_ok;
  if (cv == Verdict::kInconclusive) c["reason"] = why;

  const SeparabilityResult sep = decide_separability(data);
  Verdict sv = sep.verdict;
  json s = {{"certificate", to_string(sep.certificate.kind)},
            {"rank", sep.rank},
            {"lp_columns", sep.lp_columns},
            {"equalities", sep.lp_equalities},
            {"inequalities", sep.lp_inequalities}};
  bool s_ok = false;
  why.clear();
  if (sv != Verdict::kInconclusive) {
    s_ok = verify_separability_certificate(data, sep.certificate, &why);
    if (!s_ok) {
      why = "certificate rejected by the independent verifier: " + why;
      sv = Verdict::kInconclusive;
    }
  } else {
    why = sep.reason;
  }
  s["verdict"] = to_string(sv);
  s["verified"] = s_ok;
  if (sv == Verdict::kInconclusive) s["reason"] = why;

  const Verdict both = combine_both(cv, sv);
  const bool decided = cv != Verdict::kInconclusive && sv != Verdict::kInconclusive;
  return {{"compatibility", c},
          {"separability", s},
          {"both", to_string(both)},
          {"exit", decided ? 0 : static_cast<int>(ExitCode::kInconclusive)}};
}

json analyze_result(const InstanceData& data, const SweepTask& task) {
  AnalyzeOptions opt;
  opt.precision = parse_precision(task.precision, "task.precision");
  opt.attainment.epsilon = task.excess;
  const AnalyzeResult res = analyze(data, opt);
  return {{"exit", static_cast<int>(res.exit)}, {"report", strip_timings(res.report)}};
}

json check_result(const InstanceData& data, const SweepTask& task) {
  CheckOptions o;
  o.claims = task.claims;
  o.budget_seconds = task.budget;
  o.steps = task.steps;
  o.precision = parse_precision(task.precision, "task.precision");
  const auto rs = check_claims(data, o);
  json claims = json::array();
  for (const auto& c : rs) {
    const json full = claim_to_json(c);
    json one;
    for (const char* k : {"name", "verdict", "measured", "bound", "reason"}) {
      if (full.contains(k)) one[k] = full[k];
    }
    claims.push_back(one);
  }
  return {{"exit", static_cast<int>(claims_exit_code(rs))}, {"claims", claims}};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

/** Reads a whole file; IoError naming it. */
std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    throw IoError("sweep directory: cannot read " + p.string() + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw IoError("sweep directory: cannot read " + p.string());
  return s.str();
}

/** The shard files of a directory, sorted by name. */
std::vector<std::string> shard_files(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 12 && n.rfind("shard-", 0) == 0 && n.compare(n.size() - 6, 6, ".jsonl") == 0 &&
        e.is_regular_file(ec)) {
      names.push_back(n);
    }
  }
  if (ec) throw IoError("sweep directory: cannot list " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

/** Why a line is not a record, or "" when it is one. */
std::string record_defect(const json& r) {
  if (!r.is_object()) return "not a JSON object";
  if (!r.contains("params") || !r["params"].is_object()) return "no \"params\" object";
  if (!r.contains("task") || !r["task"].is_object()) return "no \"task\" object";
  if (!r.contains("result") || !r["result"].is_object()) return "no \"result\" object";
  const json& e = r["result"].contains("exit") ? r["result"]["exit"] : json(nullptr);
  if (!e.is_number_integer()) return "no integer \"result\".\"exit\"";
  const auto x = e.get<std::int64_t>();
  if (x != 0 && x != 1 && x != 2 && x != 4) return "\"result\".\"exit\" not 0, 1, 2 or 4";
  return "";
}

ShardScan scan_shards(const std::string& dir, bool truncate) {
  ShardScan out;
  out.files = shard_files(dir);
  for (const std::string& name : out.files) {
    const fs::path p = fs::path(dir) / name;
    const std::string bytes = read_all(p);
    std::size_t pos = 0;
    std::int64_t line_no = 0;
    while (pos < bytes.size()) {
      const std::size_t nl = bytes.find('\n', pos);
      if (nl == std::string::npos) {
        // A last line without its newline: cut by a kill mid-write. Ignored; removed on resume.
        if (truncate) {
          if (::truncate(p.c_str(), static_cast<off_t>(pos)) != 0) {
            throw IoError("sweep directory: cannot truncate the partial last line of " +
                          p.string() + ": " + std::strerror(errno));
          }
          out.truncated_bytes += static_cast<std::int64_t>(bytes.size() - pos);
        }
        break;
      }
      ++line_no;
      const std::string line = bytes.substr(pos, nl - pos);
      pos = nl + 1;
      const json r = json::parse(line, nullptr, false);
      const std::string defect = r.is_discarded() ? "not valid JSON" : record_defect(r);
      if (!defect.empty()) {
        throw InvalidInput("invalid sweep directory: " + p.string() + " line " +
                           std::to_string(line_no) + " is not a sweep record (" + defect +
                           "), got " + shown(json(line.substr(0, 60))));
      }
      ++out.lines;
      const std::string key = point_key(r["params"], r["task"]);
      if (!out.finished.emplace(key, r).second) ++out.duplicates;
    }
  }
  return out;
}

std::string csv_num(double x, const char* f = "%.6g") {
  if (!std::isfinite(x)) return "nan";
  char buf[40];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

const char* const kConditionNames[3] = {"separable", "compatible", "both"};

std::string group_label(const PhaseRow& r) {
  std::string s = r.family + " V=" + std::to_string(r.V) + " |S|=" + std::to_string(r.support) +
                  " m=" + std::to_string(r.m);
  if (r.alpha != 1.0) s += " alpha=" + dump(json(r.alpha));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Spec and grid

std::int64_t SweepAxes::size() const {
  std::int64_t n = 1;
  for (const std::size_t k :
       {family.size(), V.size(), m.size(), support.size(), alpha.size(), d.size(), seeds.size()}) {
    n = checked_product(n, static_cast<std::int64_t>(k));
  }
  return n;
}

SweepSpec parse_sweep_spec(const json& j) {
  if (!j.is_object()) bad("(document)", "must be a JSON object", j);
  for (const auto& [k, v] : j.items()) {
    if (k != "format" && k != "version" && k != "description" && k != "task" && k != "grid") {
      bad(k, "is not a spec key (format, version, description, task, grid)", k);
    }
  }
  if (j.contains("format") && j["format"] != "ntp-sweep-spec") {
    bad("format", "must be \"ntp-sweep-spec\"", j["format"]);
  }
  if (j.contains("version") && j["version"] != 1) bad("version", "must be 1", j["version"]);
  if (j.contains("description") && !j["description"].is_string()) {
    bad("description", "must be a string", j["description"]);
  }
  if (!j.contains("task")) bad("task", "is required", j);
  if (!j.contains("grid")) bad("grid", "is required", j);
  SweepSpec spec;
  spec.source = j;
  spec.task = parse_task(j["task"]);
  const json& g = j["grid"];
  if (g.is_array()) {
    if (g.empty()) bad("grid", "must not be an empty list", g);
    for (std::size_t i = 0; i < g.size(); ++i) {
      spec.grids.push_back(parse_axes(g[i], "grid[" + std::to_string(i) + "]"));
    }
  } else {
    spec.grids.push_back(parse_axes(g, "grid"));
  }
  for (const auto& a : spec.grids) {
    spec.size += a.size();
    if (spec.size > kMaxSweepPoints) {
      bad("grid", "must have at most " + std::to_string(kMaxSweepPoints) + " points in all",
          spec.size);
    }
  }
  return spec;
}

SweepSpec read_sweep_spec(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw IoError("sweep spec " + path + ": is a directory, not a JSON file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("sweep spec " + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  const json j = json::parse(s.str(), nullptr, false);
  if (j.is_discarded()) {
    throw InvalidInput("invalid sweep spec: " + path + " JSON syntax error, got " +
                       shown(json(s.str().substr(0, 60))));
  }
  return parse_sweep_spec(j);
}

SweepParams sweep_point(const SweepSpec& spec, std::int64_t index) {
  if (index < 0 || index >= spec.size) {
    throw InternalError("sweep_point: index " + std::to_string(index) + " outside [0, " +
                        std::to_string(spec.size) + ")");
  }
  for (const auto& a : spec.grids) {
    const std::int64_t n = a.size();
    if (index < n) return decode(a, index);
    index -= n;
  }
  throw InternalError("sweep_point: grid sizes do not add up");
}

void check_sweep_points(const SweepSpec& spec) {
  for (const auto& a : spec.grids) {
    // One point per combination of the non-seed axes: its first seed.
    const std::int64_t combos = a.size() / static_cast<std::int64_t>(a.seeds.size());
    for (std::int64_t c = 0; c < combos; ++c) {
      const SweepParams p = decode(a, c * static_cast<std::int64_t>(a.seeds.size()));
      try {
        (void)generate(generator_options(p));
      } catch (const InvalidInput& e) {
        throw InvalidInput(std::string(kWhat) + "grid point " + describe(p) + ": " + e.what());
      }
    }
  }
}

std::string generator_family(const SweepParams& p) {
  if (p.family == "gaussian") return p.d < p.m ? "underparameterized" : "overparameterized";
  return p.family;
}

GeneratorOptions generator_options(const SweepParams& p) {
  GeneratorOptions g;
  g.family = generator_family(p);
  g.seed = p.seed;
  g.vocab_size = p.V;
  g.embedding_dim = p.d;
  g.num_contexts = p.m;
  g.support_size = p.support;
  g.dirichlet_alpha = p.alpha;
  return g;
}

json params_to_json(const SweepParams& p) {
  return {{"family", p.family},   {"V", p.V},         {"d", p.d},      {"m", p.m},
          {"support", p.support}, {"alpha", p.alpha}, {"seed", p.seed}};
}

std::string reproduce_command(const SweepParams& p, const SweepTask& task) {
  std::string s = "ntpcheck generate " + generator_family(p) + " --seed " + std::to_string(p.seed) +
                  " -V " + std::to_string(p.V) + " -d " + std::to_string(p.d) + " -m " +
                  std::to_string(p.m) + " -k " + std::to_string(p.support);
  if (p.alpha != 1.0) s += " --alpha " + dump(json(p.alpha));
  switch (task.kind) {
    case SweepTaskKind::kConditions:
      return s + " | ntpcheck analyze -";
    case SweepTaskKind::kAnalyze:
      return s + " | ntpcheck analyze - --excess " + dump(json(task.excess)) + " --precision " +
             task.precision;
    case SweepTaskKind::kCheck: {
      s += " | ntpcheck check -";
      if (!task.claims.empty()) {
        std::string list;
        for (const auto& c : task.claims) list += (list.empty() ? "" : ",") + c;
        s += " --claims " + list;
      }
      return s + " --budget " + dump(json(task.budget)) + " --steps " + std::to_string(task.steps) +
             " --precision " + task.precision;
    }
  }
  return s;
}

std::string point_key(const json& params, const json& task) {
  return dump(params) + "|" + dump(task);
}

json run_sweep_point(const SweepSpec& spec, std::int64_t index) {
  const SweepParams p = sweep_point(spec, index);
  json rec;
  rec["index"] = index;
  rec["params"] = params_to_json(p);
  rec["generator"] = generator_family(p);
  rec["seed"] = p.seed;
  rec["reproduce"] = reproduce_command(p, spec.task);
  rec["task"] = spec.task.canonical;
  json result;
  try {
    const InstanceData data = generate(generator_options(p));
    switch (spec.task.kind) {
      case SweepTaskKind::kConditions:
        result = conditions_result(data);
        break;
      case SweepTaskKind::kAnalyze:
        result = analyze_result(data, spec.task);
        break;
      case SweepTaskKind::kCheck:
        result = check_result(data, spec.task);
        break;
    }
  } catch (const std::bad_alloc&) {
    result = {{"exit", static_cast<int>(ExitCode::kInternalError)}, {"error", "out of memory"}};
  } catch (const std::exception& e) {
    result = {{"exit", static_cast<int>(ExitCode::kInternalError)}, {"error", e.what()}};
  }
  rec["result"] = result;
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Directory, shards, merge

std::string shard_file_name(int rank) { return "shard-" + std::to_string(rank) + ".jsonl"; }

SweepDirectory::SweepDirectory(const std::string& dir, const SweepSpec& spec) : dir_(dir) {
  prepare_directory(dir);
  const std::string lock = (fs::path(dir) / ".lock").string();
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (lock_fd_ < 0)
    throw IoError("sweep directory: cannot open " + lock + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw InvalidInput("invalid option: --out is in use by another running sweep (" + lock +
                         " is locked), got " + dir);
    }
    throw IoError("sweep directory: cannot lock " + lock + ": " + std::strerror(err));
  }
  write_file_atomic((fs::path(dir) / "spec.json").string(), spec.source.dump(2) + "\n");
}

SweepDirectory::~SweepDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

ShardScan SweepDirectory::scan() { return scan_shards(dir_, true); }

std::vector<std::int64_t> pending_points(const SweepSpec& spec, const ShardScan& scan) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < spec.size; ++i) {
    if (scan.finished.empty() || scan.finished.count(point_key(params_to_json(sweep_point(spec, i)),
                                                               spec.task.canonical)) == 0) {
      out.push_back(i);
    }
  }
  return out;
}

ShardWriter::ShardWriter(const std::string& dir, int rank)
    : path_((fs::path(dir) / shard_file_name(rank)).string()), rank_(rank), host_(host_name()) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) throw IoError("sweep shard " + path_ + ": cannot open: " + std::strerror(errno));
}

ShardWriter::~ShardWriter() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): errors are reported by an explicit close()
  }
}

void ShardWriter::append(json record, double seconds) {
  if (fd_ < 0) throw IoError("sweep shard " + path_ + ": append after close");
  record["seconds"] = seconds;
  record["rank"] = rank_;
  record["host"] = host_;
  const std::string line = dump(record) + "\n";
  // One write(2) per line (O_APPEND): a kill leaves either the whole line or a prefix without
  // its newline, which scan() removes.
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("sweep shard " + path_ + ": write failed: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

void ShardWriter::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  const bool synced = ::fdatasync(fd) == 0 || errno == EINVAL;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    throw IoError("sweep shard " + path_ + ": " +
                  (!synced ? std::string("fdatasync failed: ") + std::strerror(sync_errno)
                           : std::string("close failed")));
  }
}

SweepRunStats run_sweep_points(const SweepSpec& spec, const std::string& dir,
                               const std::vector<std::int64_t>& todo,
                               const SweepRunOptions& options) {
  SweepRunStats st;
  const auto t0 = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  ShardWriter w(dir, options.rank);
  for (const std::int64_t i : todo) {
    if (options.max_seconds > 0 && elapsed() > options.max_seconds) {
      st.stopped_by_budget = true;
      break;
    }
    const auto t = Clock::now();
    json rec = run_sweep_point(spec, i);
    w.append(std::move(rec), std::chrono::duration<double>(Clock::now() - t).count());
    ++st.computed;
    if (options.progress) options.progress(st.computed, static_cast<std::int64_t>(todo.size()));
  }
  w.close();
  st.seconds = elapsed();
  return st;
}

SweepMerge merge_sweep(const SweepSpec& spec, const std::string& dir) {
  const ShardScan scan = scan_shards(dir, false);
  SweepMerge m;
  m.points = spec.size;
  bool error = false, violated = false, inconclusive = false;
  std::string out;
  for (std::int64_t i = 0; i < spec.size; ++i) {
    const SweepParams p = sweep_point(spec, i);
    json params = params_to_json(p);
    const auto it = scan.finished.find(point_key(params, spec.task.canonical));
    if (it == scan.finished.end()) {
      inconclusive = true;
      continue;
    }
    json line;
    line["index"] = i;
    line["params"] = std::move(params);
    line["generator"] = generator_family(p);
    line["seed"] = p.seed;
    line["reproduce"] = reproduce_command(p, spec.task);
    line["task"] = spec.task.canonical;
    line["result"] = it->second["result"];
    const auto e = line["result"]["exit"].get<std::int64_t>();
    m.exit_counts[std::to_string(e)] += 1;
    error = error || e == 4;
    violated = violated || e == 1;
    inconclusive = inconclusive || e == 2;
    out += dump(line) + "\n";
    m.records.push_back(std::move(line));
    ++m.finished;
  }
  m.exit = error          ? ExitCode::kInternalError
           : violated     ? ExitCode::kViolated
           : inconclusive ? ExitCode::kInconclusive
                          : ExitCode::kAllHold;
  write_file_atomic((fs::path(dir) / "results.jsonl").string(), out);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Phase diagram

double cover_probability(std::int64_t d, std::int64_t m) {
  if (m < 1 || d < 0 || m > 10000) return std::nan("");
  // C(m-1, k) for k = 0 .. min(d, m) - 1, summed exactly.
  BigInt sum = 0;
  BigInt c = 1;
  for (std::int64_t k = 0; k < std::min(d, m); ++k) {
    if (k > 0) c = c * (m - k) / k;  // C(m-1, k) = C(m-1, k-1) (m-k) / k, exact
    sum += c;
  }
  const BigInt den = BigInt(1) << static_cast<unsigned>(m - 1);
  return rational_to_double(Rational(sum, den));
}

Interval wilson_interval(std::int64_t x, std::int64_t n, double z) {
  if (n <= 0) return {0, 1};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(x) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  // The bounds are exactly 0 at x = 0 and exactly 1 at x = n (center -+ half cancel).
  return {x == 0 ? 0.0 : std::max(0.0, center - half), x == n ? 1.0 : std::min(1.0, center + half)};
}

std::vector<PhaseRow> phase_rows(const std::vector<json>& records) {
  std::vector<std::string> group_keys;
  std::map<std::pair<int, std::int64_t>, PhaseRow> rows;
  for (const json& r : records) {
    const json& p = r.at("params");
    const std::string gk =
        dump(json{p.at("family"), p.at("V"), p.at("support"), p.at("alpha"), p.at("m")});
    auto git = std::find(group_keys.begin(), group_keys.end(), gk);
    if (git == group_keys.end()) git = group_keys.insert(group_keys.end(), gk);
    const int g = static_cast<int>(git - group_keys.begin()) + 1;
    const std::int64_t d = p.at("d").get<std::int64_t>();
    PhaseRow& row = rows[{g, d}];
    if (row.points == 0) {
      row.group = g;
      row.family = p.at("family").get<std::string>();
      row.V = p.at("V").get<std::int64_t>();
      row.support = p.at("support").get<std::int64_t>();
      row.alpha = p.at("alpha").get<double>();
      row.m = p.at("m").get<std::int64_t>();
      row.d = d;
      row.cover =
          row.family == "one-hot" && row.V == 2 ? cover_probability(d, row.m) : std::nan("");
    }
    ++row.points;
    const json& res = r.at("result");
    const auto verdict_of = [&](const char* which) -> std::string {
      if (std::string(which) == "both") {
        return res.contains("both") ? res["both"].get<std::string>() : "inconclusive";
      }
      if (!res.contains(which) || !res[which].contains("verdict")) return "inconclusive";
      return res[which]["verdict"].get<std::string>();
    };
    const std::string v[3] = {verdict_of("separability"), verdict_of("compatibility"),
                              verdict_of("both")};
    bool undecided = false;
    for (int c = 0; c < 3; ++c) {
      if (v[c] == "holds" || v[c] == "violated") {
        ++row.n[c];
        if (v[c] == "holds") ++row.k[c];
      } else {
        undecided = true;
      }
    }
    if (undecided) ++row.inconclusive;
  }
  std::vector<PhaseRow> out;
  for (auto& [k, r] : rows) out.push_back(r);
  return out;
}

namespace {

/** The first x at which the piecewise linear curve through (x_i, p_i) (x ascending) meets 1/2. */
double crossing_of(const std::vector<std::pair<double, double>>& xp) {
  for (std::size_t i = 0; i < xp.size(); ++i) {
    const auto [x, p] = xp[i];
    if (p == 0.5) return x;
    if (i > 0) {
      const auto [x0, p0] = xp[i - 1];
      if ((p0 - 0.5) * (p - 0.5) < 0) return x0 + (0.5 - p0) * (x - x0) / (p - p0);
    }
  }
  return std::nan("");
}

}  // namespace

double half_crossing(const std::vector<PhaseRow>& group_rows, int condition) {
  std::vector<std::pair<double, double>> xp;
  for (const PhaseRow& r : group_rows) {
    if (r.n[condition] == 0) continue;
    xp.emplace_back(static_cast<double>(r.d) / static_cast<double>(r.m),
                    static_cast<double>(r.k[condition]) / static_cast<double>(r.n[condition]));
  }
  return crossing_of(xp);
}

PhaseOutput write_phase(const std::vector<PhaseRow>& rows, const std::string& dir, bool plots,
                        const std::string& gnuplot) {
  PhaseOutput out;
  const fs::path d(dir);
  // phase.csv
  std::string csv =
      "group,family,V,support,alpha,m,d,d_over_m,points,inconclusive,"
      "separable_n,separable_k,p_separable,separable_lo,separable_hi,"
      "compatible_n,compatible_k,p_compatible,compatible_lo,compatible_hi,"
      "both_n,both_k,p_both,both_lo,both_hi,cover\n";
  int groups = 0;
  double max_x = 0;
  for (const PhaseRow& r : rows) {
    groups = std::max(groups, r.group);
    const double x = static_cast<double>(r.d) / static_cast<double>(r.m);
    max_x = std::max(max_x, x);
    csv += std::to_string(r.group) + "," + r.family + "," + std::to_string(r.V) + "," +
           std::to_string(r.support) + "," + dump(json(r.alpha)) + "," + std::to_string(r.m) + "," +
           std::to_string(r.d) + "," + csv_num(x, "%.17g") + "," + std::to_string(r.points) + "," +
           std::to_string(r.inconclusive);
    for (int c = 0; c < 3; ++c) {
      const Interval w = wilson_interval(r.k[c], r.n[c]);
      const double p =
          r.n[c] > 0 ? static_cast<double>(r.k[c]) / static_cast<double>(r.n[c]) : std::nan("");
      csv += "," + std::to_string(r.n[c]) + "," + std::to_string(r.k[c]) + "," + csv_num(p) + "," +
             csv_num(r.n[c] > 0 ? w.lo : std::nan("")) + "," +
             csv_num(r.n[c] > 0 ? w.hi : std::nan(""));
    }
    csv += "," + csv_num(r.cover) + "\n";
  }
  write_file_atomic((d / "phase.csv").string(), csv);
  out.files.push_back("phase.csv");

  // Groups and their 1/2 crossings.
  json gs = json::array();
  std::vector<std::string> labels(static_cast<std::size_t>(groups));
  std::vector<bool> has_cover(static_cast<std::size_t>(groups), false);
  std::vector<std::int64_t> group_m(static_cast<std::size_t>(groups), 0);
  for (int g = 1; g <= groups; ++g) {
    std::vector<PhaseRow> gr;
    for (const PhaseRow& r : rows) {
      if (r.group == g) gr.push_back(r);
    }
    if (gr.empty()) continue;
    const PhaseRow& f = gr.front();
    labels[static_cast<std::size_t>(g - 1)] = group_label(f);
    group_m[static_cast<std::size_t>(g - 1)] = f.m;
    json cross;
    for (int c = 0; c < 3; ++c) {
      const double x = half_crossing(gr, c);
      cross[kConditionNames[c]] = std::isfinite(x) ? json(x) : json(nullptr);
    }
    json gj = {{"group", g},
               {"label", group_label(f)},
               {"family", f.family},
               {"V", f.V},
               {"support", f.support},
               {"alpha", f.alpha},
               {"m", f.m},
               {"d_range", {gr.front().d, gr.back().d}},
               {"half_crossing_d_over_m", cross}};
    if (std::isfinite(f.cover)) {
      has_cover[static_cast<std::size_t>(g - 1)] = true;
      // Cover's own crossing, interpolated on the same d grid (d/m = 1/2 exactly for even m,
      // where P = 1/2 by the symmetry C(m-1, k) = C(m-1, m-1-k)).
      std::vector<std::pair<double, double>> xp;
      for (const PhaseRow& r : gr) {
        xp.emplace_back(static_cast<double>(r.d) / static_cast<double>(r.m), r.cover);
      }
      const double x = crossing_of(xp);
      gj["cover_half_crossing_d_over_m"] = std::isfinite(x) ? json(x) : json(nullptr);
    }
    gs.push_back(gj);
  }

  // phase.gp
  std::string gp =
      "# phase.gp: generated by ntpcheck sweep: P(NTP-separability (6)), P(compatibility (C)) and\n"
      "# P(both) against d/m, with Wilson 95% intervals (phase.csv).\n"
      "# Run in this directory: gnuplot phase.gp  (writes phase.png when gnuplot has a png\n"
      "# terminal, and phase.svg)\n"
      "if (!exists('out_prefix')) out_prefix = ''\n"
      "set encoding utf8\n"
      "set datafile separator ','\n"
      "set datafile columnheaders\n"
      "fin(v) = (v == v && abs(v) <= 1.7e308) ? v : NaN\n"
      "gx(g) = (column('group') == g) ? column('d_over_m') : NaN\n"
      "png_term = ''\n"
      "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) { png_term = 'pngcairo' } else "
      "{ if (strstrt(' '.GPVAL_TERMINALS.' ', ' png ') > 0) { png_term = 'png' } }\n"
      "print 'ntpcheck png terminal: '.png_term\n"
      "fmts = (png_term ne '' ? 'png ' : '').'svg'\n"
      "do for [fmt in fmts] {\n"
      "  if (fmt eq 'png') { eval('set terminal '.png_term.' size 1650,560 enhanced background "
      "rgb \"white\"') } else { set terminal svg size 1650,560 enhanced font 'Sans,12' "
      "background rgb 'white' }\n"
      "  set output out_prefix.'phase.'.fmt\n"
      "  set multiplot layout 1,3 title 'Random instances: probability that each condition "
      "holds (Wilson 95% intervals)'\n"
      "  set xlabel 'd / m'\n  set ylabel 'fraction of instances'\n"
      "  set xrange [0:" +
      csv_num(max_x * 1.02 + 1e-9, "%.6g") +
      "]\n  set yrange [-0.03:1.03]\n  set grid\n"
      "  set key box opaque font ',9' spacing 0.9\n"
      "  set arrow 1 from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 3 lc rgb '#888888'\n";
  const char* titles[3] = {"NTP-separability (6)", "NTP_H-compatibility (C)", "both (C) and (6)"};
  const char* cols[3] = {"separable", "compatible", "both"};
  for (int c = 0; c < 3; ++c) {
    // One key of the groups, in the (C) panel's lower right corner ((C) holds from smaller d/m
    // on than (6), so that corner is usually free); the other panels name only Cover's curves.
    gp += "  set key bottom right\n  set title " + gp_quote(titles[c]) + "\n  plot ";
    bool first = true;
    int covers = 0;
    for (int g = 1; g <= groups; ++g) {
      const auto gi = static_cast<std::size_t>(g - 1);
      const std::string& label = labels[gi];
      if (label.empty()) continue;
      const std::string gs_ = std::to_string(g);
      gp += std::string(first ? "" : ", \\\n       ") + "'phase.csv' using (gx(" + gs_ +
            ")):(fin(column('p_" + cols[c] + "'))):(fin(column('" + cols[c] +
            "_lo'))):(fin(column('" + cols[c] + "_hi'))) with yerrorlines lw 1.5 pt 7 ps 0.6 lc " +
            gs_ + (c == 1 ? " title " + gp_quote(label) + " noenhanced" : " notitle");
      first = false;
      if (has_cover[gi] && c != 1) {
        gp += ", \\\n       'phase.csv' using (gx(" + gs_ +
              ")):(fin(column('cover'))) with lines lw 2 dt " + std::to_string(2 + covers++) +
              " lc rgb 'black' title " +
              gp_quote("Cover's formula, m = " + std::to_string(group_m[gi])) + " noenhanced";
      }
    }
    gp += "\n";
  }
  gp += "  unset multiplot\n  set output\n}\n";
  write_file_atomic((d / "phase.gp").string(), gp);
  out.files.push_back("phase.gp");

  PlotOutcome po;
  if (!plots) {
    po.status = "skipped: plots disabled";
  } else if (rows.empty()) {
    po.status = "skipped: no finished point";
  } else if (const auto exe = find_executable(gnuplot); !exe) {
    po.status = "skipped: gnuplot not found ('" + gnuplot + "' is not an executable" +
                (gnuplot.find('/') == std::string::npos ? " on PATH" : "") + ")";
  } else {
    po = make_plots(*exe, d, {"phase"});
    for (const auto& f : po.files) out.files.push_back(f);
  }
  out.plot_status = po.status;

  json s;
  s["format"] = "ntp-sweep-phase";
  s["version"] = 1;
  s["confidence"] = "Wilson score interval, 95% (z = 1.959963984540054)";
  s["groups"] = gs;
  s["rows"] = rows.size();
  s["plot_status"] = po.status;
  std::vector<std::string> files = out.files;
  files.emplace_back("phase.json");
  s["files"] = files;
  out.summary = s;
  write_file_atomic((d / "phase.json").string(), s.dump(2) + "\n");
  out.files.push_back("phase.json");
  return out;
}

}  // namespace ntp
