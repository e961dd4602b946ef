#include "ntp/subspace.hpp"

#include <Eigen/SVD>
#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <type_traits>

#include "ntp/errors.hpp"

namespace ntp {

std::vector<AnchorRow> anchor_rows(const InstanceData& data) {
  std::vector<AnchorRow> rows;
  std::vector<std::size_t> order;
  for (std::int64_t j = 0; j < data.num_contexts(); ++j) {
    const ContextData& c = data.contexts[static_cast<std::size_t>(j)];
    order.resize(c.tokens.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return c.tokens[a] < c.tokens[b]; });
    if (order.empty()) continue;
    const std::size_t anchor = order.front();
    for (std::size_t k = 1; k < order.size(); ++k) {
      rows.push_back({j, c.tokens[order[k]], c.tokens[anchor],
                      Rational(c.probabilities[order[k]] / c.probabilities[anchor])});
    }
  }
  return rows;
}

namespace {

void check_size(std::int64_t rows, std::int64_t V, std::int64_t d) {
  const std::int64_t cols = V * d;
  if (cols > 0 && rows > SizeLimits::kMaxMatrixEntries / cols) {
    throw InvalidInput("subspace: generator matrix entries must be at most " +
                       std::to_string(SizeLimits::kMaxMatrixEntries) + ", got " +
                       std::to_string(rows) + " x " + std::to_string(cols));
  }
}

}  // namespace

RationalMatrix generator_matrix_exact(const InstanceData& data) {
  const std::vector<AnchorRow> rows = anchor_rows(data);
  const std::int64_t V = data.vocab_size;
  const std::int64_t d = data.embedding_dim;
  check_size(static_cast<std::int64_t>(rows.size()), V, d);
  RationalMatrix g(static_cast<std::int64_t>(rows.size()), V * d);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& h = data.contexts[static_cast<std::size_t>(rows[k].context)].embedding;
    const auto r = static_cast<std::int64_t>(k);
    for (std::int64_t i = 0; i < d; ++i) {
      g(r, rows[k].token + V * i) = h[static_cast<std::size_t>(i)];
      g(r, rows[k].anchor + V * i) = -h[static_cast<std::size_t>(i)];
    }
  }
  return g;
}

std::vector<std::vector<BigInt>> left_null_space_basis(const InstanceData& data) {
  const std::vector<AnchorRow> rows = anchor_rows(data);
  const std::int64_t m = data.num_contexts();
  const std::int64_t d = data.embedding_dim;
  if (rows.empty() || m == 0) return {};
  RationalMatrix hbar(d, m);
  for (std::int64_t j = 0; j < m; ++j) {
    const auto& h = data.contexts[static_cast<std::size_t>(j)].embedding;
    for (std::int64_t i = 0; i < d; ++i) hbar(i, j) = h[static_cast<std::size_t>(i)];
  }
  // Hbar of full column rank (proved modulo a prime): C Hbar^T = 0 forces C = 0.
  if (rank_mod_prime(hbar) == m) return {};
  const RationalMatrix k = null_space_basis(hbar);  // m x q
  const std::int64_t q = k.cols();
  if (q == 0) return {};
  // Contexts containing each token (tokens in no support have t_v = 0).
  std::map<std::int32_t, std::vector<char>> contains;
  for (std::int64_t j = 0; j < m; ++j) {
    for (std::int32_t z : data.contexts[static_cast<std::size_t>(j)].tokens) {
      auto [it, inserted] = contains.try_emplace(z);
      if (inserted) it->second.assign(static_cast<std::size_t>(m), 0);
      it->second[static_cast<std::size_t>(j)] = 1;
    }
  }
  // Per token v: T_v = basis of {t : (K t)_j = 0 for j with v not in S_j} (q x r_v).
  std::vector<std::int32_t> tokens;
  std::vector<RationalMatrix> t_basis;
  std::int64_t total = 0;
  for (const auto& [v, in] : contains) {
    std::int64_t outside = 0;
    for (char c : in) outside += c == 0 ? 1 : 0;
    RationalMatrix sub(outside, q);
    std::int64_t r = 0;
    for (std::int64_t j = 0; j < m; ++j) {
      if (in[static_cast<std::size_t>(j)] != 0) continue;
      for (std::int64_t l = 0; l < q; ++l) sub(r, l) = k(j, l);
      ++r;
    }
    RationalMatrix tv = null_space_basis(sub);
    if (tv.cols() == 0) continue;
    total += tv.cols();
    tokens.push_back(v);
    t_basis.push_back(std::move(tv));
  }
  if (total == 0) return {};
  // Coupling: sum_v T_v s_v = 0 (zero column sums of C, K having independent columns).
  RationalMatrix coupling(q, total);
  std::int64_t col = 0;
  for (const RationalMatrix& tv : t_basis) {
    for (std::int64_t c = 0; c < tv.cols(); ++c, ++col) {
      for (std::int64_t l = 0; l < q; ++l) coupling(l, col) = tv(l, c);
    }
  }
  const RationalMatrix s = null_space_basis(coupling);  // total x n
  std::map<std::int32_t, std::size_t> token_index;
  for (std::size_t i = 0; i < tokens.size(); ++i) token_index[tokens[i]] = i;
  std::vector<std::vector<BigInt>> basis;
  for (std::int64_t b = 0; b < s.cols(); ++b) {
    // Row v of C: K T_v s_v; y_{j,z} = C(z, j).
    std::vector<std::vector<Rational>> c_rows(tokens.size());
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const RationalMatrix& tv = t_basis[i];
      std::vector<Rational> sv(static_cast<std::size_t>(tv.cols()));
      for (std::int64_t c = 0; c < tv.cols(); ++c)
        sv[static_cast<std::size_t>(c)] = s(offset + c, b);
      offset += tv.cols();
      c_rows[i] = multiply(k, multiply(tv, sv));
    }
    std::vector<Rational> y(rows.size(), Rational(0));
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto it = token_index.find(rows[r].token);
      if (it != token_index.end()) {
        y[r] = c_rows[it->second][static_cast<std::size_t>(rows[r].context)];
      }
    }
    basis.push_back(to_primitive_integer_vector(y));
  }
  return basis;
}

std::int64_t exact_dim_f(const InstanceData& data) {
  return static_cast<std::int64_t>(anchor_rows(data).size()) -
         static_cast<std::int64_t>(left_null_space_basis(data).size());
}

template <class S>
Matrix<S> generator_matrix(const Instance<S>& inst) {
  std::int64_t rows = 0;
  for (std::int64_t j = 0; j < inst.m; ++j) {
    rows += std::max<std::int64_t>(inst.support_size(j) - 1, 0);
  }
  check_size(rows, inst.V, inst.d);
  Matrix<S> g = Matrix<S>::Zero(rows, inst.V * inst.d);
  std::int64_t r = 0;
  for (std::int64_t j = 0; j < inst.m; ++j) {
    const std::int64_t begin = inst.offset[static_cast<std::size_t>(j)];
    const std::int64_t end = inst.offset[static_cast<std::size_t>(j) + 1];
    if (end - begin < 2) continue;
    const std::int32_t anchor = inst.token[static_cast<std::size_t>(begin)];
    for (std::int64_t k = begin + 1; k < end; ++k, ++r) {
      const std::int32_t z = inst.token[static_cast<std::size_t>(k)];
      for (std::int64_t i = 0; i < inst.d; ++i) {
        g(r, z + inst.V * i) = inst.Hbar(i, j);
        g(r, anchor + inst.V * i) = -inst.Hbar(i, j);
      }
    }
  }
  return g;
}

template <class S>
SubspaceBasisT<S> subspace_basis(const Instance<S>& inst) {
  SubspaceBasisT<S> f;
  f.V = inst.V;
  f.d = inst.d;
  const Matrix<S> g = generator_matrix(inst);
  const std::int64_t n = inst.V * inst.d;
  if (g.rows() == 0 || n == 0) {
    f.basis.resize(n, 0);
    f.left.resize(g.rows(), 0);
    return f;
  }
  Matrix<S> u;
  Matrix<S> b;
  if constexpr (std::is_same_v<S, double>) {
    const Eigen::BDCSVD<Matrix<S>> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
    f.singular_values = svd.singularValues();
    u = svd.matrixU();
    b = svd.matrixV();
  } else {
    const Eigen::JacobiSVD<Matrix<S>> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
    f.singular_values = svd.singularValues();
    u = svd.matrixU();
    b = svd.matrixV();
  }
  const S eps = ScalarTraits<S>::epsilon();
  f.tolerance = S(static_cast<double>(std::max(g.rows(), g.cols()))) * eps * f.singular_values(0);
  std::int64_t r = 0;
  while (r < f.singular_values.size() && f.singular_values(r) > f.tolerance) ++r;
  f.rank = r;
  f.sigma_r = r > 0 ? S(f.singular_values(r - 1)) : S(0);
  f.sigma_next = r < f.singular_values.size() ? S(f.singular_values(r)) : S(0);
  f.basis = b.leftCols(r);
  f.left = u.leftCols(r);
  return f;
}

template <class S>
Vector<S> vec(const Matrix<S>& w) {
  return Eigen::Map<const Vector<S>>(w.data(), w.size());
}

template <class S>
Matrix<S> unvec(const Vector<S>& v, std::int64_t V, std::int64_t d) {
  if (v.size() != V * d) {
    throw InvalidInput("unvec: size must be " + std::to_string(V * d) + ", got " +
                       std::to_string(v.size()));
  }
  return Eigen::Map<const Matrix<S>>(v.data(), V, d);
}

template <class S>
Matrix<S> project_f(const SubspaceBasisT<S>& f, const Matrix<S>& w) {
  if (w.rows() != f.V || w.cols() != f.d) {
    throw InvalidInput("project_f: W must be " + std::to_string(f.V) + " x " + std::to_string(f.d) +
                       ", got " + std::to_string(w.rows()) + " x " + std::to_string(w.cols()));
  }
  if (f.rank == 0) return Matrix<S>::Zero(f.V, f.d);
  const Vector<S> coeff = f.basis.transpose() * vec(w);
  const Vector<S> p = f.basis * coeff;
  return unvec(p, f.V, f.d);
}

template <class S>
Matrix<S> project_perp(const SubspaceBasisT<S>& f, const Matrix<S>& w) {
  const Matrix<S> p = project_f(f, w);
  return w - p;
}

#define NTP_INSTANTIATE_SUBSPACE(S)                                            \
  template Matrix<S> generator_matrix<S>(const Instance<S>&);                  \
  template SubspaceBasisT<S> subspace_basis<S>(const Instance<S>&);            \
  template Vector<S> vec<S>(const Matrix<S>&);                                 \
  template Matrix<S> unvec<S>(const Vector<S>&, std::int64_t, std::int64_t);   \
  template Matrix<S> project_f<S>(const SubspaceBasisT<S>&, const Matrix<S>&); \
  template Matrix<S> project_perp<S>(const SubspaceBasisT<S>&, const Matrix<S>&);
NTP_INSTANTIATE_SUBSPACE(double)
NTP_INSTANTIATE_SUBSPACE(long double)
NTP_INSTANTIATE_SUBSPACE(Float128)
NTP_INSTANTIATE_SUBSPACE(Mpfr)
#undef NTP_INSTANTIATE_SUBSPACE

}  // namespace ntp
