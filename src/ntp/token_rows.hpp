#pragma once
/** @file token_rows.hpp
 * The constraint rows shared by (C), (6a), (6b) and the NTP-SVM (theory.md §2, §3): every one is
 * the V x d matrix (e_a - e_b) h_j^T for a context j and two tokens a, b. This file holds their
 * exact integer forms (embeddings scaled by the lcm of their denominators), their Gram matrix and
 * linear combinations, used by the exact solvers of W^mm (max_margin.hpp) and W* (w_star.hpp).
 */
#include <cstdint>
#include <vector>

#include "ntp/flint_linalg.hpp"
#include "ntp/instance.hpp"

namespace ntp {

/** The row (e_a - e_b) h_j^T (as a V x d matrix). Token ids 0-based. */
struct TokenPairRow {
  std::int64_t context = 0;
  std::int32_t a = 0;
  std::int32_t b = 0;
};

/** Integer embeddings: h_int = scale * Hbar (d x m), scale = lcm of the denominators of all
 * embedding entries (2^16 for the generators' dyadic grid), and gram = h_int^T h_int (m x m). */
struct ScaledEmbeddings {
  BigInt scale;
  IntegerMatrix h;
  IntegerMatrix gram;
};

ScaledEmbeddings scale_embeddings(const InstanceData& data);

/** scale^2 * <row_i, row_k> (Frobenius): the Gram matrix of the rows in integers. */
IntegerMatrix row_gram(const ScaledEmbeddings& emb, const std::vector<TokenPairRow>& rows);

/** sum_k c_k (e_{a_k} - e_{b_k}) h_int_{j_k}^T, a V x d integer matrix (= scale * the same
 * combination of the true rows). */
IntegerMatrix combine_rows(const ScaledEmbeddings& emb, const std::vector<TokenPairRow>& rows,
                           const std::vector<BigInt>& c, std::int64_t V);

/** W_int h_int: the V x m logits of an integer V x d matrix against the scaled embeddings. */
IntegerMatrix integer_logits(const IntegerMatrix& w, const ScaledEmbeddings& emb);

/** The (6a)/(C) rows in anchor form (j ascending, z ascending, anchor z_j = min S_j): (z, z_j). */
std::vector<TokenPairRow> equality_rows(const InstanceData& data);
/** The reduced (6b) rows: (z_j, v) for every j and v not in S_j (v ascending). Given (6a), they
 * are equivalent to all of (6b). */
std::vector<TokenPairRow> reduced_inequality_rows(const InstanceData& data);

}  // namespace ntp
