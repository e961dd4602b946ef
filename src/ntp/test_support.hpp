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

}  // namespace ntp::testing_support
