// The machine-level pieces of the double/float loss kernel (fast_kernels.hpp).
#include "ntp/fast_kernels.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <type_traits>

#ifdef NTP_HAVE_CBLAS
#include <cblas.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#define NTP_X86 1
#endif
#if defined(NTP_HAVE_LIBMVEC) && defined(NTP_X86)
extern "C" __m256d _ZGVdN4v_exp(__m256d x);  // glibc libmvec, AVX2 variant of exp
#define NTP_VECTOR_EXP 1
#endif

namespace ntp::fast {
namespace {

#ifdef NTP_HAVE_CBLAS
/** NTP_BLAS_THREADS=N (1..64) when set and valid, else 0. */
[[maybe_unused]] int threads_from_environment() {
  const char* env = std::getenv("NTP_BLAS_THREADS");
  if (env == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  return (end != env && *end == '\0' && n >= 1 && n <= 64) ? static_cast<int>(n) : 0;
}

void init_blas_once() {
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef NTP_REFERENCE_BUILD
    // The reference build runs OpenBLAS on one thread, always: more threads change the last bits
    // of some products (measured with OpenBLAS 0.3.21 at (333,77,1001) and (2000,3,700): the
    // per-thread blocks take other edge kernels), so they would break bit-reproducibility.
    openblas_set_num_threads(1);
#else
    if (const int threads = threads_from_environment(); threads > 0) {
      openblas_set_num_threads(threads);
    }
#endif
  });
}
#endif

#ifdef NTP_VECTOR_EXP
__attribute__((target("avx2,fma"))) void exp_avx2(double* x, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(x + i, _ZGVdN4v_exp(_mm256_loadu_pd(x + i)));
  for (; i < n; ++i) x[i] = std::exp(x[i]);
}

bool detect_vector_exp() {
  const char* env = std::getenv("NTP_SCALAR_EXP");
  if (env != nullptr && env[0] != '\0' && env[0] != '0') return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

double shift_column_scalar(const double* l, const std::uint8_t* in, double max_in, double* c,
                           std::int64_t V) {
  double mo = kMinusInf;
  for (std::int64_t v = 0; v < V; ++v) {
    if (in[v] == 0 && l[v] > mo) mo = l[v];
  }
  for (std::int64_t v = 0; v < V; ++v) c[v] = l[v] - (in[v] != 0 ? max_in : mo);
  return mo;
}

double masked_sum_scalar(const double* c, const std::uint8_t* in, std::int64_t V) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  std::int64_t v = 0;
  for (; v + 4 <= V; v += 4) {
    for (int k = 0; k < 4; ++k) s[k] += in[v + k] != 0 ? 0.0 : c[v + k];
  }
  double t = (s[0] + s[1]) + (s[2] + s[3]);
  for (; v < V; ++v) t += in[v] != 0 ? 0.0 : c[v];
  return t;
}

void masked_scale_scalar(double* c, const std::uint8_t* in, double f, std::int64_t V) {
  for (std::int64_t v = 0; v < V; ++v) c[v] *= in[v] != 0 ? 1.0 : f;
}

#ifdef NTP_X86
// All-ones lanes where in[v..v+3] != 0.
__attribute__((target("avx2"))) inline __m256d in_mask4(const std::uint8_t* in) {
  std::int32_t four = 0;
  std::memcpy(&four, in, 4);
  const __m256i wide = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(four));
  return _mm256_castsi256_pd(_mm256_cmpgt_epi64(wide, _mm256_setzero_si256()));
}

__attribute__((target("avx2"))) double shift_column_avx2(const double* l, const std::uint8_t* in,
                                                         double max_in, double* c, std::int64_t V) {
  const __m256d minus_inf = _mm256_set1_pd(kMinusInf);
  __m256d mo4 = minus_inf;
  std::int64_t v = 0;
  for (; v + 4 <= V; v += 4) {
    const __m256d x = _mm256_blendv_pd(_mm256_loadu_pd(l + v), minus_inf, in_mask4(in + v));
    mo4 = _mm256_max_pd(x, mo4);  // exact: the order of a max does not matter (no NaN kept)
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, mo4);
  double mo = kMinusInf;
  for (double x : lanes) {
    if (x > mo) mo = x;
  }
  for (; v < V; ++v) {
    if (in[v] == 0 && l[v] > mo) mo = l[v];
  }
  const __m256d mi4 = _mm256_set1_pd(max_in);
  const __m256d mo_b = _mm256_set1_pd(mo);
  v = 0;
  for (; v + 4 <= V; v += 4) {
    const __m256d shift = _mm256_blendv_pd(mo_b, mi4, in_mask4(in + v));
    _mm256_storeu_pd(c + v, _mm256_sub_pd(_mm256_loadu_pd(l + v), shift));
  }
  for (; v < V; ++v) c[v] = l[v] - (in[v] != 0 ? max_in : mo);
  return mo;
}

__attribute__((target("avx2"))) double masked_sum_avx2(const double* c, const std::uint8_t* in,
                                                       std::int64_t V) {
  __m256d s4 = _mm256_setzero_pd();
  std::int64_t v = 0;
  for (; v + 4 <= V; v += 4) {
    s4 = _mm256_add_pd(
        s4, _mm256_blendv_pd(_mm256_loadu_pd(c + v), _mm256_setzero_pd(), in_mask4(in + v)));
  }
  double s[4];
  _mm256_storeu_pd(s, s4);
  double t = (s[0] + s[1]) + (s[2] + s[3]);
  for (; v < V; ++v) t += in[v] != 0 ? 0.0 : c[v];
  return t;
}

__attribute__((target("avx2"))) void masked_scale_avx2(double* c, const std::uint8_t* in, double f,
                                                       std::int64_t V) {
  const __m256d f4 = _mm256_set1_pd(f);
  const __m256d one = _mm256_set1_pd(1.0);
  std::int64_t v = 0;
  for (; v + 4 <= V; v += 4) {
    const __m256d g = _mm256_blendv_pd(f4, one, in_mask4(in + v));
    _mm256_storeu_pd(c + v, _mm256_mul_pd(_mm256_loadu_pd(c + v), g));
  }
  for (; v < V; ++v) c[v] *= in[v] != 0 ? 1.0 : f;
}

bool detect_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#endif

std::atomic<bool>& avx2_flag() {
#ifdef NTP_X86
  static std::atomic<bool> flag(detect_avx2());
#else
  static std::atomic<bool> flag(false);
#endif
  return flag;
}

bool avx2_active() { return avx2_flag().load(std::memory_order_relaxed); }

}  // namespace

void set_avx2_columns_enabled(bool enabled) {
#ifdef NTP_X86
  avx2_flag().store(enabled && detect_avx2(), std::memory_order_relaxed);
#else
  (void)enabled;
#endif
}

bool avx2_columns_active() { return avx2_active(); }

double shift_column(const double* l, const std::uint8_t* in, double max_in, double* c,
                    std::int64_t V) {
#ifdef NTP_X86
  if (avx2_active()) return shift_column_avx2(l, in, max_in, c, V);
#endif
  return shift_column_scalar(l, in, max_in, c, V);
}

double masked_sum(const double* c, const std::uint8_t* in, std::int64_t V) {
#ifdef NTP_X86
  if (avx2_active()) return masked_sum_avx2(c, in, V);
#endif
  return masked_sum_scalar(c, in, V);
}

void masked_scale(double* c, const std::uint8_t* in, double f, std::int64_t V) {
#ifdef NTP_X86
  if (avx2_active()) {
    masked_scale_avx2(c, in, f, V);
    return;
  }
#endif
  masked_scale_scalar(c, in, f, V);
}

bool vector_exp_active() {
#ifdef NTP_VECTOR_EXP
  static const bool active = detect_vector_exp();
  return active;
#else
  return false;
#endif
}

namespace {
std::atomic<bool>& blas_flag() {
  static std::atomic<bool> flag = [] {
#ifdef NTP_HAVE_CBLAS
    const char* env = std::getenv("NTP_EIGEN_GEMM");
    return env == nullptr || env[0] == '\0' || env[0] == '0';
#else
    return false;
#endif
  }();
  return flag;
}
}  // namespace

bool blas_active() { return blas_flag().load(std::memory_order_relaxed); }

void set_blas_threads(int threads) {
#ifdef NTP_HAVE_CBLAS
  init_blas_once();
  openblas_set_num_threads(threads < 1 ? 1 : threads);
#else
  (void)threads;
#endif
}

int blas_threads() {
#ifdef NTP_HAVE_CBLAS
  init_blas_once();
  return openblas_get_num_threads();
#else
  return 1;
#endif
}

void set_blas_enabled(bool enabled) {
#ifdef NTP_HAVE_CBLAS
  blas_flag().store(enabled, std::memory_order_relaxed);
#else
  (void)enabled;
#endif
}

void exp_in_place(double* x, std::int64_t n) {
#ifdef NTP_VECTOR_EXP
  if (vector_exp_active()) {
    exp_avx2(x, n);
    return;
  }
#endif
  for (std::int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

namespace {
template <class T>
void eigen_gemm(const T* A, const T* B, T* C, std::int64_t rows, std::int64_t cols,
                std::int64_t inner, bool b_transposed) {
  using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Eigen::Map<const M> a(A, rows, inner);
  Eigen::Map<M> c(C, rows, cols);
  if (b_transposed) {
    c.noalias() = a * Eigen::Map<const M>(B, cols, inner).transpose();
  } else {
    c.noalias() = a * Eigen::Map<const M>(B, inner, cols);
  }
}
}  // namespace

namespace {
template <class T>
void any_gemm(const T* A, const T* B, T* C, std::int64_t rows, std::int64_t cols,
              std::int64_t inner, bool b_transposed) {
#ifdef NTP_HAVE_CBLAS
  if (blas_active()) {
    init_blas_once();
    const auto r = static_cast<blasint>(rows);
    const auto c = static_cast<blasint>(cols);
    const auto k = static_cast<blasint>(inner);
    const auto tb = b_transposed ? CblasTrans : CblasNoTrans;
    const blasint ldb = b_transposed ? c : k;
    if constexpr (std::is_same_v<T, double>) {
      cblas_dgemm(CblasColMajor, CblasNoTrans, tb, r, c, k, 1.0, A, r, B, ldb, 0.0, C, r);
    } else {
      cblas_sgemm(CblasColMajor, CblasNoTrans, tb, r, c, k, 1.0f, A, r, B, ldb, 0.0f, C, r);
    }
    return;
  }
#endif
  eigen_gemm(A, B, C, rows, cols, inner, b_transposed);
}
}  // namespace

void gemm(const double* A, const double* B, double* C, std::int64_t rows, std::int64_t cols,
          std::int64_t inner, bool b_transposed) {
  any_gemm(A, B, C, rows, cols, inner, b_transposed);
}

void gemm(const float* A, const float* B, float* C, std::int64_t rows, std::int64_t cols,
          std::int64_t inner, bool b_transposed) {
  any_gemm(A, B, C, rows, cols, inner, b_transposed);
}

std::string backend_description() {
  std::string out = "gemm: ";
#ifdef NTP_HAVE_CBLAS
  if (!blas_active()) {
    out += "Eigen (OpenBLAS turned off)";
  } else {
    init_blas_once();
    out += std::string("OpenBLAS (") + openblas_get_config() + ", core " + openblas_get_corename() +
           ", " + std::to_string(openblas_get_num_threads()) + " thread(s))";
  }
#else
  out += "Eigen";
#endif
  out += vector_exp_active() ? "; exp: libmvec AVX2" : "; exp: scalar";
  return out;
}

}  // namespace ntp::fast
