#include "ntp/instance_io.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>

namespace ntp {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxFileBytes = std::size_t{2} << 30;  // 2 GiB of JSON text

std::string preview(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

/** Reads the fields of a parsed document, collecting problems with their JSON paths. */
class Reader {
 public:
  std::vector<Problem> problems;

  void add(const std::string& path, const std::string& msg) {
    if (problems.size() < 1000) problems.push_back({path, msg});
  }

  std::optional<Rational> number(const json& v, const std::string& path) {
    if (v.is_number_integer()) {
      return v.is_number_unsigned() ? Rational(BigInt(v.get<std::uint64_t>()))
                                    : Rational(BigInt(v.get<std::int64_t>()));
    }
    if (v.is_number_float()) {
      const double x = v.get<double>();
      if (!std::isfinite(x)) {
        add(path, "must be a finite number, got " + preview(v));
        return std::nullopt;
      }
      return rational_from_double(x);
    }
    if (v.is_string()) {
      if (auto q = parse_rational(v.get<std::string>())) return q;
      add(path,
          "must be a number or a string holding a decimal or a rational (\"0.1\", \"1/3\"), got " +
              preview(v));
      return std::nullopt;
    }
    add(path, "must be a number, got " + preview(v));
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const json& v, const std::string& path, std::int64_t lo,
                                      std::int64_t hi) {
    if (!v.is_number_integer()) {
      // Accept 3.0 written as a float only when it is an exact integer.
      if (v.is_number_float()) {
        const double x = v.get<double>();
        if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9e15) {
          return check_range(static_cast<std::int64_t>(x), path, lo, hi, v);
        }
      }
      add(path, "must be an integer, got " + preview(v));
      return std::nullopt;
    }
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
      add(path, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], got " + preview(v));
      return std::nullopt;
    }
    return check_range(v.get<std::int64_t>(), path, lo, hi, v);
  }

  std::optional<std::int64_t> check_range(std::int64_t x, const std::string& path, std::int64_t lo,
                                          std::int64_t hi, const json& v) {
    if (x < lo || x > hi) {
      add(path, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], got " + preview(v));
      return std::nullopt;
    }
    return x;
  }

  const json* array(const json& obj, const char* key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!it->is_array()) {
      add(path + "." + key, "must be an array, got " + preview(*it));
      return nullptr;
    }
    return &*it;
  }
};

}  // namespace

InstanceData read_instance_json(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidInput("instance file " + source + ": JSON syntax error at byte " +
                       std::to_string(e.byte) + ", got malformed JSON (" +
                       std::string(e.what()).substr(0, 160) + ")");
  } catch (const json::exception& e) {
    // e.g. out_of_range 406: a number literal beyond the double range such as 1e999.
    throw InvalidInput("instance file " + source +
                       ": a JSON number must be a finite double (write larger or exact values as "
                       "strings), got " +
                       std::string(e.what()).substr(0, 160));
  }
  const std::string what = "invalid instance file " + source;
  if (!doc.is_object()) {
    throw InvalidInput(what, {{"(document)", "must be a JSON object, got " + preview(doc)}});
  }
  Reader r;
  static const std::set<std::string> kTop = {"format",   "version", "vocab_size",  "embedding_dim",
                                             "contexts", "name",    "description", "extra"};
  for (const auto& [k, v] : doc.items()) {
    if (kTop.count(k) == 0) {
      r.add(k,
            "is not a field of ntp-instance version 1 (put free-form data under \"extra\"), got " +
                preview(v));
    }
  }
  if (!doc.contains("format") || doc["format"] != "ntp-instance") {
    r.add("format", "must be \"ntp-instance\", got " +
                        (doc.contains("format") ? preview(doc["format"]) : std::string("nothing")));
  }
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"] != 1) {
    r.add("version", "must be 1, got " + (doc.contains("version") ? preview(doc["version"])
                                                                  : std::string("nothing")));
  }
  InstanceData data;
  for (const char* key : {"vocab_size", "embedding_dim"}) {
    if (!doc.contains(key)) {
      r.add(key, "is required, got nothing");
    } else if (auto x = r.integer(doc[key], key, 1, std::numeric_limits<std::int32_t>::max())) {
      (std::string(key) == "vocab_size" ? data.vocab_size : data.embedding_dim) = *x;
    }
  }
  for (const char* key : {"name", "description"}) {
    if (doc.contains(key)) {
      if (!doc[key].is_string()) {
        r.add(key, "must be a string, got " + preview(doc[key]));
      } else {
        (std::string(key) == "name" ? data.name : data.description) = doc[key].get<std::string>();
      }
    }
  }
  if (doc.contains("extra")) data.extra = doc["extra"];
  const json* contexts = nullptr;
  if (!doc.contains("contexts")) {
    r.add("contexts", "is required, got nothing");
  } else if (!doc["contexts"].is_array()) {
    r.add("contexts", "must be an array, got " + preview(doc["contexts"]));
  } else if (doc["contexts"].empty()) {
    r.add("contexts", "must hold at least one context, got []");
  } else {
    contexts = &doc["contexts"];
  }
  // Refuse oversized shapes before reading (and allocating for) the contexts.
  if (!r.problems.empty()) throw InvalidInput(what, std::move(r.problems));
  if (auto ps = size_problems(data.vocab_size, data.embedding_dim,
                              static_cast<std::int64_t>(contexts->size()));
      !ps.empty()) {
    throw InvalidInput(what, std::move(ps));
  }
  static const std::set<std::string> kCtx = {"embedding",     "weight", "next_tokens",
                                             "probabilities", "counts", "extra"};
  data.contexts.resize(contexts->size());
  for (std::size_t j = 0; j < contexts->size(); ++j) {
    const json& c = (*contexts)[j];
    const std::string p = "contexts[" + std::to_string(j) + "]";
    auto& out = data.contexts[j];
    if (!c.is_object()) {
      r.add(p, "must be an object, got " + preview(c));
      continue;
    }
    for (const auto& [k, v] : c.items()) {
      if (kCtx.count(k) == 0) r.add(p + "." + k, "is not a field of a context, got " + preview(v));
    }
    if (const json* e = r.array(c, "embedding", p)) {
      out.embedding.reserve(e->size());
      for (std::size_t i = 0; i < e->size(); ++i) {
        auto q = r.number((*e)[i], p + ".embedding[" + std::to_string(i) + "]");
        out.embedding.push_back(q.value_or(Rational(0)));
      }
    } else if (!c.contains("embedding")) {
      r.add(p + ".embedding", "is required, got nothing");
    }
    if (const json* t = r.array(c, "next_tokens", p)) {
      for (std::size_t k = 0; k < t->size(); ++k) {
        auto id = r.integer((*t)[k], p + ".next_tokens[" + std::to_string(k) + "]",
                            std::numeric_limits<std::int32_t>::min(),
                            std::numeric_limits<std::int32_t>::max());
        out.tokens.push_back(static_cast<std::int32_t>(id.value_or(0)));
      }
    } else if (!c.contains("next_tokens")) {
      r.add(p + ".next_tokens", "is required, got nothing");
    }
    const bool has_counts = c.contains("counts");
    const bool has_probs = c.contains("probabilities") || c.contains("weight");
    if (has_counts && has_probs) {
      r.add(p, "must give either \"counts\" or \"weight\" with \"probabilities\", got both");
      continue;
    }
    if (has_counts) {
      if (const json* k = r.array(c, "counts", p)) {
        for (std::size_t i = 0; i < k->size(); ++i) {
          auto n = r.integer((*k)[i], p + ".counts[" + std::to_string(i) + "]", 0,
                             std::numeric_limits<std::int64_t>::max());
          out.counts.push_back(static_cast<std::uint64_t>(n.value_or(1)));
        }
        if (k->empty()) r.add(p + ".counts", "must not be empty, got []");
      }
      continue;
    }
    if (!c.contains("weight")) {
      r.add(p + ".weight", "is required (or give \"counts\"), got nothing");
    } else if (auto w = r.number(c["weight"], p + ".weight")) {
      out.weight = *w;
    }
    if (const json* pr = r.array(c, "probabilities", p)) {
      for (std::size_t k = 0; k < pr->size(); ++k) {
        auto q = r.number((*pr)[k], p + ".probabilities[" + std::to_string(k) + "]");
        out.probabilities.push_back(q.value_or(Rational(1)));
      }
    } else if (!c.contains("probabilities")) {
      r.add(p + ".probabilities", "is required (or give \"counts\"), got nothing");
    }
  }
  if (!r.problems.empty()) throw InvalidInput(what, std::move(r.problems));
  try {
    validate_and_normalise(data);
  } catch (const InvalidInput& e) {
    throw InvalidInput(what, e.problems());
  }
  return data;
}

InstanceData read_instance_file(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw IoError("cannot read instance file: " + path + " could not be opened, got " +
                    std::strerror(errno));
    in.seekg(0, std::ios::end);
    const auto size = in.tellg();
    if (size < 0 || static_cast<std::size_t>(size) > kMaxFileBytes) {
      throw InvalidInput("instance file " + path + ": size must be at most 2 GiB, got " +
                         std::to_string(static_cast<long long>(size)) + " bytes");
    }
    in.seekg(0);
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), size);
    if (!in) throw IoError("cannot read instance file: " + path + " read failed, got a short read");
  }
  return read_instance_json(text, path == "-" ? "<stdin>" : path);
}

json rational_to_json(const Rational& q) {
  const double d = rational_to_double(q);
  if (std::isfinite(d) && rational_from_double(d) == q) {
    // The range test first: converting a double beyond the int64 range (1e20) is undefined.
    if (std::fabs(d) < 9e15 && q == Rational(BigInt(static_cast<std::int64_t>(d)))) {
      return static_cast<std::int64_t>(d);
    }
    return d;  // nlohmann prints doubles with round-trip precision
  }
  return rational_to_string(q);
}

json instance_to_json(const InstanceData& data) {
  json doc;
  doc["format"] = "ntp-instance";
  doc["version"] = 1;
  if (!data.name.empty()) doc["name"] = data.name;
  if (!data.description.empty()) doc["description"] = data.description;
  doc["vocab_size"] = data.vocab_size;
  doc["embedding_dim"] = data.embedding_dim;
  json ctxs = json::array();
  for (const auto& c : data.contexts) {
    json jc;
    json e = json::array();
    for (const auto& x : c.embedding) e.push_back(rational_to_json(x));
    jc["embedding"] = std::move(e);
    jc["next_tokens"] = c.tokens;
    if (!c.counts.empty()) {
      jc["counts"] = c.counts;
    } else {
      jc["weight"] = rational_to_json(c.weight);
      json pr = json::array();
      for (const auto& x : c.probabilities) pr.push_back(rational_to_json(x));
      jc["probabilities"] = std::move(pr);
    }
    ctxs.push_back(std::move(jc));
  }
  doc["contexts"] = std::move(ctxs);
  if (!data.extra.is_null()) doc["extra"] = data.extra;
  return doc;
}

}  // namespace ntp
