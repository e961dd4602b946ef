#pragma once
/** @file subspace.hpp
 * The subspace F of theory.md §2,
 *
 *     F = span{ (e_z - e_z') h_j^T : z != z' in S_j, j = 1..m }  in R^{V x d},
 *
 * generated in anchor form: for context j with ascending support S_j and anchor z_j = min S_j,
 * the generators (e_z - e_{z_j}) h_j^T for z in S_j \ {z_j} (they span the same F, and they are
 * the rows of the compatibility system (C)).
 *
 * Vectorisation convention (everywhere in this file and in compatibility.hpp): vec(W) is
 * column-major like Eigen, entry W(z, i) at index z + V * i.
 */
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "ntp/exact.hpp"
#include "ntp/instance.hpp"

namespace ntp {

/** One generator / one equation of (C): context j, token z in S_j, anchor z_j = min S_j. */
struct AnchorRow {
  std::int64_t context = 0;
  std::int32_t token = 0;
  std::int32_t anchor = 0;
  Rational ratio;  ///< p_{j,z} / p_{j,z_j} (exact)
};

/** The anchor-form rows in order: j ascending, then z ascending. sum_j (|S_j| - 1) rows. */
std::vector<AnchorRow> anchor_rows(const InstanceData& data);

/** The exact generator matrix: row k = vec((e_z - e_{z_j}) h_j^T) for anchor_rows()[k];
 * size (#rows) x (V d). */
RationalMatrix generator_matrix_exact(const InstanceData& data);

/**
 * An exact integer basis (each vector primitive, gcd 1) of the left null space
 * {y : A^T y = 0} of the generator matrix A = generator_matrix_exact(data), one entry per anchor
 * row. Computed through the structure of A instead of eliminating A itself: with
 * c_j = sum_{z != z_j} y_{j,z} (e_z - e_{z_j}) (supported on S_j, zero sum) and C = [c_1 .. c_m],
 * A^T y = vec(C Hbar^T), so A^T y = 0 iff every row of C lies in null(Hbar). With K an exact basis
 * of null(Hbar) (m x q), row v of C is K t_v with (K t_v)_j = 0 for v not in S_j and
 * sum_v t_v = 0 (zero column sums). Cost: one elimination of Hbar (skipped when its rank modulo
 * kRankPrime is m, then the basis is empty), one of a q-column matrix per token, one coupling
 * system. (The generic elimination of A at the paper-main size takes minutes; this takes well under
 * a second.) Result vectors are verified by the caller, e.g. compatibility.hpp in_left_null_space.
 */
std::vector<std::vector<BigInt>> left_null_space_basis(const InstanceData& data);

/** dim F, exact: #anchor rows - dim of the left null space (= rank of generator_matrix_exact). */
std::int64_t exact_dim_f(const InstanceData& data);

/** The same generator matrix in scalar type S (entries are the correctly rounded h_{j,i}). */
template <class S>
Matrix<S> generator_matrix(const Instance<S>& inst);

/**
 * An orthonormal basis of F from the SVD G = U Sigma B^T of the generator matrix G in type S.
 * Numerical rank r = #{sigma_k > tolerance}, tolerance = max(rows, cols) * eps * sigma_1 (the
 * LAPACK / numpy matrix_rank rule, eps = ScalarTraits<S>::epsilon()). The gap sigma_r vs
 * sigma_{r+1} is reported: the decision is trustworthy when sigma_r >> tolerance >> sigma_{r+1};
 * exact_dim_f() is the reference. double uses Eigen::BDCSVD, the other types Eigen::JacobiSVD.
 */
template <class S>
struct SubspaceBasisT {
  std::int64_t V = 0;
  std::int64_t d = 0;
  std::int64_t rank = 0;      ///< numerical dim F
  S tolerance = S(0);         ///< singular values above this count
  S sigma_r = S(0);           ///< smallest kept singular value (0 when rank == 0)
  S sigma_next = S(0);        ///< largest dropped singular value (0 when none)
  Vector<S> singular_values;  ///< all min(rows, cols) of them, descending
  Matrix<S> basis;  ///< (V d) x rank, orthonormal columns spanning F (right sing. vectors)
  Matrix<S> left;   ///< (#rows) x rank, the matching left singular vectors U_r
};
using SubspaceBasis = SubspaceBasisT<double>;

/** Computes the basis. Throws InvalidInput when (#rows) * V * d exceeds
 * SizeLimits::kMaxMatrixEntries. */
template <class S>
SubspaceBasisT<S> subspace_basis(const Instance<S>& inst);

/** vec(W) and its inverse (column-major, see the file comment). */
template <class S>
Vector<S> vec(const Matrix<S>& w);
template <class S>
Matrix<S> unvec(const Vector<S>& v, std::int64_t V, std::int64_t d);

/** P_F(W) = reshape(Q Q^T vec W) with Q = basis; W is V x d. */
template <class S>
Matrix<S> project_f(const SubspaceBasisT<S>& f, const Matrix<S>& w);
/** P_perp(W) = W - P_F(W). */
template <class S>
Matrix<S> project_perp(const SubspaceBasisT<S>& f, const Matrix<S>& w);

#define NTP_EXTERN_SUBSPACE(S)                                                        \
  extern template Matrix<S> generator_matrix<S>(const Instance<S>&);                  \
  extern template SubspaceBasisT<S> subspace_basis<S>(const Instance<S>&);            \
  extern template Vector<S> vec<S>(const Matrix<S>&);                                 \
  extern template Matrix<S> unvec<S>(const Vector<S>&, std::int64_t, std::int64_t);   \
  extern template Matrix<S> project_f<S>(const SubspaceBasisT<S>&, const Matrix<S>&); \
  extern template Matrix<S> project_perp<S>(const SubspaceBasisT<S>&, const Matrix<S>&);
NTP_EXTERN_SUBSPACE(double)
NTP_EXTERN_SUBSPACE(long double)
NTP_EXTERN_SUBSPACE(Float128)
NTP_EXTERN_SUBSPACE(Mpfr)
#undef NTP_EXTERN_SUBSPACE

}  // namespace ntp
