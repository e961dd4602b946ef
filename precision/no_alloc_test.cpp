// The hot loop allocates nothing per call in double once its workspace exists (issue
// "Foundation"): every operator new in this binary is counted while the kernel runs.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <vector>

#include "ntp/fast_kernels.hpp"
#include "ntp/generators.hpp"
#include "ntp/instance.hpp"
#include "ntp/loss.hpp"
#include "ntp/rational.hpp"
#include "ntp/train.hpp"

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};
}  // namespace

// Interpose glibc's allocator: Eigen allocates with malloc (not operator new), so counting at the
// malloc level sees every heap allocation of the process (operator new calls malloc too).
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_malloc(n);
}
void* calloc(std::size_t k, std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_realloc(p, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  *out = __libc_memalign(align, n);
  return *out == nullptr ? 12 /* ENOMEM */ : 0;
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  return __libc_memalign(align, n);
}
}

namespace ntp {
namespace {

InstanceData shaped(std::int64_t V, std::int64_t d, std::int64_t m) {
  GeneratorOptions g;
  g.family = d >= m ? "overparameterized" : "underparameterized";
  g.vocab_size = V;
  g.embedding_dim = d;
  g.num_contexts = m;
  g.support_size = std::min<std::int64_t>(6, V - 1);
  return generate(g);
}

class NoAllocation : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

/** Heap allocations of 3 loss+gradient calls after a warm-up call. */
long allocations_in_three_calls(const Instance<double>& inst, LossWorkspace<double>& ws,
                                const Eigen::MatrixXd& W, Eigen::MatrixXd& G) {
  loss_and_gradient(inst, W, ws, &G);  // warm-up (nothing should be lazily allocated either)
  g_allocations = 0;
  g_counting = true;
  double sink = 0;
  for (int i = 0; i < 3; ++i) sink += loss_and_gradient(inst, W, ws, &G).excess;
  g_counting = false;
  EXPECT_GT(sink, 0.0);
  return g_allocations.load();
}

TEST_P(NoAllocation, LossAndGradientInDouble) {
  const auto [V, d, m] = GetParam();
  const Instance<double> inst = to_scalar<double>(shaped(V, d, m));
  LossWorkspace<double> ws(inst);
  Eigen::MatrixXd W = Eigen::MatrixXd::Constant(V, d, 0.01);
  Eigen::MatrixXd G(V, d);
  // ntpcheck's own code allocates nothing: the kernel on the Eigen GEMM path.
  const bool blas = fast::blas_active();
  fast::set_blas_enabled(false);
  EXPECT_EQ(allocations_in_three_calls(inst, ws, W, G), 0)
      << "heap allocations in 3 calls at (" << V << "," << d << "," << m << ") with Eigen GEMMs";
  fast::set_blas_enabled(blas);
  // With OpenBLAS, its AVX-512 small-matrix kernels (0.3.21) malloc one scratch buffer in some
  // calls: at most one per product, never more (the kernel adds none of its own).
  if (blas) {
    EXPECT_LE(allocations_in_three_calls(inst, ws, W, G), 3 * 2)
        << "heap allocations in 3 calls at (" << V << "," << d << "," << m << ") with OpenBLAS";
  }
}

// Control: the counter does see allocations (so the test above can fail).
TEST(NoAllocationControl, CounterSeesAnEigenTemporary) {
  Eigen::MatrixXd A = Eigen::MatrixXd::Constant(300, 300, 1.0);
  g_allocations = 0;
  g_counting = true;
  const Eigen::MatrixXd B = A * A;  // a fresh matrix: allocates
  g_counting = false;
  EXPECT_GT(g_allocations.load(), 0);
  EXPECT_EQ(B(0, 0), 300.0);
}

// MPFR (issue 7, target 3): the kernel works on the workspace's numbers and its scratch, built by
// the first call, and its exponentials allocate nothing (mpfr_exp.hpp). What remains: MPFR's own
// log and log1p (one each per context, 1-3 internal temporaries each) and the limbs of the three
// numbers of the returned LossValue. So the count must not depend on V or d (nothing per
// multiply-add, per logit or per exponential) and stays within 3 + 8 per context.
long mpfr_allocations_per_call(std::int64_t V, std::int64_t d, std::int64_t m) {
  const std::vector<std::int32_t> support = {0, 1, 2};
  InstanceData data;
  data.vocab_size = V;
  data.embedding_dim = d;
  for (std::int64_t j = 0; j < m; ++j) {
    ContextData c;
    for (std::int64_t i = 0; i < d; ++i) c.embedding.push_back(Rational(i == j % d ? 1 : 0));
    c.weight = Rational(1, m);
    c.tokens = support;
    c.probabilities = {Rational(1, 2), Rational(1, 3), Rational(1, 6)};
    data.contexts.push_back(c);
  }
  validate_and_normalise(data);
  const Instance<Mpfr> inst = to_scalar<Mpfr>(data);
  LossWorkspace<Mpfr> ws(inst);
  // W = 0: every context has the same logits (0), so the same branches run whatever V and d are.
  const Matrix<Mpfr> W = Matrix<Mpfr>::Zero(V, d);
  Matrix<Mpfr> G(V, d);
  loss_and_gradient(inst, W, ws, &G);  // warm-up: builds the scratch and the exp tables
  g_allocations = 0;
  g_counting = true;
  bool positive = true;
  for (int i = 0; i < 3; ++i) positive = positive && loss_and_gradient(inst, W, ws, &G).excess > 0;
  g_counting = false;
  EXPECT_TRUE(positive);
  return g_allocations.load() / 3;
}

TEST(NoAllocationMpfr, NothingPerMultiplyAddOrExponential) {
  for (unsigned digits : {50U, 200U}) {
    set_mpfr_digits(digits);
    const long small = mpfr_allocations_per_call(8, 6, 5);
    const long large = mpfr_allocations_per_call(64, 40, 5);
    EXPECT_EQ(small, large) << digits << " digits: allocations grow with V and d";
    EXPECT_LE(large, 3 + 8 * 5) << digits << " digits";
  }
  set_mpfr_digits(60);
}

INSTANTIATE_TEST_SUITE_P(Shapes, NoAllocation,
                         ::testing::Values(std::make_tuple(10, 60, 50), std::make_tuple(64, 32, 32),
                                           std::make_tuple(256, 128, 128),
                                           std::make_tuple(1024, 256, 256)));

}  // namespace
}  // namespace ntp
