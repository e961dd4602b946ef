#include "ntp/instance.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace ntp {

namespace {

std::string ctx_path(std::size_t j) { return "contexts[" + std::to_string(j) + "]"; }

std::string show(const Rational& q) {
  const std::string s = rational_to_string(q);
  return s.size() > 24 ? rational_to_decimal(q, 17) : s;
}

bool within_tolerance_of_one(const Rational& sum) {
  const Rational diff = sum - Rational(1);
  const Rational tol = rational_from_double(kSumTolerance);
  return diff <= tol && -diff <= tol;
}

}  // namespace

std::int64_t InstanceData::support_nnz() const {
  std::int64_t n = 0;
  for (const auto& c : contexts) n += static_cast<std::int64_t>(c.tokens.size());
  return n;
}

std::vector<Problem> size_problems(std::int64_t V, std::int64_t d, std::int64_t m) {
  std::vector<Problem> problems;
  bool sizes_ok = true;
  if (V < 2 || V > SizeLimits::kMaxVocab) {
    problems.push_back({"vocab_size", "must be in [2, " + std::to_string(SizeLimits::kMaxVocab) +
                                          "], got " + std::to_string(V)});
    sizes_ok = false;
  }
  if (d < 1 || d > SizeLimits::kMaxDim) {
    problems.push_back({"embedding_dim", "must be in [1, " + std::to_string(SizeLimits::kMaxDim) +
                                             "], got " + std::to_string(d)});
    sizes_ok = false;
  }
  if (m < 1 || m > SizeLimits::kMaxContexts) {
    problems.push_back({"contexts", "must hold between 1 and " +
                                        std::to_string(SizeLimits::kMaxContexts) +
                                        " contexts, got " + std::to_string(m)});
    sizes_ok = false;
  }
  if (!sizes_ok) return problems;
  // Each product is below 2^60 here, so no overflow.
  const std::int64_t lim = SizeLimits::kMaxMatrixEntries;
  if (V * d > lim) {
    problems.push_back({"vocab_size", "times embedding_dim (entries of W) must be at most " +
                                          std::to_string(lim) + ", got " + std::to_string(V * d)});
  }
  if (V * m > lim) {
    problems.push_back(
        {"vocab_size", "times the number of contexts (entries of the logits) must be at most " +
                           std::to_string(lim) + ", got " + std::to_string(V * m)});
  }
  if (d * m > lim) {
    problems.push_back(
        {"embedding_dim",
         "times the number of contexts (entries of the embeddings) must be at most " +
             std::to_string(lim) + ", got " + std::to_string(d * m)});
  }
  return problems;
}

void validate_and_normalise(InstanceData& data) {
  std::vector<Problem> problems;
  auto add = [&](std::string path, std::string msg) {
    if (problems.size() < 1000) problems.push_back({std::move(path), std::move(msg)});
  };
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  problems = size_problems(V, d, m);
  if (!problems.empty()) throw InvalidInput("invalid instance", std::move(problems));

  const bool use_counts = !data.contexts.front().counts.empty();
  bool some_support_not_full = false;
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    auto& c = data.contexts[j];
    const std::string p = ctx_path(j);
    if (static_cast<std::int64_t>(c.embedding.size()) != d) {
      add(p + ".embedding", "must have embedding_dim = " + std::to_string(d) + " entries, got " +
                                std::to_string(c.embedding.size()));
    }
    const Rational limit = Rational(BigInt(1) << kEmbeddingLimitLog2);
    for (std::size_t i = 0; i < c.embedding.size(); ++i) {
      if (c.embedding[i] > limit || c.embedding[i] < -limit) {
        add(p + ".embedding[" + std::to_string(i) + "]",
            "must have magnitude at most 2^32 (about 4.3e9), got " + show(c.embedding[i]));
      }
    }
    if (c.tokens.empty()) add(p + ".next_tokens", "must not be empty, got []");
    if (static_cast<std::int64_t>(c.tokens.size()) < V) some_support_not_full = true;
    std::set<std::int32_t> seen;
    for (std::size_t k = 0; k < c.tokens.size(); ++k) {
      const auto t = c.tokens[k];
      const std::string tp = p + ".next_tokens[" + std::to_string(k) + "]";
      if (t < 0 || t >= V) {
        add(tp, "must be a token id in [0, " + std::to_string(V) + "), got " + std::to_string(t));
      } else if (!seen.insert(t).second) {
        add(tp, "repeats token " + std::to_string(t) + " of the same support, got a duplicate");
      }
    }
    if ((c.counts.empty()) == use_counts) {
      add(p, std::string("must give ") +
                 (use_counts ? "\"counts\"" : "\"weight\" and \"probabilities\"") +
                 " like contexts[0] (forms cannot be mixed), got the other form");
      continue;
    }
    if (use_counts) {
      if (c.counts.size() != c.tokens.size()) {
        add(p + ".counts", "must have one count per next token (" +
                               std::to_string(c.tokens.size()) + "), got " +
                               std::to_string(c.counts.size()));
      }
      for (std::size_t k = 0; k < c.counts.size(); ++k) {
        if (c.counts[k] == 0)
          add(p + ".counts[" + std::to_string(k) + "]", "must be positive, got 0");
      }
      continue;
    }
    if (c.probabilities.size() != c.tokens.size()) {
      add(p + ".probabilities", "must have one probability per next token (" +
                                    std::to_string(c.tokens.size()) + "), got " +
                                    std::to_string(c.probabilities.size()));
    }
    Rational sum = 0;
    bool positive = true;
    for (std::size_t k = 0; k < c.probabilities.size(); ++k) {
      if (c.probabilities[k] <= 0) {
        add(p + ".probabilities[" + std::to_string(k) + "]",
            "must be positive (list only tokens in the support), got " + show(c.probabilities[k]));
        positive = false;
      }
      sum += c.probabilities[k];
    }
    if (positive && !c.probabilities.empty() && !within_tolerance_of_one(sum)) {
      add(p + ".probabilities", "must sum to 1 (tolerance 1e-9), got sum " + show(sum));
    }
    if (c.weight <= 0) add(p + ".weight", "must be positive, got " + show(c.weight));
  }
  if (!some_support_not_full) {
    add("contexts",
        "must have some support smaller than the vocabulary (standing assumption "
        "S_j != [V] of theory.md §1), got every support full");
  }
  if (!problems.empty()) throw InvalidInput("invalid instance", std::move(problems));

  if (use_counts) {
    // pi_j = count(j)/n, p_{j,z} = count(j,z)/count(j): exact (theory.md §1 raw data form).
    BigInt total = 0;
    for (auto& c : data.contexts) {
      BigInt cj = 0;
      for (auto k : c.counts) cj += k;
      c.probabilities.clear();
      for (auto k : c.counts) c.probabilities.emplace_back(BigInt(k), cj);
      c.weight = Rational(cj);
      total += cj;
    }
    for (auto& c : data.contexts) c.weight /= Rational(total);
    return;
  }
  Rational wsum = 0;
  for (auto& c : data.contexts) {
    wsum += c.weight;
    Rational psum = 0;
    for (const auto& q : c.probabilities) psum += q;
    if (psum != 1) {
      for (auto& q : c.probabilities) q /= psum;
    }
  }
  if (!within_tolerance_of_one(wsum)) {
    throw InvalidInput(
        "invalid instance",
        {{"contexts[*].weight", "must sum to 1 (tolerance 1e-9), got sum " + show(wsum)}});
  }
  if (wsum != 1) {
    for (auto& c : data.contexts) c.weight /= wsum;
  }
}

template <class S>
Instance<S> to_scalar(const InstanceData& data) {
  using std::log;
  using T = ScalarTraits<S>;
  Instance<S> inst;
  inst.V = data.vocab_size;
  inst.d = data.embedding_dim;
  inst.m = data.num_contexts();
  inst.Hbar.resize(inst.d, inst.m);
  inst.pi.resize(inst.m);
  inst.offset.assign(static_cast<std::size_t>(inst.m) + 1, 0);
  const std::int64_t nnz = data.support_nnz();
  inst.token.resize(static_cast<std::size_t>(nnz));
  inst.prob.resize(nnz);
  inst.log_prob.resize(nnz);
  inst.entropy = S(0);
  std::vector<Problem> problems;
  std::int64_t pos = 0;
  std::vector<std::size_t> order;
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const auto& c = data.contexts[static_cast<std::size_t>(j)];
    for (std::int64_t i = 0; i < inst.d; ++i) {
      inst.Hbar(i, j) = T::from_rational(c.embedding[static_cast<std::size_t>(i)]);
      if (!is_finite_s(inst.Hbar(i, j))) {
        problems.push_back(
            {"contexts[" + std::to_string(j) + "].embedding[" + std::to_string(i) + "]",
             "must be representable in precision " + T::name() + ", got overflow for " +
                 show(c.embedding[static_cast<std::size_t>(i)])});
      }
    }
    inst.pi(j) = T::from_rational(c.weight);
    if (!(inst.pi(j) > S(0))) {
      problems.push_back({"contexts[" + std::to_string(j) + "].weight",
                          "must be representable in precision " + T::name() +
                              " (it rounds to 0), got " + show(c.weight)});
    }
    order.resize(c.tokens.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return c.tokens[a] < c.tokens[b]; });
    inst.offset[static_cast<std::size_t>(j)] = pos;
    S hj(0);
    for (std::size_t k : order) {
      inst.token[static_cast<std::size_t>(pos)] = c.tokens[k];
      inst.prob(pos) = T::from_rational(c.probabilities[k]);
      inst.log_prob(pos) = log(inst.prob(pos));
      if (!(inst.prob(pos) > S(0)) || !is_finite_s(inst.log_prob(pos))) {
        problems.push_back(
            {"contexts[" + std::to_string(j) + "].probabilities[" + std::to_string(k) + "]",
             "must be representable in precision " + T::name() + " (it rounds to 0), got " +
                 show(c.probabilities[k])});
      }
      hj -= inst.prob(pos) * inst.log_prob(pos);
      ++pos;
    }
    inst.entropy += inst.pi(j) * hj;
  }
  inst.offset[static_cast<std::size_t>(inst.m)] = pos;
  if (!problems.empty()) {
    if (problems.size() > 1000) problems.resize(1000);
    throw InvalidInput("instance not representable in precision " + T::name(), std::move(problems));
  }
  return inst;
}

#define NTP_INSTANTIATE(S) template Instance<S> to_scalar<S>(const InstanceData&);
NTP_INSTANTIATE(float)
NTP_INSTANTIATE(double)
NTP_INSTANTIATE(long double)
NTP_INSTANTIATE(dd_real)
NTP_INSTANTIATE(qd_real)
NTP_INSTANTIATE(Float128)
NTP_INSTANTIATE(Mp50)
NTP_INSTANTIATE(Mpfr)
#undef NTP_INSTANTIATE

InstanceSummary summarize(const InstanceData& data) {
  const Instance<double> inst = to_scalar<double>(data);
  InstanceSummary s;
  s.V = inst.V;
  s.d = inst.d;
  s.m = inst.m;
  s.support_min = inst.V;
  std::vector<char> emitted(static_cast<std::size_t>(inst.V), 0);
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const auto n = inst.support_size(j);
    s.support_min = std::min(s.support_min, n);
    s.support_max = std::max(s.support_max, n);
    if (n < inst.V) s.some_support_not_full = true;
    for (auto k = inst.offset[j]; k < inst.offset[j + 1]; ++k) {
      emitted[static_cast<std::size_t>(inst.token[static_cast<std::size_t>(k)])] = 1;
    }
  }
  s.support_mean = static_cast<double>(data.support_nnz()) / static_cast<double>(inst.m);
  s.tokens_in_no_support = std::count(emitted.begin(), emitted.end(), 0);
  s.all_one_hot = s.support_max == 1;
  s.entropy = inst.entropy;
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const double n2 = inst.Hbar.col(j).squaredNorm();
    s.max_embedding_norm = std::max(s.max_embedding_norm, std::sqrt(n2));
    s.smoothness_L_crude = std::max(s.smoothness_L_crude, 0.5 * n2);
  }
  // lambda_max(sum_j pi_j h_j h_j^T) = sigma_max(Hbar diag(sqrt(pi)))^2 = lambda_max of the
  // smaller Gram matrix; the singular values of Hbar give its rank.
  const Eigen::MatrixXd B = inst.Hbar * inst.pi.cwiseSqrt().asDiagonal();
  const Eigen::MatrixXd G = B.rows() <= B.cols() ? Eigen::MatrixXd(B * B.transpose())
                                                 : Eigen::MatrixXd(B.transpose() * B);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(G, Eigen::EigenvaluesOnly);
  s.smoothness_L = 0.5 * std::max(0.0, eig.eigenvalues().maxCoeff());
  Eigen::VectorXd sv;
  if (std::min(inst.d, inst.m) <= 2000) {
    Eigen::BDCSVD<Eigen::MatrixXd> svd(inst.Hbar);
    sv = svd.singularValues();
  } else {
    const Eigen::MatrixXd Hg = inst.d <= inst.m
                                   ? Eigen::MatrixXd(inst.Hbar * inst.Hbar.transpose())
                                   : Eigen::MatrixXd(inst.Hbar.transpose() * inst.Hbar);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> e2(Hg, Eigen::EigenvaluesOnly);
    sv = e2.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  }
  const double smax = sv.size() > 0 ? sv.maxCoeff() : 0.0;
  s.rank_tolerance =
      static_cast<double>(std::max(inst.d, inst.m)) * ScalarTraits<double>::epsilon() * smax;
  s.embedding_rank = (sv.array() > s.rank_tolerance).count();
  return s;
}

double default_gd_eta(const InstanceSummary& s) {
  // eta <= 1/(2L) is the setting of [T Thm 2] (theory.md §1). L is computed in double; shave a
  // relative 1e-9 so that rounding in the eigenvalue never puts eta above the bound.
  if (s.smoothness_L <= 0) return 1.0;
  return 1.0 / (2.0 * s.smoothness_L * (1.0 + 1e-9));
}

}  // namespace ntp

namespace ntp {

InstanceData basis_embedding_instance(std::int64_t V,
                                      const std::vector<std::vector<std::int32_t>>& supports,
                                      const std::vector<std::vector<Rational>>& probabilities) {
  InstanceData data;
  data.vocab_size = V;
  const auto m = static_cast<std::int64_t>(supports.size());
  data.embedding_dim = m;
  data.name = "basis-embeddings";
  data.contexts.resize(supports.size());
  for (std::size_t j = 0; j < supports.size(); ++j) {
    auto& c = data.contexts[j];
    c.embedding.assign(static_cast<std::size_t>(m), Rational(0));
    c.embedding[j] = 1;
    c.weight = Rational(1, m);
    c.tokens = supports[j];
    c.probabilities = probabilities.at(j);
  }
  validate_and_normalise(data);
  return data;
}

std::vector<std::vector<Rational>> uniform_probabilities(
    const std::vector<std::vector<std::int32_t>>& supports) {
  std::vector<std::vector<Rational>> p;
  for (const auto& s : supports) {
    p.emplace_back(s.size(), Rational(1, static_cast<long>(s.size())));
  }
  return p;
}

}  // namespace ntp
