#include "ntp/resources.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "ntp/errors.hpp"

namespace ntp {
namespace {

TEST(Resources, BytesPerScalarGrowWithPrecision) {
  EXPECT_EQ(bytes_per_scalar({Precision::kFloat, 0}), 4u);
  EXPECT_EQ(bytes_per_scalar({Precision::kDouble, 0}), 8u);
  EXPECT_GE(bytes_per_scalar({Precision::kDD, 0}), 16u);
  // 1000 digits need 3322 bits = 52 limbs of 8 bytes, beside the mpfr_t itself.
  EXPECT_GE(bytes_per_scalar({Precision::kMpfr, 1000}), 52u * 8);
  EXPECT_LT(bytes_per_scalar({Precision::kMpfr, 50}), bytes_per_scalar({Precision::kMpfr, 500}));
}

// NTP_MAX_MEMORY_MB caps what is available: the refusal names the job and both sizes.
TEST(Resources, UserCapRefusesUpFront) {
  ASSERT_EQ(setenv("NTP_MAX_MEMORY_MB", "64", 1), 0);
  const auto avail = available_memory_bytes();
  ASSERT_TRUE(avail.has_value());
  EXPECT_LE(*avail, std::uint64_t{64} << 20);
  try {
    check_memory(std::uint64_t{1} << 30, "train in double (test)");
    ADD_FAILURE() << "1 GiB under a 64 MiB cap was not refused";
  } catch (const InvalidInput& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("not enough memory: train in double (test) needs about 1 GiB"),
              std::string::npos)
        << what;
    EXPECT_EQ(e.exit_code(), ExitCode::kInvalidInput);
  }
  // The cap counts the process's resident memory (ASan's shadow alone can exceed 64 MiB), so the
  // tiny job is checked under a cap far above any process.
  ASSERT_EQ(setenv("NTP_MAX_MEMORY_MB", "1000000", 1), 0);
  EXPECT_NO_THROW(check_memory(1024, "a tiny job"));
  ASSERT_EQ(unsetenv("NTP_MAX_MEMORY_MB"), 0);
}

// Without a cap, this machine's own limits apply: an exabyte never fits.
TEST(Resources, ExabyteIsRefused) {
  if (!available_memory_bytes()) GTEST_SKIP() << "no memory information on this system";
  EXPECT_THROW(check_memory(std::uint64_t{1} << 60, "an exabyte"), InvalidInput);
}

}  // namespace
}  // namespace ntp
