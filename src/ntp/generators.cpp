#include "ntp/generators.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "ntp/corpus.hpp"
#include "ntp/instance_io.hpp"
#include "ntp/rational.hpp"
#include "ntp/rng.hpp"

namespace ntp {

namespace {

// Independent random streams of one seed, so that e.g. changing support_size does not change the
// embeddings.
constexpr std::uint64_t kStreamEmbeddings = 1;
constexpr std::uint64_t kStreamSupports = 2;
constexpr std::uint64_t kStreamProbabilities = 3;
constexpr std::uint64_t kStreamSpecial = 4;  // the special pair of incompatible / inseparable

constexpr std::int64_t kCorpusDefaultDim = 16;

struct Family {
  const char* name;
  const char* summary;
};

constexpr Family kFamilies[] = {
    {"overparameterized",
     "d >= m, Gaussian embeddings (rank m), random supports: (C) and (6) hold [T Lemma 1]"},
    {"one-hot", "|S_j| = 1 for every context: H = 0, F = {0} [T Remark 1]"},
    {"paper-toy", "the paper's toy: d=2, m=3, V=5, supports {1,2,5},{1,4,5},{2,3,4} [T App. A]"},
    {"paper-main", "the paper's main instance: m=50, d=60, V=10, |S_j|=6 [T App. A]"},
    {"incompatible",
     "two contexts share embedding and support, conflicting log-odds: (C) fails, (6) holds"},
    {"inseparable", "h_1 = -h_0 with supports {a,b}, {a,c}: (6) fails, (C) holds"},
    {"underparameterized", "d < m, Gaussian embeddings, overlapping random supports"},
    {"corpus", "contexts and next-token counts of a text file (word or char level)"},
};

[[noreturn]] void bad_option(const std::string& field, const std::string& problem,
                             const std::string& value) {
  throw InvalidInput("invalid generator option: " + field + " " + problem + ", got " + value);
}

// Shortest decimal that reads back as x.
std::string show(double x) {
  char buf[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

struct Shape {
  std::int64_t V = 0, d = 0, m = 0, k = 0;  // k = |S_j| of the random supports (0 if none)
};

std::int64_t resolve(std::int64_t value, std::int64_t fallback, const char* field) {
  if (value == -1) return fallback;
  if (value <= 0) {
    bad_option(field, "must be positive (or -1 for the family default)", std::to_string(value));
  }
  return value;
}

std::int64_t fixed(std::int64_t value, std::int64_t required, const char* field,
                   const std::string& family) {
  if (value != -1 && value != required) {
    bad_option(field, "must be " + std::to_string(required) + " (or -1) for family " + family,
               std::to_string(value));
  }
  return required;
}

// The documented size limits of instance.hpp, checked before anything is allocated.
void check_limits(const Shape& s) {
  if (s.V < 2 || s.V > SizeLimits::kMaxVocab) {
    bad_option("vocab_size", "must be in [2, " + std::to_string(SizeLimits::kMaxVocab) + "]",
               std::to_string(s.V));
  }
  if (s.d > SizeLimits::kMaxDim) {
    bad_option("embedding_dim", "must be at most " + std::to_string(SizeLimits::kMaxDim),
               std::to_string(s.d));
  }
  if (s.m > SizeLimits::kMaxContexts) {
    bad_option("num_contexts", "must be at most " + std::to_string(SizeLimits::kMaxContexts),
               std::to_string(s.m));
  }
  // Each factor is at most 10^7 here, so the products do not overflow.
  const std::int64_t lim = SizeLimits::kMaxMatrixEntries;
  if (s.V * s.d > lim) {
    bad_option("vocab_size", "times embedding_dim must be at most " + std::to_string(lim),
               std::to_string(s.V * s.d));
  }
  if (s.V * s.m > lim) {
    bad_option("vocab_size", "times num_contexts must be at most " + std::to_string(lim),
               std::to_string(s.V * s.m));
  }
  if (s.d * s.m > lim) {
    bad_option("embedding_dim", "times num_contexts must be at most " + std::to_string(lim),
               std::to_string(s.d * s.m));
  }
}

void check_alpha(double alpha) {
  if (!(alpha > 0.0) || std::isinf(alpha)) {
    bad_option("dirichlet_alpha", "must be positive and finite", show(alpha));
  }
}

void check_support(const Shape& s, std::int64_t min_k) {
  if (s.k < min_k || s.k >= s.V) {
    bad_option("support_size",
               "must be in [" + std::to_string(min_k) +
                   ", vocab_size - 1 = " + std::to_string(s.V - 1) + "]",
               std::to_string(s.k));
  }
}

/** h ~ N(0, I/d), each entry rounded (half away from zero) to a multiple of kEmbeddingGrid. */
std::vector<Rational> gaussian_embedding(Rng& rng, std::int64_t d) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const BigInt den(static_cast<long long>(1.0 / kEmbeddingGrid));
  std::vector<Rational> h;
  h.reserve(static_cast<std::size_t>(d));
  for (std::int64_t i = 0; i < d; ++i) {
    // |normal()| <= 12 (polar method), so the multiple fits easily; division by 2^-16 is exact.
    const double q = std::round(rng.normal() * scale / kEmbeddingGrid);
    h.emplace_back(BigInt(static_cast<long long>(q)), den);
  }
  return h;
}

/**
 * A Dirichlet(alpha) vector of length k as exact fractions with a modest denominator:
 * count_i = 1 + floor(x_i (B - k)), B = max(kProbabilityBudget, 2k), p_i = count_i / sum(count).
 * Every p_i > 0, and they sum to 1 exactly.
 */
std::vector<Rational> dirichlet_probabilities(Rng& rng, std::int64_t k, double alpha) {
  const auto x = rng.dirichlet(k, alpha);
  const double spread = static_cast<double>(std::max(kProbabilityBudget, 2 * k) - k);
  std::vector<std::uint64_t> counts;
  std::uint64_t total = 0;
  for (const double xi : x) {
    counts.push_back(1 + static_cast<std::uint64_t>(std::floor(xi * spread)));
    total += counts.back();
  }
  std::vector<Rational> p;
  p.reserve(counts.size());
  for (const auto c : counts) p.emplace_back(BigInt(c), BigInt(total));
  return p;
}

nlohmann::json provenance(const std::string& family, const GeneratorOptions& o, const Shape& s) {
  nlohmann::json j;
  j["generator"] = family;
  j["seed"] = o.seed;
  j["vocab_size"] = s.V;
  j["embedding_dim"] = s.d;
  j["num_contexts"] = s.m;
  if (s.k > 0) j["support_size"] = s.k;
  j["dirichlet_alpha"] = o.dirichlet_alpha;
  j["embedding"] = "gaussian N(0, I/d) rounded to multiples of 2^-16";
  j["probabilities"] = "Dirichlet(alpha) as counts summing to about max(1000, 2 |S_j|)";
  j["weights"] = "uniform 1/m";
  return j;
}

std::string sizes_text(const Shape& s, double alpha, std::uint64_t seed) {
  std::string t =
      "V=" + std::to_string(s.V) + ", d=" + std::to_string(s.d) + ", m=" + std::to_string(s.m);
  if (s.k > 0) t += ", |S_j|=" + std::to_string(s.k);
  return t + ", Dirichlet(" + show(alpha) + "), seed " + std::to_string(seed);
}

/**
 * The common construction: m contexts with Gaussian embeddings, supports either `fixed_supports`
 * or uniformly random k-subsets of [V], Dirichlet(alpha) probabilities, weights 1/m. Each part
 * comes from its own stream of the seed.
 */
InstanceData base_instance(const Shape& s, const GeneratorOptions& o,
                           const std::vector<std::vector<std::int32_t>>* fixed_supports = nullptr) {
  Rng emb(o.seed, kStreamEmbeddings);
  Rng supp(o.seed, kStreamSupports);
  Rng prob(o.seed, kStreamProbabilities);
  InstanceData data;
  data.vocab_size = s.V;
  data.embedding_dim = s.d;
  data.contexts.resize(static_cast<std::size_t>(s.m));
  const Rational weight(BigInt(1), BigInt(s.m));
  for (std::int64_t j = 0; j < s.m; ++j) {
    auto& c = data.contexts[static_cast<std::size_t>(j)];
    c.embedding = gaussian_embedding(emb, s.d);
    c.tokens = fixed_supports != nullptr ? (*fixed_supports)[static_cast<std::size_t>(j)]
                                         : supp.subset(s.V, s.k);
    c.probabilities = dirichlet_probabilities(prob, static_cast<std::int64_t>(c.tokens.size()),
                                              o.dirichlet_alpha);
    c.weight = weight;
  }
  return data;
}

InstanceData finish(InstanceData data, const std::string& name, const std::string& description,
                    nlohmann::json extra) {
  data.name = name;
  data.description = description;
  data.extra = std::move(extra);
  validate_and_normalise(data);
  return data;
}

// ---------------------------------------------------------------------------------------------

InstanceData overparameterized(const GeneratorOptions& o) {
  Shape s;
  s.V = resolve(o.vocab_size, 8, "vocab_size");
  s.d = resolve(o.embedding_dim, 12, "embedding_dim");
  s.m = resolve(o.num_contexts, 10, "num_contexts");
  s.k = resolve(o.support_size, std::min<std::int64_t>(3, s.V - 1), "support_size");
  check_limits(s);
  check_support(s, 1);
  if (s.d < s.m) {
    bad_option("embedding_dim",
               "must be at least num_contexts = " + std::to_string(s.m) +
                   " for family overparameterized (rank m needs d >= m)",
               std::to_string(s.d));
  }
  return finish(base_instance(s, o), "overparameterized",
                "overparameterized (d >= m, Gaussian embeddings, random supports): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                provenance("overparameterized", o, s));
}

InstanceData one_hot(const GeneratorOptions& o) {
  Shape s;
  s.V = resolve(o.vocab_size, 5, "vocab_size");
  s.d = resolve(o.embedding_dim, 4, "embedding_dim");
  s.m = resolve(o.num_contexts, 6, "num_contexts");
  s.k = fixed(o.support_size, 1, "support_size", "one-hot");
  check_limits(s);
  return finish(base_instance(s, o), "one-hot",
                "one-hot (|S_j| = 1, a uniformly random next token per context): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                provenance("one-hot", o, s));
}

InstanceData paper_toy(const GeneratorOptions& o) {
  const std::string f = "paper-toy";
  Shape s;
  s.V = fixed(o.vocab_size, 5, "vocab_size", f);
  s.d = fixed(o.embedding_dim, 2, "embedding_dim", f);
  s.m = fixed(o.num_contexts, 3, "num_contexts", f);
  fixed(o.support_size, 3, "support_size", f);
  // [T App. A]: {1,2,5}, {1,4,5}, {2,3,4} in 1-based ids.
  const std::vector<std::vector<std::int32_t>> supports = {{0, 1, 4}, {0, 3, 4}, {1, 2, 3}};
  auto extra = provenance(f, o, s);
  extra["support_size"] = 3;
  extra["supports"] = supports;
  return finish(base_instance(s, o, &supports), f,
                "the paper's toy instance (supports {1,2,5},{1,4,5},{2,3,4} 1-based, random "
                "embeddings and probabilities): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                std::move(extra));
}

InstanceData paper_main(const GeneratorOptions& o) {
  const std::string f = "paper-main";
  Shape s;
  s.V = fixed(o.vocab_size, 10, "vocab_size", f);
  s.d = fixed(o.embedding_dim, 60, "embedding_dim", f);
  s.m = fixed(o.num_contexts, 50, "num_contexts", f);
  s.k = fixed(o.support_size, 6, "support_size", f);
  // The overparameterized construction at the paper's sizes. N(0, I/d) embeddings keep
  // L = (1/2) lambda_max(sum_j pi_j h_j h_j^T) well below 1, so GD with eta = 0.5 <= 1/(2L) is in
  // the theorem's setting.
  return finish(base_instance(s, o), f,
                "the paper's main instance (overparameterized, Gaussian N(0, I/d) embeddings, "
                "random supports): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                provenance(f, o, s));
}

// Compatibility (C) fails, separability (6) holds.
// Contexts 0 and 1 have the same embedding h and the same support S (|S| >= 2) but p_0 != p_1. Two
// distributions on S that differ are not proportional, so some z, z' in S have
// log(p_{0,z}/p_{0,z'}) != log(p_{1,z}/p_{1,z'}), while (C) asks (e_z - e_z')^T W h to equal both.
// The m-1 distinct embeddings h_0, h_2, ..., h_{m-1} are Gaussian with d >= m-1, so linearly
// independent almost surely (the test checks rank m-1): W Hbar can then be any logit matrix with
// equal columns 0 and 1, e.g. column j = 1_{S_j}, which satisfies (6a) and (6b) (contexts 0 and 1
// ask for the same column, so they do not conflict).
InstanceData incompatible(const GeneratorOptions& o) {
  const std::string f = "incompatible";
  Shape s;
  s.V = resolve(o.vocab_size, 8, "vocab_size");
  s.d = resolve(o.embedding_dim, 12, "embedding_dim");
  s.m = resolve(o.num_contexts, 10, "num_contexts");
  s.k = resolve(o.support_size, std::min<std::int64_t>(3, s.V - 1), "support_size");
  check_limits(s);
  check_support(s, 2);
  if (s.m < 2) {
    bad_option("num_contexts", "must be at least 2 for family incompatible", std::to_string(s.m));
  }
  if (s.d < s.m - 1) {
    bad_option("embedding_dim",
               "must be at least num_contexts - 1 = " + std::to_string(s.m - 1) +
                   " for family incompatible (separability needs the m-1 distinct embeddings "
                   "independent)",
               std::to_string(s.d));
  }
  InstanceData data = base_instance(s, o);
  auto& c0 = data.contexts[0];
  auto& c1 = data.contexts[1];
  c1.embedding = c0.embedding;
  c1.tokens = c0.tokens;
  Rng special(o.seed, kStreamSpecial);
  c1.probabilities = dirichlet_probabilities(special, s.k, o.dirichlet_alpha);
  if (c1.probabilities == c0.probabilities) {
    // Equal draws (possible only by chance): p_1 = (p_0 + e_first)/2 differs from p_0 because
    // p_0 has k >= 2 positive entries.
    for (auto& q : c1.probabilities) q /= 2;
    c1.probabilities[0] += Rational(BigInt(1), BigInt(2));
  }
  auto extra = provenance(f, o, s);
  extra["duplicated_contexts"] = {0, 1};
  return finish(std::move(data), f,
                "incompatible (contexts 0 and 1 share embedding and support with different "
                "probabilities; other embeddings independent): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                std::move(extra));
}

// Separability (6) fails, compatibility (C) holds; theory.md §2 "Ways to break the conditions",
// generalised. h_1 = -h_0, S_0 = {a, b}, S_1 = {a, c} with a, b, c distinct; V >= 4 leaves a token
// e outside S_0 and S_1. (6b) asks (e_a - e_e)^T W h_0 >= 1 and (e_a - e_e)^T W h_1
// = -(e_a - e_e)^T W h_0 >= 1: contradictory for every W.
// (C): with u = W h_0 (so W h_1 = -u) it asks u_a - u_b = log(p_{0,a}/p_{0,b}) and
// u_a - u_c = -log(p_{1,a}/p_{1,c}); as b != c these fix u_b and u_c given u_a, so they are
// consistent. The embeddings h_0, h_2, ..., h_{m-1} are Gaussian with d >= m-1, so linearly
// independent almost surely (the test checks rank m-1): W can map them to any vectors, in
// particular to u and to logits meeting (C) for every other context.
InstanceData inseparable(const GeneratorOptions& o) {
  const std::string f = "inseparable";
  Shape s;
  s.V = resolve(o.vocab_size, 6, "vocab_size");
  s.d = resolve(o.embedding_dim, 8, "embedding_dim");
  s.m = resolve(o.num_contexts, 8, "num_contexts");
  s.k = resolve(o.support_size, std::min<std::int64_t>(3, s.V - 1), "support_size");
  check_limits(s);
  if (s.V < 4) {
    bad_option("vocab_size",
               "must be at least 4 for family inseparable (a token outside both "
               "supports {a,b} and {a,c})",
               std::to_string(s.V));
  }
  check_support(s, 1);
  if (s.m < 2) {
    bad_option("num_contexts", "must be at least 2 for family inseparable", std::to_string(s.m));
  }
  if (s.d < s.m - 1) {
    bad_option("embedding_dim",
               "must be at least num_contexts - 1 = " + std::to_string(s.m - 1) +
                   " for family inseparable (compatibility needs h_0, h_2, ..., h_{m-1} "
                   "independent)",
               std::to_string(s.d));
  }
  InstanceData data = base_instance(s, o);
  Rng special(o.seed, kStreamSpecial);
  // a, b, c distinct and uniformly random (ordered).
  const auto V = static_cast<std::uint64_t>(s.V);
  auto a = static_cast<std::int32_t>(special.uniform_int(V));
  auto b = static_cast<std::int32_t>(special.uniform_int(V - 1));
  if (b >= a) ++b;
  auto c = static_cast<std::int32_t>(special.uniform_int(V - 2));
  for (const auto t : {std::min(a, b), std::max(a, b)}) {
    if (c >= t) ++c;
  }
  auto& c0 = data.contexts[0];
  auto& c1 = data.contexts[1];
  c0.tokens = {std::min(a, b), std::max(a, b)};
  c1.tokens = {std::min(a, c), std::max(a, c)};
  c0.probabilities = dirichlet_probabilities(special, 2, o.dirichlet_alpha);
  c1.probabilities = dirichlet_probabilities(special, 2, o.dirichlet_alpha);
  c1.embedding = c0.embedding;
  for (auto& x : c1.embedding) x = -x;
  auto extra = provenance(f, o, s);
  extra["opposite_contexts"] = {0, 1};
  extra["tokens_abc"] = {a, b, c};
  return finish(std::move(data), f,
                "inseparable (h_1 = -h_0, S_0 = {a,b}, S_1 = {a,c}; other embeddings "
                "independent): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                std::move(extra));
}

InstanceData underparameterized(const GeneratorOptions& o) {
  const std::string f = "underparameterized";
  Shape s;
  s.V = resolve(o.vocab_size, 6, "vocab_size");
  s.d = resolve(o.embedding_dim, 3, "embedding_dim");
  s.m = resolve(o.num_contexts, 12, "num_contexts");
  s.k = resolve(o.support_size, std::min<std::int64_t>(2, s.V - 1), "support_size");
  check_limits(s);
  check_support(s, 1);
  if (s.d >= s.m) {
    bad_option("embedding_dim",
               "must be less than num_contexts = " + std::to_string(s.m) +
                   " for family underparameterized",
               std::to_string(s.d));
  }
  return finish(base_instance(s, o), f,
                "underparameterized (d < m, Gaussian embeddings, random supports): " +
                    sizes_text(s, o.dirichlet_alpha, o.seed),
                provenance(f, o, s));
}

std::string fnv1a64_hex(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char ch : bytes) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

InstanceData corpus(const GeneratorOptions& o) {
  const std::string f = "corpus";
  if (o.vocab_size != -1) {
    bad_option("vocab_size", "is set by the text for family corpus (leave it -1)",
               std::to_string(o.vocab_size));
  }
  if (o.num_contexts != -1) {
    bad_option("num_contexts", "is set by the text for family corpus (use max_contexts)",
               std::to_string(o.num_contexts));
  }
  if (o.support_size != -1) {
    bad_option("support_size", "is set by the text for family corpus (leave it -1)",
               std::to_string(o.support_size));
  }
  const TokenLevel level = parse_token_level(o.corpus_level);
  const bool one_hot = o.corpus_embedding == "one-hot";
  if (!one_hot && o.corpus_embedding != "gaussian") {
    bad_option("corpus_embedding", "must be \"gaussian\" or \"one-hot\"",
               quoted(o.corpus_embedding));
  }
  if (o.context_length < 1) {
    bad_option("context_length", "must be at least 1", std::to_string(o.context_length));
  }
  if (o.max_contexts == 0 || o.max_contexts < -1) {
    bad_option("max_contexts", "must be positive (or -1 for all)", std::to_string(o.max_contexts));
  }
  if (!one_hot) resolve(o.embedding_dim, kCorpusDefaultDim, "embedding_dim");
  if (o.corpus_path.empty()) {
    bad_option("corpus_path", "must name a text file for family corpus", quoted(""));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(o.corpus_path, ec)) {
    bad_option("corpus_path", "is a directory, not a text file", quoted(o.corpus_path));
  }
  std::ifstream in(o.corpus_path, std::ios::binary);
  if (!in) bad_option("corpus_path", "cannot be opened", quoted(o.corpus_path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) bad_option("corpus_path", "could not be read", quoted(o.corpus_path));

  const auto tokens = tokenize(text, level);
  CorpusCounts cc = count_contexts(tokens, o.context_length, o.max_contexts);
  const std::string where = "at level " + token_level_name(level);
  if (cc.vocabulary.size() < 2) {
    bad_option("corpus_path", "must hold at least 2 distinct tokens " + where,
               std::to_string(cc.vocabulary.size()) + " in " + quoted(o.corpus_path));
  }
  if (cc.contexts.empty()) {
    bad_option("corpus_path",
               "must hold more than context_length = " + std::to_string(o.context_length) +
                   " tokens " + where,
               std::to_string(cc.num_tokens) + " in " + quoted(o.corpus_path));
  }
  Shape s;
  s.V = static_cast<std::int64_t>(cc.vocabulary.size());
  s.m = static_cast<std::int64_t>(cc.contexts.size());
  if (one_hot) {
    if (o.embedding_dim != -1 && o.embedding_dim != s.m) {
      bad_option("embedding_dim",
                 "must be -1 or the number of contexts " + std::to_string(s.m) +
                     " with corpus_embedding one-hot",
                 std::to_string(o.embedding_dim));
    }
    s.d = s.m;
  } else {
    s.d = resolve(o.embedding_dim, kCorpusDefaultDim, "embedding_dim");
  }
  check_limits(s);

  InstanceData data;
  data.vocab_size = s.V;
  data.embedding_dim = s.d;
  data.contexts.resize(static_cast<std::size_t>(s.m));
  Rng emb(o.seed, kStreamEmbeddings);
  for (std::int64_t j = 0; j < s.m; ++j) {
    auto& c = data.contexts[static_cast<std::size_t>(j)];
    auto& cj = cc.contexts[static_cast<std::size_t>(j)];
    if (one_hot) {
      c.embedding.assign(static_cast<std::size_t>(s.d), Rational(0));
      c.embedding[static_cast<std::size_t>(j)] = 1;
    } else {
      c.embedding = gaussian_embedding(emb, s.d);
    }
    // Counts only: validate_and_normalise sets pi_j = count(j)/n and p_{j,z} = count(j,z)/count(j).
    c.tokens = std::move(cj.next);
    c.counts = std::move(cj.counts);
  }

  nlohmann::json extra;
  extra["generator"] = f;
  extra["seed"] = o.seed;
  extra["corpus_path"] = o.corpus_path;
  extra["corpus_bytes"] = text.size();
  extra["corpus_fnv1a64"] = fnv1a64_hex(text);
  extra["corpus_level"] = token_level_name(level);
  extra["context_length"] = o.context_length;
  extra["corpus_embedding"] = one_hot ? "one-hot" : "gaussian";
  extra["embedding_dim"] = s.d;
  extra["max_contexts"] = o.max_contexts;
  extra["num_tokens"] = cc.num_tokens;
  extra["num_contexts_total"] = cc.num_contexts_total;
  extra["vocabulary"] = cc.vocabulary;
  auto& histories = extra["contexts"] = nlohmann::json::array();
  for (const auto& cj : cc.contexts) histories.push_back(cj.history);
  const std::string base = std::filesystem::path(o.corpus_path).filename().string();
  return finish(std::move(data), f,
                "corpus " + base + " (" + token_level_name(level) + " level, context length " +
                    std::to_string(o.context_length) + ", " + std::to_string(cc.num_tokens) +
                    " tokens): V=" + std::to_string(s.V) + ", m=" + std::to_string(s.m) + ", " +
                    (one_hot ? "one-hot" : "gaussian") + " embeddings d=" + std::to_string(s.d),
                std::move(extra));
}

}  // namespace

InstanceData generate(const GeneratorOptions& options) {
  const std::string& f = options.family;
  check_alpha(options.dirichlet_alpha);
  if (f == "overparameterized") return overparameterized(options);
  if (f == "one-hot") return one_hot(options);
  if (f == "paper-toy") return paper_toy(options);
  if (f == "paper-main") return paper_main(options);
  if (f == "incompatible") return incompatible(options);
  if (f == "inseparable") return inseparable(options);
  if (f == "underparameterized") return underparameterized(options);
  if (f == "corpus") return corpus(options);
  std::string known;
  for (const auto& fam : kFamilies) known += (known.empty() ? "" : ", ") + std::string(fam.name);
  bad_option("family", "must be one of " + known, quoted(f));
}

std::vector<std::string> generator_families() {
  std::vector<std::string> names;
  for (const auto& fam : kFamilies) names.emplace_back(fam.name);
  return names;
}

std::string generator_family_summary(const std::string& family) {
  for (const auto& fam : kFamilies) {
    if (family == fam.name) return fam.summary;
  }
  bad_option("family", "is not a generator family", quoted(family));
}

std::uint64_t parse_seed(const std::string& text, const std::string& field) {
  const auto q = parse_rational(text);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || !q ||
      *q > Rational(BigInt(std::numeric_limits<std::uint64_t>::max()))) {
    throw InvalidInput("invalid option: " + field + " must be an integer in [0, 2^64), got \"" +
                       text + "\"");
  }
  return std::stoull(text);
}

InstanceData load_instance(const std::string& arg) {
  if (!arg.empty() && arg.front() == '@') {
    GeneratorOptions g;
    const auto colon = arg.find(':');
    g.family = arg.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
    if (colon != std::string::npos) {
      g.seed = parse_seed(arg.substr(colon + 1), "the seed of FILE " + arg);
    }
    return generate(g);
  }
  return read_instance_file(arg);
}

}  // namespace ntp
