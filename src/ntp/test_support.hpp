#pragma once
/** @file test_support.hpp
 * Helpers shared by the typed GoogleTest suites (header only; not part of the library).
 */
#include <cstdint>
#include <string>
#include <vector>

#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/scalar.hpp"

namespace ntp::testing_support {

/** Names typed-test instantiations after the precision ("double", "mpfr", "long_double"). */
struct ScalarName {
  template <class S>
  static std::string GetName(int) {
    std::string n = ScalarTraits<S>::name();
    n = n.substr(0, n.find(':'));
    for (char& c : n) {
      if (c == '-') c = '_';
    }
    return n;
  }
};

/** A generated instance of a family (generators.hpp) with default options. */
inline InstanceData family(const std::string& name, std::uint64_t seed) {
  GeneratorOptions o;
  o.family = name;
  o.seed = seed;
  return generate(o);
}

/** An instance from explicit embeddings and supports, weights 1/m; uniform probabilities when
 * `probabilities` is empty. Validated (throws InvalidInput like a file would). */
inline InstanceData hand_instance(std::int64_t V, const std::vector<std::vector<Rational>>& h,
                                  const std::vector<std::vector<std::int32_t>>& supports,
                                  const std::vector<std::vector<Rational>>& probabilities = {}) {
  InstanceData data;
  data.vocab_size = V;
  data.embedding_dim = static_cast<std::int64_t>(h.front().size());
  data.name = "hand";
  const auto m = static_cast<long>(h.size());
  for (std::size_t j = 0; j < h.size(); ++j) {
    ContextData c;
    c.embedding = h[j];
    c.weight = Rational(1, m);
    c.tokens = supports[j];
    if (probabilities.empty()) {
      c.probabilities.assign(supports[j].size(),
                             Rational(1, static_cast<long>(supports[j].size())));
    } else {
      c.probabilities = probabilities[j];
    }
    data.contexts.push_back(std::move(c));
  }
  validate_and_normalise(data);
  return data;
}

/** The instance with a copy of context `k` appended; all weights 1/(m+1) (W^mm and W* do not
 * depend on the weights). */
inline InstanceData with_repeated_context(InstanceData data, std::size_t k) {
  data.contexts.push_back(data.contexts[k]);
  const auto m = static_cast<long>(data.contexts.size());
  for (auto& c : data.contexts) c.weight = Rational(1, m);
  validate_and_normalise(data);
  return data;
}

/** V = 4, d = 4 (coordinate 4 unused), h_3 = h_1 + h_2, S_1 = S_2 = S_3 = {0,1}, S_4 = {2,3};
 * r_j = p_{j,1}/p_{j,0} = 2, 3, (1 - p)/p, 3/2 with p = p3_token0. (C) holds iff r_3 = r_1 r_2 = 6
 * (left null vector (1, 1, -1, 0) of the four anchor rows). */
inline InstanceData rank_deficient_instance(const Rational& p3_token0) {
  const std::vector<Rational> h1 = {Rational(1), Rational(0), Rational(1, 2), Rational(0)};
  const std::vector<Rational> h2 = {Rational(0), Rational(1), Rational(-1, 4), Rational(0)};
  std::vector<Rational> h3;
  for (std::size_t i = 0; i < h1.size(); ++i) h3.push_back(h1[i] + h2[i]);
  const std::vector<Rational> h4 = {Rational(0), Rational(0), Rational(1), Rational(0)};
  return hand_instance(4, {h1, h2, h3, h4}, {{0, 1}, {0, 1}, {0, 1}, {2, 3}},
                       {{Rational(1, 3), Rational(2, 3)},
                        {Rational(1, 4), Rational(3, 4)},
                        {p3_token0, 1 - p3_token0},
                        {Rational(2, 5), Rational(3, 5)}});
}

}  // namespace ntp::testing_support
