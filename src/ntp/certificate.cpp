#include "ntp/certificate.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "ntp/errors.hpp"

namespace ntp {

namespace {

using nlohmann::json;

constexpr const char* kFormat = "ntp-certificate";
constexpr int kVersion = 1;

[[noreturn]] void bad(const std::string& path, const std::string& message) {
  throw InvalidInput("invalid certificate file", {Problem{path, message}});
}

std::string describe(const json& j) {
  std::string s = j.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

const json& member(const json& obj, const std::string& key, const std::string& path) {
  if (!obj.is_object()) bad(path, "must be an object, got " + describe(obj));
  const auto it = obj.find(key);
  if (it == obj.end()) bad(path + "." + key, "is required");
  return *it;
}

const json& array_member(const json& obj, const std::string& key, const std::string& path) {
  const json& a = member(obj, key, path);
  if (!a.is_array()) bad(path + "." + key, "must be an array, got " + describe(a));
  return a;
}

std::int64_t int_value(const json& j, const std::string& path) {
  if (!j.is_number_integer()) bad(path, "must be an integer, got " + describe(j));
  return j.get<std::int64_t>();
}

Rational rational_value(const json& j, const std::string& path) {
  if (j.is_number_integer()) return Rational(j.get<std::int64_t>());
  if (j.is_string()) {
    // Exact solutions of large systems have long numerators and denominators.
    const auto q = parse_rational(j.get<std::string>(), std::size_t{1} << 24);
    if (q) return *q;
  }
  bad(path, "must be an exact number as a string (\"-3/7\", \"0.25\", \"12\"), got " + describe(j));
}

BigInt integer_value(const json& j, const std::string& path) {
  const Rational q = rational_value(j, path);
  if (denominator(q) != 1) bad(path, "must be an integer, got " + describe(j));
  return numerator(q);
}

std::string verdict_name(const json& obj, const std::string& path) {
  const json& v = member(obj, "verdict", path);
  if (!v.is_string() || (v != "holds" && v != "violated")) {
    bad(path + ".verdict", "must be \"holds\" or \"violated\", got " + describe(v));
  }
  return v.get<std::string>();
}

json multipliers_to_json(const std::vector<SeparabilityMultiplier>& ms) {
  json a = json::array();
  for (const auto& m : ms) {
    a.push_back(
        {{"context", m.context}, {"z", m.z}, {"v", m.v}, {"value", rational_to_string(m.value)}});
  }
  return a;
}

std::vector<SeparabilityMultiplier> multipliers_from_json(const json& a, const std::string& path) {
  std::vector<SeparabilityMultiplier> out;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const std::string p = path + "[" + std::to_string(k) + "]";
    SeparabilityMultiplier m;
    m.context = int_value(member(a[k], "context", p), p + ".context");
    const std::int64_t z = int_value(member(a[k], "z", p), p + ".z");
    const std::int64_t v = int_value(member(a[k], "v", p), p + ".v");
    if (z < 0 || z > INT32_MAX) bad(p + ".z", "must be a token id, got " + std::to_string(z));
    if (v < 0 || v > INT32_MAX) bad(p + ".v", "must be a token id, got " + std::to_string(v));
    m.z = static_cast<std::int32_t>(z);
    m.v = static_cast<std::int32_t>(v);
    m.value = rational_value(member(a[k], "value", p), p + ".value");
    out.push_back(std::move(m));
  }
  return out;
}

json integers_to_json(const std::vector<BigInt>& v) {
  json a = json::array();
  for (const BigInt& x : v) a.push_back(x.str());
  return a;
}

std::vector<BigInt> integers_from_json(const json& a, const std::string& path) {
  if (!a.is_array()) bad(path, "must be an array, got " + describe(a));
  std::vector<BigInt> out;
  for (std::size_t k = 0; k < a.size(); ++k) {
    out.push_back(integer_value(a[k], path + "[" + std::to_string(k) + "]"));
  }
  return out;
}

std::uint64_t fnv1a(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= 0xff;  // separator
  h *= 1099511628211ULL;
  return h;
}

}  // namespace

std::string instance_fingerprint(const InstanceData& data) {
  std::uint64_t h = 14695981039346656037ULL;
  h = fnv1a(h, std::to_string(data.vocab_size));
  h = fnv1a(h, std::to_string(data.embedding_dim));
  h = fnv1a(h, std::to_string(data.num_contexts()));
  for (const ContextData& c : data.contexts) {
    for (const Rational& x : c.embedding) h = fnv1a(h, rational_to_string(x));
    h = fnv1a(h, rational_to_string(c.weight));
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      h = fnv1a(h, std::to_string(c.tokens[k]));
      h = fnv1a(h, rational_to_string(c.probabilities[k]));
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json certificates_to_json(const CertificateBundle& b) {
  json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["instance"] = {{"fingerprint", b.fingerprint}, {"V", b.V}, {"d", b.d}, {"m", b.m}};
  if (b.has_compatibility) {
    json c;
    c["verdict"] = to_string(b.compatibility_verdict);
    c["kind"] = to_string(b.compatibility_kind);
    if (b.compatibility_verdict == CompatibilityVerdict::kHolds) {
      json basis = json::array();
      for (const auto& y : b.left_null_space) basis.push_back(integers_to_json(y));
      c["left_null_space"] = basis;
    } else {
      c["y"] = integers_to_json(b.violation_y);
    }
    doc["compatibility"] = c;
  }
  if (b.has_separability) {
    json s;
    s["verdict"] = to_string(b.separability_verdict);
    s["kind"] = to_string(b.separability.kind);
    if (b.separability.kind == SeparabilityCertificateKind::kWitness) {
      json w = json::array();
      for (std::int64_t v = 0; v < b.V; ++v) {
        json row = json::array();
        for (std::int64_t i = 0; i < b.d; ++i) {
          row.push_back(
              rational_to_string(b.separability.w[static_cast<std::size_t>(v * b.d + i)]));
        }
        w.push_back(row);
      }
      s["w"] = w;
    } else {
      s["inequality_multipliers"] = multipliers_to_json(b.separability.inequality_multipliers);
      s["equality_multipliers"] = multipliers_to_json(b.separability.equality_multipliers);
    }
    doc["separability"] = s;
  }
  if (b.has_w_mm) {
    doc["w_mm"] = {{"inequality_multipliers", multipliers_to_json(b.w_mm.inequality_multipliers)},
                   {"equality_multipliers", multipliers_to_json(b.w_mm.equality_multipliers)}};
  }
  if (b.has_w_star) {
    json y = json::array();
    for (const Rational& x : b.w_star.y) y.push_back(rational_to_string(x));
    doc["w_star"] = {{"rows", b.w_star.rows},
                     {"y", y},
                     {"precision_bits", b.w_star.precision_bits},
                     {"radius", b.w_star.radius}};
  }
  return doc;
}

CertificateBundle certificates_from_json(const json& doc) {
  CertificateBundle b;
  if (!doc.is_object()) bad("(top level)", "must be an object, got " + describe(doc));
  const json& format = member(doc, "format", "(top level)");
  if (format != kFormat)
    bad("format", std::string("must be \"") + kFormat + "\", got " + describe(format));
  const json& version = member(doc, "version", "(top level)");
  if (version != kVersion) bad("version", "must be 1, got " + describe(version));
  const json& inst = member(doc, "instance", "(top level)");
  const json& fp = member(inst, "fingerprint", "instance");
  if (!fp.is_string()) bad("instance.fingerprint", "must be a string, got " + describe(fp));
  b.fingerprint = fp.get<std::string>();
  b.V = int_value(member(inst, "V", "instance"), "instance.V");
  b.d = int_value(member(inst, "d", "instance"), "instance.d");
  b.m = int_value(member(inst, "m", "instance"), "instance.m");
  if (doc.contains("compatibility")) {
    const json& c = doc["compatibility"];
    b.has_compatibility = true;
    const std::string verdict = verdict_name(c, "compatibility");
    if (verdict == "holds") {
      b.compatibility_verdict = CompatibilityVerdict::kHolds;
      const json& basis = array_member(c, "left_null_space", "compatibility");
      for (std::size_t k = 0; k < basis.size(); ++k) {
        b.left_null_space.push_back(integers_from_json(
            basis[k], "compatibility.left_null_space[" + std::to_string(k) + "]"));
      }
      b.compatibility_kind = b.left_null_space.empty()
                                 ? CompatibilityCertificate::kFullRowRank
                                 : CompatibilityCertificate::kLeftNullSpaceExact;
    } else {
      b.compatibility_verdict = CompatibilityVerdict::kViolated;
      b.compatibility_kind = CompatibilityCertificate::kViolationExact;
      b.violation_y = integers_from_json(member(c, "y", "compatibility"), "compatibility.y");
    }
  }
  if (doc.contains("separability")) {
    const json& s = doc["separability"];
    b.has_separability = true;
    const std::string verdict = verdict_name(s, "separability");
    if (verdict == "holds") {
      b.separability_verdict = SeparabilityVerdict::kHolds;
      b.separability.kind = SeparabilityCertificateKind::kWitness;
      const json& w = array_member(s, "w", "separability");
      if (static_cast<std::int64_t>(w.size()) != b.V) {
        bad("separability.w",
            "must have V = " + std::to_string(b.V) + " rows, got " + std::to_string(w.size()));
      }
      for (std::int64_t v = 0; v < b.V; ++v) {
        const std::string p = "separability.w[" + std::to_string(v) + "]";
        const json& row = w[static_cast<std::size_t>(v)];
        if (!row.is_array() || static_cast<std::int64_t>(row.size()) != b.d) {
          bad(p,
              "must be an array of d = " + std::to_string(b.d) + " numbers, got " + describe(row));
        }
        for (std::int64_t i = 0; i < b.d; ++i) {
          b.separability.w.push_back(
              rational_value(row[static_cast<std::size_t>(i)], p + "[" + std::to_string(i) + "]"));
        }
      }
    } else {
      b.separability_verdict = SeparabilityVerdict::kViolated;
      b.separability.kind = SeparabilityCertificateKind::kFarkas;
      b.separability.inequality_multipliers =
          multipliers_from_json(array_member(s, "inequality_multipliers", "separability"),
                                "separability.inequality_multipliers");
      b.separability.equality_multipliers =
          multipliers_from_json(array_member(s, "equality_multipliers", "separability"),
                                "separability.equality_multipliers");
    }
  }
  if (doc.contains("w_mm")) {
    const json& w = doc["w_mm"];
    b.has_w_mm = true;
    b.w_mm.inequality_multipliers = multipliers_from_json(
        array_member(w, "inequality_multipliers", "w_mm"), "w_mm.inequality_multipliers");
    b.w_mm.equality_multipliers = multipliers_from_json(
        array_member(w, "equality_multipliers", "w_mm"), "w_mm.equality_multipliers");
  }
  if (doc.contains("w_star")) {
    const json& w = doc["w_star"];
    b.has_w_star = true;
    const json& rows = array_member(w, "rows", "w_star");
    for (std::size_t k = 0; k < rows.size(); ++k) {
      b.w_star.rows.push_back(int_value(rows[k], "w_star.rows[" + std::to_string(k) + "]"));
    }
    const json& y = array_member(w, "y", "w_star");
    for (std::size_t k = 0; k < y.size(); ++k) {
      b.w_star.y.push_back(rational_value(y[k], "w_star.y[" + std::to_string(k) + "]"));
    }
    b.w_star.precision_bits =
        int_value(member(w, "precision_bits", "w_star"), "w_star.precision_bits");
    const json& r = member(w, "radius", "w_star");
    if (!r.is_number() || !(r.get<double>() >= 0)) {
      bad("w_star.radius", "must be a number >= 0, got " + describe(r));
    }
    b.w_star.radius = r.get<double>();
  }
  return b;
}

CertificateBundle read_certificate_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot read certificate file: " + path + " could not be opened, got " +
                  std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  constexpr long long kMaxBytes = 2LL << 30;
  if (size < 0 || static_cast<long long>(size) > kMaxBytes) {
    throw InvalidInput("certificate file " + path + ": size must be at most 2 GiB, got " +
                       std::to_string(static_cast<long long>(size)) + " bytes");
  }
  in.seekg(0);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in)
    throw IoError("cannot read certificate file: " + path + " read failed, got a short read");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw InvalidInput("certificate file " + path + ": malformed JSON, got " +
                       std::string(e.what()).substr(0, 160));
  }
  return certificates_from_json(doc);
}

std::vector<SectionCheck> verify_certificates(const InstanceData& data,
                                              const CertificateBundle& b) {
  if (b.V != data.vocab_size || b.d != data.embedding_dim || b.m != data.num_contexts()) {
    bad("instance", "sizes (V, d, m) = (" + std::to_string(b.V) + ", " + std::to_string(b.d) +
                        ", " + std::to_string(b.m) + ") do not match the instance (" +
                        std::to_string(data.vocab_size) + ", " +
                        std::to_string(data.embedding_dim) + ", " +
                        std::to_string(data.num_contexts()) + ")");
  }
  const std::string fp = instance_fingerprint(data);
  if (b.fingerprint != fp) {
    bad("instance.fingerprint", "the certificate was made for another instance: " + b.fingerprint +
                                    ", this instance is " + fp);
  }
  std::vector<SectionCheck> out;
  // fn(&message) returns whether the section verified; a non-empty message replaces the detail.
  auto timed = [&](SectionCheck c, auto&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string message;
    c.verified = fn(&message);
    if (!message.empty()) c.detail = message;
    if (!c.verified && message.empty()) c.detail = "rejected";
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.push_back(std::move(c));
  };
  if (b.has_compatibility) {
    SectionCheck c{"compatibility", to_string(b.compatibility_verdict), false, "", 0};
    if (b.compatibility_verdict == CompatibilityVerdict::kHolds) {
      c.detail = b.left_null_space.empty()
                     ? "the (C) system has full row rank: a solution exists for any log-odds"
                     : "every left null space vector y (" +
                           std::to_string(b.left_null_space.size()) +
                           ", spanning) has prod r^y == 1 exactly";
      timed(c, [&](std::string* why) {
        return verify_compatibility_certificate(data, b.left_null_space, why);
      });
    } else {
      c.detail = "A^T y = 0 exactly and y . log r != 0 (exact power test)";
      timed(c, [&](std::string* why) {
        if (b.violation_y.size() != anchor_rows(data).size()) {
          *why = "y must have one entry per (C) row";
          return false;
        }
        if (!verify_incompatibility_certificate(data, b.violation_y)) {
          *why = "y is not in the left null space of A, or y . log r is not proven != 0";
          return false;
        }
        return true;
      });
    }
  }
  if (b.has_separability) {
    SectionCheck c{
        "separability", to_string(b.separability_verdict), false,
        b.separability.kind == SeparabilityCertificateKind::kWitness
            ? "the rational W meets (6a) and (6b) exactly"
            : "the Farkas multipliers are >= 0 on (6b), sum > 0, and combine to 0 exactly",
        0};
    timed(c, [&](std::string* why) {
      return verify_separability_certificate(data, b.separability, why);
    });
  }
  if (b.has_w_mm) {
    SectionCheck c{"w_mm", "proven", false, "KKT of the NTP-SVM hold exactly: W^mm is the optimum",
                   0};
    timed(c, [&](std::string* why) { return verify_max_margin_certificate(data, b.w_mm, why); });
  }
  if (b.has_w_star) {
    // The enclosure is of the solution of (C), so it needs (C) proved in the same file.
    const bool compatible =
        b.has_compatibility && b.compatibility_verdict == CompatibilityVerdict::kHolds &&
        !out.empty() && out.front().section == "compatibility" && out.front().verified;
    SectionCheck c{"w_star", "enclosed", false, "", 0};
    timed(c, [&](std::string* message) {
      if (!compatible) {
        *message = "needs a verified compatibility section with verdict holds";
        return false;
      }
      // rank A <= #rows - |Y| for the verified independent left null space basis Y.
      const auto rank_bound = static_cast<std::int64_t>(anchor_rows(data).size()) -
                              static_cast<std::int64_t>(b.left_null_space.size());
      const auto r = verify_w_star_certificate(data, b.w_star, rank_bound, message);
      if (!r) return false;
      char buf[128];
      std::snprintf(buf, sizeof buf, "||W* - W_mid||_F <= %.3e (claimed %.3e)", *r,
                    b.w_star.radius);
      *message = buf;
      return true;
    });
  }
  return out;
}

}  // namespace ntp
