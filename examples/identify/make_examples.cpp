// Writes the example files of docs/identify.md from fixed seeds (the generator beside its data).
// Build against the library (from the repository root, after building build/), then run:
//   g++ -std=gnu++20 -O1 -Isrc -isystem /usr/include/eigen3 examples/identify/make_examples.cpp
//       build/libntp.a -lzip -lmpfi -lmpfr -lgmp -lqd -lquadmath -lglpk -lflint -o /tmp/mk
//   /tmp/mk examples/identify
#include <fstream>
#include <iostream>
#include <string>

#include "ntp/identify.hpp"
#include "ntp/instance_io.hpp"

using namespace ntp;

namespace {

Rational q(std::int64_t a, std::int64_t b = 1) { return Rational(BigInt(a)) / Rational(BigInt(b)); }

/** One field per line, and each row of a table on its own line (readable, still plain JSON). */
void write(const std::string& dir, const std::string& name, const nlohmann::json& doc) {
  std::ofstream out(dir + "/" + name);
  out << "{";
  bool first = true;
  for (const auto& [k, v] : doc.items()) {
    out << (first ? "\n" : ",\n") << "  " << nlohmann::json(k).dump() << ": ";
    first = false;
    if (v.is_array() && !v.empty() && (v[0].is_array() || v[0].is_object())) {
      out << "[\n";
      for (std::size_t i = 0; i < v.size(); ++i) {
        out << "    " << v[i].dump() << (i + 1 < v.size() ? ",\n" : "\n");
      }
      out << "  ]";
    } else {
      out << v.dump();
    }
  }
  out << "\n}\n";
}

Property prop(const std::string& name, PropertyKind kind, EmbeddingSpace space,
              std::vector<std::pair<std::int64_t, std::int64_t>> pairs,
              std::vector<std::int64_t> items = {}, std::vector<Rational> values = {}) {
  Property p;
  p.name = name;
  p.kind = kind;
  p.space = space;
  p.pairs = std::move(pairs);
  p.items = std::move(items);
  p.values = std::move(values);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  // 1. A diverse exact predictor with one property of each kind built in (as identify_test.cpp).
  Predictor a = random_predictor(3, 14, 10, 11);
  a.name = "designed (M = 3)";
  RationalMatrix& f = a.f;
  RationalMatrix& g = a.g;
  for (std::int64_t i = 0; i < 3; ++i) f(i, 1) = f(i, 0) + 2 * (f(i, 3) - f(i, 2));
  const RationalMatrix AR = random_dyadic_matrix(3, 3, 99), aR = random_dyadic_matrix(3, 1, 98);
  for (std::int64_t k = 0; k < 5; ++k) {
    for (std::int64_t i = 0; i < 3; ++i) {
      Rational s = aR(i, 0);
      for (std::int64_t l = 0; l < 3; ++l) s += AR(i, l) * f(l, 4 + k);
      f(i, 9 + k) = s;
    }
  }
  const RationalMatrix w = random_dyadic_matrix(3, 1, 97), v = random_dyadic_matrix(3, 1, 96);
  std::vector<Rational> targets;
  for (std::int64_t x = 0; x < 6; ++x) {
    Rational t = q(1, 8);
    for (std::int64_t i = 0; i < 3; ++i) t += w(i, 0) * f(i, x);
    targets.push_back(t);
  }
  const std::vector<Rational> alpha = {q(1), q(2), q(-1), q(1, 2)};
  for (std::int64_t k = 0; k < 4; ++k) {
    for (std::int64_t i = 0; i < 3; ++i) g(i, 5 + k) = g(i, k) + alpha[k] * v(i, 0);
  }
  for (std::int64_t i = 0; i < 3; ++i) g(i, 9) = g(i, 4) + 3 * v(i, 0);
  Predictor b = apply_symmetry(a, random_unimodular(3, 12), {q(1, 2), q(-1), q(1, 4)});
  b.name = "symmetry image (A f, A^-T g + c)";
  write(dir, "sym_a.json", predictor_to_json(a));
  write(dir, "sym_b.json", predictor_to_json(b));
  const auto C = EmbeddingSpace::kContext;
  const auto T = EmbeddingSpace::kToken;
  write(dir, "properties.json",
        properties_to_json({
            prop("parallel contexts", PropertyKind::kParallel, C, {{0, 1}, {2, 3}}),
            prop("affine relation", PropertyKind::kRelational, C,
                 {{4, 9}, {5, 10}, {6, 11}, {7, 12}, {8, 13}}),
            prop("probe", PropertyKind::kProbe, C, {}, {0, 1, 2, 3, 4, 5}, targets),
            prop("steering tokens", PropertyKind::kSteering, T, {{0, 5}, {1, 6}, {2, 7}, {3, 8}},
                 {}, alpha),
            prop("parallel tokens", PropertyKind::kParallel, T, {{4, 9}, {0, 5}}),
            prop("fails in both", PropertyKind::kParallel, C, {{0, 2}, {4, 7}}),
        }));

  // 2. No diversity: f, g in span Q (2-dimensional in R^4); b moves f(1) along an invisible vector.
  const RationalMatrix Q = random_dyadic_matrix(4, 2, 41);
  Predictor na;
  na.name = "non-diverse (rank 2 in R^4)";
  na.exact = true;
  na.f = multiply(Q, random_dyadic_matrix(2, 6, 42));
  na.g = multiply(Q, random_dyadic_matrix(2, 7, 43));
  for (std::int64_t i = 0; i < 4; ++i) na.f(i, 1) = na.f(i, 0) + 2 * (na.f(i, 3) - na.f(i, 2));
  const RationalMatrix N = null_space_basis(transpose(Q));
  Predictor nb = na;
  nb.name = "non-diverse, f(1) moved along an invisible direction";
  for (std::int64_t i = 0; i < 4; ++i) nb.f(i, 1) += N(i, 0);
  write(dir, "nondiverse_a.json", predictor_to_json(na));
  write(dir, "nondiverse_b.json", predictor_to_json(nb));
  Property par = prop("parallel", PropertyKind::kParallel, C, {{0, 1}, {2, 3}});
  write(dir, "parallel.json", properties_to_json({par}));
  par.expect = Expectation::kCanFail;
  write(dir, "parallel_can_fail.json", properties_to_json({par}));

  // 3. Two predictors fitted to one distribution table (dims 4 and 6, different seeds).
  const TrainedPair tp = trained_pair(4, 7, 4, 6, 1, 2, 3);
  write(dir, "trained_a.json", predictor_to_json(tp.a));
  write(dir, "trained_b.json", predictor_to_json(tp.b));
  write(dir, "trained_table.json", nlohmann::json{{"probabilities", tp.table}});
  std::cout << "wrote examples to " << dir << "\n";
  return 0;
}
