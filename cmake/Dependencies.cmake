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

# The double/float GEMMs of the loss kernel (src/ntp/fast_kernels.cpp): OpenBLAS (libopenblas-dev)
# when found (AUTO) or required (ON); Eigen's product otherwise. OpenBLAS picks its kernels for the
# CPU at run time, so the build stays portable; bench/README.md has the measurements behind it.
set(NTPCHECK_BLAS AUTO CACHE STRING "Loss-kernel GEMMs through OpenBLAS: AUTO, ON or OFF")
set_property(CACHE NTPCHECK_BLAS PROPERTY STRINGS AUTO ON OFF)
if(NOT NTPCHECK_BLAS STREQUAL "OFF")
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS QUIET)
  find_path(OPENBLAS_CBLAS_INCLUDE_DIR cblas.h
            PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas
            NO_DEFAULT_PATH)
  if(BLAS_FOUND AND OPENBLAS_CBLAS_INCLUDE_DIR)
    message(STATUS "ntpcheck: loss-kernel GEMMs through OpenBLAS (${BLAS_LIBRARIES})")
    target_include_directories(ntp_deps SYSTEM INTERFACE ${OPENBLAS_CBLAS_INCLUDE_DIR})
    target_link_libraries(ntp_deps INTERFACE ${BLAS_LIBRARIES})
    target_compile_definitions(ntp_deps INTERFACE NTP_HAVE_CBLAS)
  elseif(NTPCHECK_BLAS STREQUAL "ON")
    message(FATAL_ERROR "NTPCHECK_BLAS=ON but OpenBLAS was not found (apt-get install libopenblas-dev)")
  else()
    message(STATUS "ntpcheck: OpenBLAS not found, loss-kernel GEMMs through Eigen")
  endif()
endif()
# glibc's vector math library (the AVX2 exp of the double loss kernel, chosen at run time).
find_library(MVEC_LIBRARY mvec)
if(MVEC_LIBRARY AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  target_link_libraries(ntp_deps INTERFACE ${MVEC_LIBRARY})
  target_compile_definitions(ntp_deps INTERFACE NTP_HAVE_LIBMVEC)
endif()
