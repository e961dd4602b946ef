#pragma once
/** @file fast_kernels.hpp
 * The machine-level pieces of the double/float loss kernel (loss_impl.hpp), chosen at build time
 * (CMake NTPCHECK_BLAS, libmvec detection) and, for the vector exponential, at run time:
 *  - gemm(): C = A B or C = A B^T (column-major) through OpenBLAS's cblas_dgemm/sgemm when the
 *    build links it (NTP_HAVE_CBLAS), Eigen's product otherwise. OpenBLAS is pinned to one thread
 *    in the reference build (NTPCHECK_REFERENCE), so results are bit-reproducible on a machine.
 *  - exp_in_place(double*): glibc's libmvec AVX2 exponential (_ZGVdN4v_exp, at most 4 ulp by
 *    glibc's documentation, 2.7 ulp measured) when the CPU has AVX2 and FMA, std::exp otherwise
 *    or when the environment sets NTP_SCALAR_EXP=1. Out-of-range lanes (underflow to subnormal or
 *    zero) go through the scalar exp inside libmvec, so the horizons of theory.md §6 are unchanged.
 * backend_description() names what this process uses (bench/loss_bench prints it as a label).
 */
#include <Eigen/Core>
#include <cstdint>
#include <string>

namespace ntp::fast {

/** C (rows x cols) = A (rows x inner) * B (inner x cols), or A * B^T when b_transposed (B is then
 * cols x inner). Column-major, no aliasing. */
void gemm(const double* A, const double* B, double* C, std::int64_t rows, std::int64_t cols,
          std::int64_t inner, bool b_transposed);
void gemm(const float* A, const float* B, float* C, std::int64_t rows, std::int64_t cols,
          std::int64_t inner, bool b_transposed);

/** Column primitives of the double loss kernel, on one context's logits l (V entries) and its
 * support mask in (1 = in S_j). Every result is bit-identical with and without AVX2 (element-wise
 * operations, and sums in a fixed order: four interleaved partial sums, then (s0 + s1) + (s2 + s3),
 * then the tail in order).
 * shift_column: returns max_out = max_{v not in S_j} l_v (-infinity when there is none) and sets
 * c_v = l_v - (v in S_j ? max_in : max_out). */
double shift_column(const double* l, const std::uint8_t* in, double max_in, double* c,
                    std::int64_t V);
/** Whether the column primitives use their AVX2 bodies (the CPU has AVX2), and a switch to the
 * scalar bodies for the whole process (tests compare the two). */
bool avx2_columns_active();
void set_avx2_columns_enabled(bool enabled);
/** sum_{v not in S_j} c_v. */
double masked_sum(const double* c, const std::uint8_t* in, std::int64_t V);
/** c_v *= f for v not in S_j. */
void masked_scale(double* c, const std::uint8_t* in, double f, std::int64_t V);

/** x[i] <- e^{x[i]} for i < n. */
void exp_in_place(double* x, std::int64_t n);

/** True when exp_in_place uses the vector exponential in this process. */
bool vector_exp_active();

/** True when gemm() calls OpenBLAS: the build links it and neither set_blas_enabled(false) nor the
 * environment (NTP_EIGEN_GEMM=1, read once) turned it off. Eigen's product is the same on every
 * x86-64 machine with the same cache sizes; OpenBLAS chooses its kernels by CPU (pin them with
 * OPENBLAS_CORETYPE to reproduce a run bit for bit on another CPU model). */
bool blas_active();

/** Turns the OpenBLAS path on or off for the whole process (no effect without OpenBLAS). Note:
 * OpenBLAS 0.3.21's AVX-512 small-matrix kernels malloc a scratch buffer in some calls
 * (precision/no_alloc_test.cpp measures it); the Eigen path allocates nothing. */
void set_blas_enabled(bool enabled);

/** OpenBLAS threads for gemm() (process-wide; no effect without OpenBLAS). The reference build
 * runs on 1; a build with NTPCHECK_REFERENCE=OFF starts at OpenBLAS's default or at
 * NTP_BLAS_THREADS=N. More threads are faster only at large shapes (bench/README.md) and change
 * the last bits of some products (FastGemm.ThreadsCanChangeBits), so only the benchmarks and
 * non-reference builds use them. */
void set_blas_threads(int threads);
int blas_threads();

/** "gemm: OpenBLAS 0.3.21 (1 thread, Haswell); exp: libmvec AVX2" or the like. */
std::string backend_description();

}  // namespace ntp::fast
