# Every dependency is a Debian package installed by ci/install-deps.sh (toolchain.md has the notes).
find_package(PkgConfig REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(MPFR REQUIRED IMPORTED_TARGET mpfr)
pkg_check_modules(GMP REQUIRED IMPORTED_TARGET gmp)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)

# libmpfi has neither a CMake config nor a .pc file.
find_path(MPFI_INCLUDE_DIR mpfi.h REQUIRED)
find_library(MPFI_LIBRARY mpfi REQUIRED)
# libqd's qd.pc is broken on Debian 12 (unexpanded $fortran path).
find_path(QD_INCLUDE_DIR qd/dd_real.h REQUIRED)
find_library(QD_LIBRARY qd REQUIRED)
# GLPK (libglpk-dev) has neither a CMake config nor a .pc file.
find_path(GLPK_INCLUDE_DIR glpk.h REQUIRED)
find_library(GLPK_LIBRARY glpk REQUIRED)
# FLINT (libflint-dev) has no CMake config; its .pc file is absent on Debian 12.
find_path(FLINT_INCLUDE_DIR flint/flint.h REQUIRED)
find_library(FLINT_LIBRARY flint REQUIRED)
find_library(QUADMATH_LIBRARY NAMES quadmath libquadmath.so.0
             PATHS /usr/lib/gcc/x86_64-linux-gnu/12 /usr/lib/x86_64-linux-gnu REQUIRED)

add_library(ntp_deps INTERFACE)
target_include_directories(ntp_deps SYSTEM INTERFACE ${MPFI_INCLUDE_DIR} ${QD_INCLUDE_DIR}
  ${GLPK_INCLUDE_DIR} ${FLINT_INCLUDE_DIR})
target_link_libraries(ntp_deps INTERFACE Eigen3::Eigen Boost::headers nlohmann_json::nlohmann_json
  PkgConfig::LIBZIP ${MPFI_LIBRARY} PkgConfig::MPFR PkgConfig::GMP ${QD_LIBRARY} ${QUADMATH_LIBRARY}
  ${GLPK_LIBRARY} ${FLINT_LIBRARY})

if(NTPCHECK_BUILD_TESTS OR NTPCHECK_BUILD_PROPERTIES)
  find_package(GTest REQUIRED)
endif()
if(NTPCHECK_BUILD_PROPERTIES)
  find_package(rapidcheck REQUIRED)
endif()
if(NTPCHECK_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
