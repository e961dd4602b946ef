#pragma once
// Shared RapidCheck generators: shapes first (family, V, d, m, support size), then data (seed,
// weights), so that shrinking reduces dimensions before values.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "ntp/generators.hpp"
#include "ntp/train.hpp"

namespace ntp::prop {

/** Options for a random small instance of one of the generator families. */
inline GeneratorOptions gen_options() {
  GeneratorOptions g;
  const int fam = *rc::gen::inRange(0, 6);
  const std::int64_t V = *rc::gen::inRange<std::int64_t>(4, 9);
  const std::int64_t m = *rc::gen::inRange<std::int64_t>(2, 7);
  switch (fam) {
    case 0:
      g.family = "overparameterized";
      g.vocab_size = V;
      g.num_contexts = m;
      g.embedding_dim = m + *rc::gen::inRange<std::int64_t>(0, 3);
      g.support_size = *rc::gen::inRange<std::int64_t>(1, V);
      break;
    case 1:
      g.family = "one-hot";
      g.vocab_size = V;
      g.num_contexts = m;
      g.embedding_dim = *rc::gen::inRange<std::int64_t>(1, 6);
      break;
    case 2:
      g.family = "underparameterized";
      g.vocab_size = V;
      g.num_contexts = m + 2;
      g.embedding_dim = *rc::gen::inRange<std::int64_t>(1, m + 2);
      g.support_size = *rc::gen::inRange<std::int64_t>(1, V);
      break;
    case 3:
      g.family = "incompatible";
      g.vocab_size = V;
      g.num_contexts = m + 1;
      g.embedding_dim = m + 1;
      g.support_size = *rc::gen::inRange<std::int64_t>(2, V);
      break;
    case 4:
      g.family = "inseparable";
      g.vocab_size = V;
      g.num_contexts = m + 1;
      g.embedding_dim = m + 1;
      break;
    default:
      g.family = "paper-toy";
      break;
  }
  g.seed = *rc::gen::inRange<std::uint64_t>(1, 1000000);
  return g;
}

/** A dyadic random W (V x d): entries k/64 with |k| <= 64 * scale, exact in every type. */
inline Eigen::MatrixXd gen_weights(std::int64_t V, std::int64_t d, int scale) {
  const auto entries = *rc::gen::container<std::vector<int>>(
      static_cast<std::size_t>(V * d), rc::gen::inRange(-64 * scale, 64 * scale + 1));
  Eigen::MatrixXd W(V, d);
  for (Eigen::Index i = 0; i < W.size(); ++i)
    W.data()[i] = entries[static_cast<std::size_t>(i)] / 64.0;
  return W;
}

}  // namespace ntp::prop
