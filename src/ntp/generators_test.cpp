#include "ntp/generators.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ntp/errors.hpp"
#include "ntp/rational.hpp"

namespace ntp {
namespace {

const std::vector<std::string> kSyntheticFamilies = {
    "overparameterized", "one-hot",     "paper-toy",          "paper-main",
    "incompatible",      "inseparable", "underparameterized",
};

GeneratorOptions opts(const std::string& family, std::uint64_t seed = 1) {
  GeneratorOptions o;
  o.family = family;
  o.seed = seed;
  return o;
}

// Embeddings are exact doubles (multiples of 2^-16), so this conversion is exact.
Eigen::MatrixXd hbar(const InstanceData& data) {
  Eigen::MatrixXd h(data.embedding_dim, data.num_contexts());
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    for (std::int64_t i = 0; i < data.embedding_dim; ++i) {
      h(i, j) = rational_to_double(data.contexts[j].embedding[i]);
    }
  }
  return h;
}

Eigen::Index rank(const Eigen::MatrixXd& a) {
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(a);
  const auto& s = svd.singularValues();
  const double tol = static_cast<double>(std::max(a.rows(), a.cols())) * 1e-12 * s(0);
  Eigen::Index r = 0;
  for (Eigen::Index i = 0; i < s.size(); ++i) r += s(i) > tol ? 1 : 0;
  return r;
}

Eigen::MatrixXd drop_column(const Eigen::MatrixXd& a, Eigen::Index col) {
  Eigen::MatrixXd b(a.rows(), a.cols() - 1);
  for (Eigen::Index j = 0, k = 0; j < a.cols(); ++j) {
    if (j != col) b.col(k++) = a.col(j);
  }
  return b;
}

double prob(const InstanceData& data, std::size_t j, std::size_t k) {
  return rational_to_double(data.contexts[j].probabilities[k]);
}

double entropy(const InstanceData& data) {
  double h = 0;
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    double hj = 0;
    for (std::size_t k = 0; k < data.contexts[j].tokens.size(); ++k) {
      hj -= prob(data, j, k) * std::log(prob(data, j, k));
    }
    h += rational_to_double(data.contexts[j].weight) * hj;
  }
  return h;
}

// W (V x d) with W h = logits(:, k) for the columns `cols` of Hbar, which must be independent:
// W^T = H (H^T H)^{-1} L^T.
Eigen::MatrixXd interpolate(const Eigen::MatrixXd& h, const Eigen::MatrixXd& logits) {
  const Eigen::MatrixXd g = h.transpose() * h;
  const Eigen::MatrixXd x = g.ldlt().solve(logits.transpose());
  return (h * x).transpose();
}

// (C): (e_z - e_z')^T W h_j = log(p_{j,z}/p_{j,z'}) for all j and z, z' in S_j (anchor z = S_j[0]).
bool satisfies_compatibility(const InstanceData& data, const Eigen::MatrixXd& w) {
  const Eigen::MatrixXd l = w * hbar(data);
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    const auto& t = data.contexts[j].tokens;
    for (std::size_t k = 1; k < t.size(); ++k) {
      const double want = std::log(prob(data, j, 0) / prob(data, j, k));
      if (std::fabs(l(t[0], j) - l(t[k], j) - want) > 1e-8) return false;
    }
  }
  return true;
}

// (6a) in-support logits tied, (6b) in-support minus out-of-support >= 1.
bool satisfies_separability(const InstanceData& data, const Eigen::MatrixXd& w) {
  const Eigen::MatrixXd l = w * hbar(data);
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    const auto& t = data.contexts[j].tokens;
    const std::set<std::int32_t> s(t.begin(), t.end());
    for (const auto z : t) {
      if (std::fabs(l(z, j) - l(t[0], j)) > 1e-8) return false;
      for (std::int32_t v = 0; v < data.vocab_size; ++v) {
        if (!s.count(v) && l(z, j) - l(v, j) < 1 - 1e-8) return false;
      }
    }
  }
  return true;
}

// Target logits: centred in-support log-probabilities (for (C)) or the support indicator ((6)).
Eigen::MatrixXd log_odds_logits(const InstanceData& data) {
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(data.vocab_size, data.num_contexts());
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    for (std::size_t k = 0; k < data.contexts[j].tokens.size(); ++k) {
      l(data.contexts[j].tokens[k], static_cast<Eigen::Index>(j)) = std::log(prob(data, j, k));
    }
  }
  return l;
}

Eigen::MatrixXd support_logits(const InstanceData& data) {
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(data.vocab_size, data.num_contexts());
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    for (const auto z : data.contexts[j].tokens) l(z, static_cast<Eigen::Index>(j)) = 1;
  }
  return l;
}

// The structure every generator promises (generators.hpp).
void expect_well_formed(const InstanceData& data, const std::string& family) {
  SCOPED_TRACE(family);
  EXPECT_EQ(data.name, family);
  EXPECT_FALSE(data.description.empty());
  EXPECT_EQ(data.description.find('\n'), std::string::npos);
  EXPECT_EQ(data.extra.at("generator"), family);
  EXPECT_EQ(data.extra.at("vocab_size"), data.vocab_size);
  EXPECT_EQ(data.extra.at("embedding_dim"), data.embedding_dim);
  EXPECT_EQ(data.extra.at("num_contexts"), data.num_contexts());
  EXPECT_TRUE(data.extra.contains("seed"));
  EXPECT_TRUE(data.extra.contains("dirichlet_alpha"));
  const Rational weight(BigInt(1), BigInt(data.num_contexts()));
  for (const auto& c : data.contexts) {
    ASSERT_EQ(static_cast<std::int64_t>(c.embedding.size()), data.embedding_dim);
    for (const auto& x : c.embedding) {
      ASSERT_EQ(65536 % denominator(x), 0) << "not a multiple of 2^-16";
    }
    EXPECT_EQ(c.weight, weight);
    ASSERT_FALSE(c.tokens.empty());
    ASSERT_EQ(c.tokens.size(), c.probabilities.size());
    Rational sum = 0;
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      ASSERT_GE(c.tokens[k], 0);
      ASSERT_LT(c.tokens[k], data.vocab_size);
      if (k > 0) {
        ASSERT_LT(c.tokens[k - 1], c.tokens[k]);
      }
      ASSERT_GT(c.probabilities[k], 0);
      ASSERT_LE(denominator(c.probabilities[k]), 2000) << "not a modest denominator";
      sum += c.probabilities[k];
    }
    EXPECT_EQ(sum, 1);
  }
}

bool same(const InstanceData& a, const InstanceData& b) {
  if (a.vocab_size != b.vocab_size || a.embedding_dim != b.embedding_dim || a.name != b.name ||
      a.description != b.description || a.extra != b.extra ||
      a.contexts.size() != b.contexts.size()) {
    return false;
  }
  for (std::size_t j = 0; j < a.contexts.size(); ++j) {
    const auto& x = a.contexts[j];
    const auto& y = b.contexts[j];
    if (x.embedding != y.embedding || x.weight != y.weight || x.tokens != y.tokens ||
        x.probabilities != y.probabilities || x.counts != y.counts) {
      return false;
    }
  }
  return true;
}

// FNV-1a over a canonical text of every number: pins the exact output across platforms.
std::string text(const Rational& q) { return numerator(q).str() + "/" + denominator(q).str(); }

std::string fingerprint(const InstanceData& data) {
  std::string s = std::to_string(data.vocab_size) + " " + std::to_string(data.embedding_dim);
  for (const auto& c : data.contexts) {
    s += "|";
    for (const auto& x : c.embedding) s += text(x) + ",";
    s += ";" + text(c.weight) + ";";
    for (const auto t : c.tokens) s += std::to_string(t) + ",";
    for (const auto& p : c.probabilities) s += text(p) + ",";
  }
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char ch : s) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string error_of(const GeneratorOptions& o) {
  try {
    (void)generate(o);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "no exception";
}

// ---------------------------------------------------------------------------------------------

TEST(GeneratorFamilies, ListAndSummaries) {
  const auto names = generator_families();
  EXPECT_EQ(names.size(), 8u);
  for (const auto& f : kSyntheticFamilies) {
    EXPECT_NE(std::find(names.begin(), names.end(), f), names.end()) << f;
  }
  for (const auto& f : names) EXPECT_FALSE(generator_family_summary(f).empty());
  EXPECT_THROW(generator_family_summary("nope"), InvalidInput);
}

TEST(GeneratorAll, WellFormedDeterministicAndSeedSensitive) {
  for (const auto& f : kSyntheticFamilies) {
    SCOPED_TRACE(f);
    const InstanceData a = generate(opts(f, 3));
    expect_well_formed(a, f);
    EXPECT_EQ(a.extra.at("seed"), 3);
    EXPECT_TRUE(same(a, generate(opts(f, 3))));
    const InstanceData b = generate(opts(f, 4));
    EXPECT_FALSE(same(a, b));
    EXPECT_NE(a.contexts[0].embedding, b.contexts[0].embedding);
  }
}

// Golden fingerprints of the default instances, produced once by this code (gcc 12 and clang 14
// agree). They pin bit-identical output across compilers and platforms, not correctness. Changing
// the RNG, a default or a construction changes them (then update them deliberately and say so).
TEST(GeneratorGolden, DefaultInstancesFingerprints) {
  const std::map<std::string, std::string> golden = {
      {"overparameterized", "626e552dcfa2954f"},  {"one-hot", "ed198187c36ee7a6"},
      {"paper-toy", "b8758f801e2bc9b5"},          {"paper-main", "48e19fdb9b39b70b"},
      {"incompatible", "6bbd800ec9cab13a"},       {"inseparable", "106da3d6179fa54e"},
      {"underparameterized", "df388ba99103b6ce"},
  };
  for (const auto& f : kSyntheticFamilies) {
    EXPECT_EQ(fingerprint(generate(opts(f))), golden.at(f)) << f;
  }
}

TEST(GeneratorOverparameterized, RankMAndBothConditions) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const InstanceData data = generate(opts("overparameterized", seed));
    EXPECT_EQ(data.vocab_size, 8);
    EXPECT_EQ(data.embedding_dim, 12);
    EXPECT_EQ(data.num_contexts(), 10);
    for (const auto& c : data.contexts) EXPECT_EQ(c.tokens.size(), 3u);
    const Eigen::MatrixXd h = hbar(data);
    EXPECT_EQ(rank(h), 10);
    // [T Lemma 1]: rank m, so W Hbar is any logit matrix: witnesses of (C) and of (6).
    EXPECT_TRUE(satisfies_compatibility(data, interpolate(h, log_odds_logits(data))));
    EXPECT_TRUE(satisfies_separability(data, interpolate(h, support_logits(data))));
  }
  GeneratorOptions o = opts("overparameterized");
  o.embedding_dim = 10;  // d = m is allowed
  EXPECT_EQ(rank(hbar(generate(o))), 10);
  o.embedding_dim = 9;
  EXPECT_EQ(error_of(o),
            "invalid generator option: embedding_dim must be at least num_contexts = 10 for family "
            "overparameterized (rank m needs d >= m), got 9");
}

TEST(GeneratorOverparameterized, OptionsAndStreams) {
  GeneratorOptions o = opts("overparameterized", 9);
  o.vocab_size = 20;
  o.num_contexts = 7;
  o.embedding_dim = 30;
  o.support_size = 5;
  o.dirichlet_alpha = 0.05;  // very uneven draws still give positive exact probabilities
  const InstanceData a = generate(o);
  expect_well_formed(a, "overparameterized");
  EXPECT_EQ(a.extra.at("support_size"), 5);
  EXPECT_EQ(a.extra.at("dirichlet_alpha"), 0.05);
  for (const auto& c : a.contexts) EXPECT_EQ(c.tokens.size(), 5u);
  // Separate streams: the support size does not change the embeddings.
  o.support_size = 2;
  const InstanceData b = generate(o);
  for (std::size_t j = 0; j < a.contexts.size(); ++j) {
    EXPECT_EQ(a.contexts[j].embedding, b.contexts[j].embedding);
  }
}

TEST(GeneratorOneHot, SingletonSupportsZeroEntropy) {
  const InstanceData data = generate(opts("one-hot", 2));
  EXPECT_EQ(data.vocab_size, 5);
  EXPECT_EQ(data.embedding_dim, 4);
  EXPECT_EQ(data.num_contexts(), 6);
  for (const auto& c : data.contexts) {
    ASSERT_EQ(c.tokens.size(), 1u);
    EXPECT_EQ(c.probabilities[0], 1);
  }
  EXPECT_EQ(entropy(data), 0.0);
  GeneratorOptions o = opts("one-hot");
  o.support_size = 2;
  EXPECT_THROW(generate(o), InvalidInput);
}

TEST(GeneratorPaperToy, PaperSupports) {
  const InstanceData data = generate(opts("paper-toy"));
  EXPECT_EQ(data.vocab_size, 5);
  EXPECT_EQ(data.embedding_dim, 2);
  ASSERT_EQ(data.num_contexts(), 3);
  // [T App. A] supports {1,2,5}, {1,4,5}, {2,3,4}, 0-based.
  EXPECT_EQ(data.contexts[0].tokens, (std::vector<std::int32_t>{0, 1, 4}));
  EXPECT_EQ(data.contexts[1].tokens, (std::vector<std::int32_t>{0, 3, 4}));
  EXPECT_EQ(data.contexts[2].tokens, (std::vector<std::int32_t>{1, 2, 3}));
  GeneratorOptions o = opts("paper-toy");
  o.vocab_size = 6;
  EXPECT_EQ(error_of(o),
            "invalid generator option: vocab_size must be 5 (or -1) for family paper-toy, got 6");
}

TEST(GeneratorPaperMain, PaperSizesRankAndStableStep) {
  GeneratorOptions o;
  o.family = "paper-main";  // default seed 1: the project's main instance
  const InstanceData data = generate(o);
  EXPECT_EQ(data.extra.at("seed"), 1);
  EXPECT_EQ(data.vocab_size, 10);
  EXPECT_EQ(data.embedding_dim, 60);
  EXPECT_EQ(data.num_contexts(), 50);
  for (const auto& c : data.contexts) EXPECT_EQ(c.tokens.size(), 6u);
  const Eigen::MatrixXd h = hbar(data);
  EXPECT_EQ(rank(h), 50);
  // L = (1/2) lambda_max(sum_j pi_j h_j h_j^T) (theory.md §1); GD with eta = 0.5 needs L <= 1.
  const Eigen::MatrixXd cov = h * h.transpose() / 50.0;
  const double lmax = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(cov).eigenvalues().maxCoeff();
  EXPECT_LE(0.5 * lmax, 1.0);
  // Dirichlet(1) on 6 tokens has expected entropy H_6 - 1 = 1.45 (the paper reports H ~ 1.445);
  // the average over 50 contexts has sd ~ 0.04.
  EXPECT_NEAR(entropy(data), 1.45, 0.2);
  EXPECT_TRUE(satisfies_compatibility(data, interpolate(h, log_odds_logits(data))));
  EXPECT_TRUE(satisfies_separability(data, interpolate(h, support_logits(data))));
  o.num_contexts = 51;
  EXPECT_THROW(generate(o), InvalidInput);
}

TEST(GeneratorIncompatible, SharedEmbeddingConflictingLogOddsStillSeparable) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const InstanceData data = generate(opts("incompatible", seed));
    const auto& c0 = data.contexts[0];
    const auto& c1 = data.contexts[1];
    EXPECT_EQ(c0.embedding, c1.embedding);
    EXPECT_EQ(c0.tokens, c1.tokens);
    ASSERT_GE(c0.tokens.size(), 2u);
    // (C) fails: it asks (e_z - e_z')^T W h for the one h to equal two different log-odds.
    bool conflict = false;
    for (std::size_t k = 1; k < c0.tokens.size(); ++k) {
      conflict |=
          c0.probabilities[0] * c1.probabilities[k] != c1.probabilities[0] * c0.probabilities[k];
    }
    EXPECT_TRUE(conflict);
    // The other m-1 embeddings are independent, so (6) holds: a witness with logits 1_{S_j}.
    const Eigen::MatrixXd h = hbar(data);
    EXPECT_EQ(rank(h), data.num_contexts() - 1);
    const Eigen::MatrixXd w = interpolate(drop_column(h, 1), drop_column(support_logits(data), 1));
    EXPECT_TRUE(satisfies_separability(data, w));
    EXPECT_FALSE(satisfies_compatibility(
        data, interpolate(drop_column(h, 1), drop_column(log_odds_logits(data), 1))));
  }
  GeneratorOptions o = opts("incompatible");
  o.support_size = 1;
  EXPECT_THROW(generate(o), InvalidInput);
  o = opts("incompatible");
  o.embedding_dim = 9;  // d = m - 1 is allowed
  EXPECT_EQ(rank(hbar(generate(o))), 9);
  o.embedding_dim = 8;
  EXPECT_THROW(generate(o), InvalidInput);
}

TEST(GeneratorInseparable, OppositeEmbeddingsStillCompatible) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const InstanceData data = generate(opts("inseparable", seed));
    const auto& c0 = data.contexts[0];
    const auto& c1 = data.contexts[1];
    for (std::int64_t i = 0; i < data.embedding_dim; ++i) {
      EXPECT_EQ(c1.embedding[i], -c0.embedding[i]);
    }
    ASSERT_EQ(c0.tokens.size(), 2u);
    ASSERT_EQ(c1.tokens.size(), 2u);
    // S_0 = {a, b}, S_1 = {a, c}: exactly one shared token, b != c.
    std::set<std::int32_t> s0(c0.tokens.begin(), c0.tokens.end());
    std::set<std::int32_t> both;
    for (const auto t : c1.tokens) {
      if (s0.count(t)) both.insert(t);
    }
    EXPECT_EQ(both.size(), 1u);
    const auto a = *both.begin();
    EXPECT_EQ(data.extra.at("tokens_abc")[0], a);
    // A token e outside S_0 and S_1 makes (6b) contradictory (see generators.cpp).
    EXPECT_GE(data.vocab_size, 4);
    // (6b) at e for j = 0 and j = 1 would need t >= 1 and -t >= 1 for t = (e_a - e_e)^T W h_0;
    // checked structurally: h_1 = -h_0 above and the shared token a in both supports.
    // (C) holds: interpolate W h_0 = u with u_a = 0, u_b = log(p_{0,b}/p_{0,a}),
    // u_c = log(p_{1,a}/p_{1,c}) (so W h_1 = -u), and the log-probabilities on the others.
    const Eigen::MatrixXd h = hbar(data);
    EXPECT_EQ(rank(h), data.num_contexts() - 1);
    Eigen::MatrixXd l = log_odds_logits(data);
    l.col(0).setZero();
    const double la0 = std::log(prob(data, 0, c0.tokens[0] == a ? 0 : 1));
    const double la1 = std::log(prob(data, 1, c1.tokens[0] == a ? 0 : 1));
    for (std::size_t k = 0; k < 2; ++k) {
      if (c0.tokens[k] != a) l(c0.tokens[k], 0) = std::log(prob(data, 0, k)) - la0;
      if (c1.tokens[k] != a) l(c1.tokens[k], 0) = la1 - std::log(prob(data, 1, k));
    }
    const Eigen::MatrixXd w = interpolate(drop_column(h, 1), drop_column(l, 1));
    EXPECT_TRUE(satisfies_compatibility(data, w));
    EXPECT_FALSE(satisfies_separability(
        data, interpolate(drop_column(h, 1), drop_column(support_logits(data), 1))));
  }
  GeneratorOptions o = opts("inseparable");
  o.vocab_size = 3;
  EXPECT_THROW(generate(o), InvalidInput);
  o = opts("inseparable");
  o.vocab_size = 4;
  o.support_size = 2;
  expect_well_formed(generate(o), "inseparable");
  o.embedding_dim = 6;  // < m - 1 = 7
  EXPECT_THROW(generate(o), InvalidInput);
}

TEST(GeneratorUnderparameterized, FewerDimensionsThanContexts) {
  const InstanceData data = generate(opts("underparameterized"));
  EXPECT_EQ(data.vocab_size, 6);
  EXPECT_EQ(data.embedding_dim, 3);
  EXPECT_EQ(data.num_contexts(), 12);
  EXPECT_EQ(rank(hbar(data)), 3);
  bool overlap = false;
  for (std::size_t i = 0; i < data.contexts.size(); ++i) {
    EXPECT_EQ(data.contexts[i].tokens.size(), 2u);
    for (std::size_t j = i + 1; j < data.contexts.size(); ++j) {
      for (const auto t : data.contexts[i].tokens) {
        for (const auto u : data.contexts[j].tokens) overlap |= t == u;
      }
    }
  }
  EXPECT_TRUE(overlap);
  GeneratorOptions o = opts("underparameterized");
  o.embedding_dim = 12;
  EXPECT_THROW(generate(o), InvalidInput);
}

TEST(GeneratorOptionsCheck, BadOptionsAreInvalidInput) {
  EXPECT_EQ(error_of(opts("nope")).rfind("invalid generator option: family must be one of ", 0),
            0u);
  EXPECT_NE(error_of(opts("nope")).find(", got \"nope\""), std::string::npos);
  for (const auto& f : kSyntheticFamilies) {
    SCOPED_TRACE(f);
    GeneratorOptions o = opts(f);
    o.vocab_size = 0;
    EXPECT_THROW(generate(o), InvalidInput);
    o = opts(f);
    o.num_contexts = -2;
    EXPECT_THROW(generate(o), InvalidInput);
    o = opts(f);
    o.dirichlet_alpha = 0;
    EXPECT_THROW(generate(o), InvalidInput);
    o.dirichlet_alpha = std::nan("");
    EXPECT_THROW(generate(o), InvalidInput);
    o.dirichlet_alpha = INFINITY;
    EXPECT_THROW(generate(o), InvalidInput);
  }
  GeneratorOptions o = opts("overparameterized");
  o.support_size = 8;  // = V: every support full, the standing assumption fails
  EXPECT_EQ(error_of(o),
            "invalid generator option: support_size must be in [1, vocab_size - 1 = 7], got 8");
  o = opts("overparameterized");
  o.vocab_size = 2'000'000;  // refused before any allocation
  EXPECT_THROW(generate(o), InvalidInput);
  o = opts("overparameterized");
  o.embedding_dim = 20'000;
  o.num_contexts = 10'000;
  EXPECT_THROW(generate(o), InvalidInput);  // d * m > 2^27
}

}  // namespace
}  // namespace ntp
