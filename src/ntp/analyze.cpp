#include "ntp/analyze.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "ntp/compatibility.hpp"
#include "ntp/max_margin.hpp"
#include "ntp/separability.hpp"
#include "ntp/subspace.hpp"
#include "ntp/w_star.hpp"

namespace ntp {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/** The minimum-norm solution of (C) in type S (SVD, subspace.hpp) and its largest entrywise
 * distance from the exact centre W_mid of the certified enclosure. */
template <class S>
json w_star_in_precision(const InstanceData& data, const std::vector<Rational>& w_mid,
                         double radius, const std::string& name) {
  using std::log;
  const Instance<S> inst = to_scalar<S>(data);
  const SubspaceBasisT<S> f = subspace_basis(inst);
  const std::vector<AnchorRow> rows = anchor_rows(data);
  Vector<S> rhs(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    rhs(static_cast<Eigen::Index>(k)) = log(ScalarTraits<S>::from_rational(rows[k].ratio));
  }
  Vector<S> w = Vector<S>::Zero(inst.V * inst.d);
  if (f.rank > 0) {
    const Vector<S> c = (f.left.transpose() * rhs).cwiseQuotient(f.singular_values.head(f.rank));
    w = f.basis * c;
  }
  Rational worst = 0;
  for (std::int64_t v = 0; v < inst.V; ++v) {
    for (std::int64_t i = 0; i < inst.d; ++i) {
      const Rational e = abs(ScalarTraits<S>::to_rational(w(v + inst.V * i)) -
                             w_mid[static_cast<std::size_t>(v * inst.d + i)]);
      if (e > worst) worst = e;
    }
  }
  return {{"precision", name},
          {"numeric_rank", f.rank},
          {"max_abs_error", rational_to_double(worst)},
          {"error_bound_includes_radius", radius}};
}

json enclosure_json(const Enclosure& e) { return json::array({e.lo, e.hi}); }

}  // namespace

AnalyzeResult analyze(const InstanceData& data, const AnalyzeOptions& options) {
  const auto t_total = Clock::now();
  const PrecisionSpec& prec = options.precision;
  if (prec.kind != Precision::kDouble && prec.kind != Precision::kLongDouble &&
      prec.kind != Precision::kFloat128 && prec.kind != Precision::kMpfr) {
    throw InvalidInput(
        "invalid option: --precision for analyze must be double, long-double, "
        "float128 or mpfr:N, got " +
        prec.name());
  }
  AnalyzeResult out;
  json& r = out.report;
  json notes = json::array();
  json timings;
  bool inconclusive = false;
  bool violated = false;
  CertificateBundle& cert = out.certificates;
  cert.fingerprint = instance_fingerprint(data);
  cert.V = data.vocab_size;
  cert.d = data.embedding_dim;
  cert.m = data.num_contexts();

  r["format"] = "ntp-analysis";
  r["version"] = 1;
  r["instance"] = {{"name", data.name},
                   {"V", data.vocab_size},
                   {"d", data.embedding_dim},
                   {"m", data.num_contexts()},
                   {"support_nnz", data.support_nnz()},
                   {"fingerprint", cert.fingerprint}};

  // H (rigorous) and the subspace F.
  auto t0 = Clock::now();
  const Enclosure h = enclose_entropy(data, 256);
  r["entropy"] = {{"value", 0.5 * (h.lo + h.hi)}, {"enclosure", enclosure_json(h)}};
  timings["entropy"] = since(t0);

  // (C) with certificate.
  t0 = Clock::now();
  CompatibilityOptions copt;
  copt.compute_w_star = false;
  const CompatibilityResult comp = check_compatibility(data, copt);
  timings["compatibility"] = since(t0);
  {
    json c = {{"verdict", to_string(comp.verdict)},
              {"certificate", to_string(comp.certificate)},
              {"equations", comp.num_equations},
              {"rank", comp.rank},
              {"left_null_dim", comp.left_null_dim}};
    if (comp.verdict == CompatibilityVerdict::kViolated) {
      c["y_dot_a"] = enclosure_json(comp.y_dot_a);
      c["slack"] = std::min(std::abs(comp.y_dot_a.lo), std::abs(comp.y_dot_a.hi));
      c["slack_meaning"] = "distance of y . log r from 0 (lower bound)";
    } else if (comp.verdict == CompatibilityVerdict::kHolds) {
      c["slack"] = "exact";
      c["slack_meaning"] = "a in range(A) proved in exact arithmetic";
    } else {
      c["reason"] = comp.reason;
      inconclusive = true;
    }
    r["compatibility"] = c;
    if (comp.verdict != CompatibilityVerdict::kInconclusive) {
      cert.has_compatibility = true;
      cert.compatibility_verdict = comp.verdict;
      cert.compatibility_kind = comp.certificate;
      cert.left_null_space = comp.left_null_space;
      cert.violation_y = comp.y;
    }
  }

  // Subspace F: exact dim (the rank of the (C) system) and the floating decision.
  t0 = Clock::now();
  {
    const Instance<double> inst = to_scalar<double>(data);
    const SubspaceBasis f = subspace_basis(inst);
    r["subspace_f"] = {{"dim", comp.rank},
                       {"generators", comp.num_equations},
                       {"ambient_dim", data.vocab_size * data.embedding_dim},
                       {"numeric_rank", f.rank},
                       {"tolerance", f.tolerance},
                       {"sigma_r", f.sigma_r},
                       {"sigma_next", f.sigma_next},
                       {"rank_agrees", f.rank == comp.rank}};
    if (f.rank != comp.rank) {
      notes.push_back("subspace_f: the double SVD rank " + std::to_string(f.rank) +
                      " differs from the exact dim F " + std::to_string(comp.rank));
    }
  }
  timings["subspace_f"] = since(t0);

  // (6) with certificate.
  t0 = Clock::now();
  const SeparabilityResult sep = decide_separability(data);
  timings["separability"] = since(t0);
  {
    json s = {{"verdict", to_string(sep.verdict)},
              {"certificate", to_string(sep.certificate.kind)},
              {"equalities", sep.lp_equalities},
              {"inequalities", sep.lp_inequalities},
              {"lp_columns", sep.lp_columns}};
    if (sep.verdict == SeparabilityVerdict::kHolds) {
      s["min_margin"] = rational_to_double(sep.min_margin);
      s["slack"] = rational_to_double(sep.min_margin - 1);
      s["slack_meaning"] = "min over (6b) of the witness's logit gap, minus 1 (exact)";
    } else if (sep.verdict == SeparabilityVerdict::kViolated) {
      Rational sum = 0;
      for (const auto& y : sep.certificate.inequality_multipliers) sum += y.value;
      s["slack"] = rational_to_double(sum);
      s["slack_meaning"] = "sum of the Farkas multipliers on (6b) (> 0 proves infeasibility)";
    } else {
      s["reason"] = sep.reason;
      inconclusive = true;
    }
    r["separability"] = s;
    if (sep.verdict != SeparabilityVerdict::kInconclusive) {
      cert.has_separability = true;
      cert.separability_verdict = sep.verdict;
      cert.separability = sep.certificate;
    }
  }

  // W*.
  t0 = Clock::now();
  WStarResult ws;
  if (comp.verdict == CompatibilityVerdict::kHolds && comp.num_equations > options.max_exact_rows) {
    ws.reason = "too large: " + std::to_string(comp.num_equations) + " (C) rows (limit " +
                std::to_string(options.max_exact_rows) + ")";
  } else {
    ws = enclose_w_star(data, comp.verdict, options.w_star_target_bits, comp.rank);
  }
  if (ws.computed) {
    json w = {{"norm", ws.norm},
              {"norm_enclosure", json::array({ws.norm_lo, ws.norm_hi})},
              {"radius", ws.radius},
              {"max_error_double", ws.max_error_double},
              {"log_precision_bits", ws.log_precision_bits},
              {"rows_used", ws.dim_f},
              {"unique_in_f", true},
              {"det_bits", ws.det_bits}};
    switch (prec.kind) {
      case Precision::kLongDouble:
        w["precision_check"] =
            w_star_in_precision<long double>(data, ws.w_mid, ws.radius, prec.name());
        break;
      case Precision::kFloat128:
        w["precision_check"] =
            w_star_in_precision<Float128>(data, ws.w_mid, ws.radius, prec.name());
        break;
      case Precision::kMpfr:
        set_mpfr_digits(prec.mpfr_digits);
        w["precision_check"] = w_star_in_precision<Mpfr>(data, ws.w_mid, ws.radius, prec.name());
        break;
      default:
        w["precision_check"] = w_star_in_precision<double>(data, ws.w_mid, ws.radius, prec.name());
        break;
    }
    r["w_star"] = w;
    cert.has_w_star = true;
    cert.w_star = ws.certificate;
  } else if (comp.verdict == CompatibilityVerdict::kHolds) {
    notes.push_back("w_star: not certified: " + ws.reason);
    inconclusive = true;
  } else {
    notes.push_back("w_star: does not exist: " + ws.reason);
  }
  timings["w_star"] = since(t0);

  // W^mm.
  t0 = Clock::now();
  const MaxMarginResult mm = compute_w_mm(data, sep.verdict, options.w_mm);
  if (mm.status == MaxMarginStatus::kProven) {
    r["w_mm"] = {{"norm", mm.norm},
                 {"norm_squared", rational_to_string(mm.norm_squared)},
                 {"margin", mm.margin},
                 {"active_set_size", mm.active_set_size},
                 {"inequalities", mm.num_inequalities},
                 {"equalities", mm.num_equalities},
                 {"kkt_size", mm.kkt_size},
                 {"exact_refinements", mm.exact_refinements},
                 {"solver", "Goldfarb-Idnani dual active set (double), exact KKT (rationals)"},
                 {"qp_iterations", mm.qp_iterations},
                 {"qp_max_violation", mm.qp_max_violation}};
    cert.has_w_mm = true;
    cert.w_mm = mm.certificate;
  } else if (mm.status == MaxMarginStatus::kNotSeparable &&
             sep.verdict == SeparabilityVerdict::kViolated) {
    notes.push_back("w_mm: does not exist: " + mm.reason);
  } else {
    notes.push_back("w_mm: not certified (" + to_string(mm.status) + "): " + mm.reason);
    inconclusive = true;
  }
  timings["w_mm"] = since(t0);

  // Entropy attainment, bound (9).
  t0 = Clock::now();
  if (ws.computed && mm.status == MaxMarginStatus::kProven) {
    const AttainmentResult at = check_attainment(data, ws, mm, options.attainment);
    json pts = json::array();
    for (const AttainmentPoint& p : at.points) {
      const char* status =
          p.bound_holds ? "holds" : (p.bound_violated ? "violated" : "inconclusive");
      if (p.bound_violated || p.excess.hi <= 0) violated = true;
      if (!p.bound_holds || !p.positive) inconclusive = true;
      pts.push_back({{"R", p.R},
                     {"excess", enclosure_json(p.excess)},
                     {"bound9", p.bound},
                     {"status", status},
                     {"positive", p.positive}});
    }
    r["attainment"] = {{"M", at.M},
                       {"epsilon", at.epsilon},
                       {"r_bound", at.r_bound},
                       {"r_certified", at.r_certified},
                       {"points", pts},
                       {"all_bounds_hold", at.all_bounds_hold},
                       {"all_positive", at.all_positive}};
    if (at.r_certified < 0) {
      notes.push_back("attainment: no R certified for excess <= epsilon (enclosures too wide)");
    }
  } else {
    notes.push_back("attainment: needs both W* and W^mm");
  }
  timings["attainment"] = since(t0);
  timings["total"] = since(t_total);
  r["timings"] = timings;
  r["notes"] = notes;
  out.exit = violated ? ExitCode::kViolated
                      : (inconclusive ? ExitCode::kInconclusive : ExitCode::kAllHold);
  r["status"] = violated ? "claim_violated" : (inconclusive ? "inconclusive" : "decided");
  return out;
}

namespace {

std::string num(const json& j, const char* fmt = "%.6g") {
  if (!j.is_number()) return j.dump();
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, j.get<double>());
  return buf;
}

}  // namespace

std::string format_analysis(const json& r) {
  std::string s;
  auto line = [&](const std::string& l) { s += l + "\n"; };
  const json& in = r["instance"];
  line("instance " + in["name"].get<std::string>() + ": V=" + in["V"].dump() +
       " d=" + in["d"].dump() + " m=" + in["m"].dump());
  line("H = " + num(r["entropy"]["value"], "%.12g") + "   enclosure [" +
       num(r["entropy"]["enclosure"][0], "%.17g") + ", " +
       num(r["entropy"]["enclosure"][1], "%.17g") + "]");
  const json& f = r["subspace_f"];
  line("subspace F: dim " + f["dim"].dump() + " (exact) of " + f["ambient_dim"].dump() +
       "; double SVD rank " + f["numeric_rank"].dump() + " (tolerance " +
       num(f["tolerance"], "%.2e") + ", sigma_r " + num(f["sigma_r"], "%.3e") + ", sigma_next " +
       num(f["sigma_next"], "%.3e") + ")");
  const json& c = r["compatibility"];
  line("compatibility (C): " + c["verdict"].get<std::string>() + "   certificate " +
       c["certificate"].get<std::string>() + ", rank " + c["rank"].dump() + " of " +
       c["equations"].dump() + " equations" +
       (c.contains("reason") ? ", " + c["reason"].get<std::string>() : ""));
  const json& p = r["separability"];
  line("separability (6): " + p["verdict"].get<std::string>() + "   certificate " +
       p["certificate"].get<std::string>() +
       (p.contains("slack") ? ", slack " + num(p["slack"], "%.6g") : "") +
       (p.contains("reason") ? ", " + p["reason"].get<std::string>() : ""));
  if (r.contains("w_star")) {
    const json& w = r["w_star"];
    line("W*: ||W*|| = " + num(w["norm"], "%.12g") + "   enclosure radius " +
         num(w["radius"], "%.2e") + " (logs at " + w["log_precision_bits"].dump() +
         " bits, unique in F); " + w["precision_check"]["precision"].get<std::string>() +
         " SVD solve off by " + num(w["precision_check"]["max_abs_error"], "%.2e"));
  }
  if (r.contains("w_mm")) {
    const json& w = r["w_mm"];
    line("W^mm: ||W^mm|| = " + num(w["norm"], "%.12g") +
         "   margin 1/||W^mm|| = " + num(w["margin"], "%.6g") + ", active " +
         w["active_set_size"].dump() + " of " + w["inequalities"].dump() +
         " (6b) rows, exact KKT " + w["kkt_size"].dump() + " x " + w["kkt_size"].dump());
  }
  if (r.contains("attainment")) {
    const json& a = r["attainment"];
    int holds = 0;
    for (const json& pt : a["points"]) holds += pt["status"] == "holds" ? 1 : 0;
    line("bound (9): holds at " + std::to_string(holds) + " of " +
         std::to_string(a["points"].size()) + " R; excess <= " + num(a["epsilon"], "%.1e") +
         " from R = " + num(a["r_certified"], "%.4g") + " (certified), " +
         num(a["r_bound"], "%.4g") + " (bound (9))");
  }
  for (const json& n : r["notes"]) line("note: " + n.get<std::string>());
  const json& t = r["timings"];
  line("timings (s): compatibility " + num(t["compatibility"], "%.3f") + ", separability " +
       num(t["separability"], "%.3f") + ", W* " + num(t["w_star"], "%.3f") + ", W^mm " +
       num(t["w_mm"], "%.3f") + ", attainment " + num(t["attainment"], "%.3f") + ", total " +
       num(t["total"], "%.3f"));
  line("status: " + r["status"].get<std::string>());
  s.pop_back();
  return s;
}

}  // namespace ntp
