#include "ntp/token_rows.hpp"

#include <algorithm>

namespace ntp {

ScaledEmbeddings scale_embeddings(const InstanceData& data) {
  const std::int64_t d = data.embedding_dim;
  const std::int64_t m = data.num_contexts();
  ScaledEmbeddings out;
  out.scale = 1;
  for (const ContextData& c : data.contexts) {
    for (const Rational& x : c.embedding) {
      const BigInt den = denominator(x);
      if (den != 1) out.scale = boost::multiprecision::lcm(out.scale, den);
    }
  }
  out.h = IntegerMatrix(d, m);
  for (std::int64_t j = 0; j < m; ++j) {
    const auto& h = data.contexts[static_cast<std::size_t>(j)].embedding;
    for (std::int64_t i = 0; i < d; ++i) {
      const Rational& x = h[static_cast<std::size_t>(i)];
      out.h(i, j) = numerator(x) * (out.scale / denominator(x));
    }
  }
  IntegerMatrix ht(m, d);
  for (std::int64_t i = 0; i < d; ++i) {
    for (std::int64_t j = 0; j < m; ++j) ht(j, i) = out.h(i, j);
  }
  out.gram = multiply(ht, out.h);
  return out;
}

IntegerMatrix row_gram(const ScaledEmbeddings& emb, const std::vector<TokenPairRow>& rows) {
  const auto q = static_cast<std::int64_t>(rows.size());
  IntegerMatrix g(q, q);
  for (std::int64_t r = 0; r < q; ++r) {
    const TokenPairRow& x = rows[static_cast<std::size_t>(r)];
    for (std::int64_t s = r; s < q; ++s) {
      const TokenPairRow& y = rows[static_cast<std::size_t>(s)];
      // <(e_a - e_b), (e_c - e_e)> = [a=c] - [a=e] - [b=c] + [b=e]
      const int c = static_cast<int>(x.a == y.a) - static_cast<int>(x.a == y.b) -
                    static_cast<int>(x.b == y.a) + static_cast<int>(x.b == y.b);
      if (c != 0) {
        g(r, s) = emb.gram(x.context, y.context) * c;
        g(s, r) = g(r, s);
      }
    }
  }
  return g;
}

IntegerMatrix combine_rows(const ScaledEmbeddings& emb, const std::vector<TokenPairRow>& rows,
                           const std::vector<BigInt>& c, std::int64_t V) {
  const std::int64_t d = emb.h.rows;
  IntegerMatrix w(V, d);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (c[k] == 0) continue;
    const TokenPairRow& r = rows[k];
    for (std::int64_t i = 0; i < d; ++i) {
      const BigInt& h = emb.h(i, r.context);
      if (h == 0) continue;
      const BigInt t = c[k] * h;
      w(r.a, i) += t;
      w(r.b, i) -= t;
    }
  }
  return w;
}

IntegerMatrix integer_logits(const IntegerMatrix& w, const ScaledEmbeddings& emb) {
  return multiply(w, emb.h);
}

std::vector<TokenPairRow> equality_rows(const InstanceData& data) {
  std::vector<TokenPairRow> rows;
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    std::vector<std::int32_t> s = data.contexts[j].tokens;
    std::sort(s.begin(), s.end());
    for (std::size_t k = 1; k < s.size(); ++k) {
      rows.push_back({static_cast<std::int64_t>(j), s[k], s[0]});
    }
  }
  return rows;
}

std::vector<TokenPairRow> reduced_inequality_rows(const InstanceData& data) {
  std::vector<TokenPairRow> rows;
  const std::int64_t V = data.vocab_size;
  for (std::size_t j = 0; j < data.contexts.size(); ++j) {
    std::vector<std::int32_t> s = data.contexts[j].tokens;
    std::sort(s.begin(), s.end());
    std::size_t k = 0;
    for (std::int32_t v = 0; v < V; ++v) {
      if (k < s.size() && s[k] == v) {
        ++k;
        continue;
      }
      rows.push_back({static_cast<std::int64_t>(j), s[0], v});
    }
  }
  return rows;
}

}  // namespace ntp
