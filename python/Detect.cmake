# Decides whether the Python module `ntpcheck` is built (NTPCHECK_BUILD_PYTHON: AUTO, ON, OFF).
# Included from the top-level CMakeLists.txt before the library target, because the static library
# `ntp` must then be position-independent to be linked into the module's shared object.
#
# The interpreter is /usr/bin/python3 unless Python3_EXECUTABLE says otherwise: Debian's NumPy,
# PyTorch and pybind11 are installed for it (a `python3` earlier on PATH may be another interpreter
# that cannot see them; toolchain.md).
set(NTP_PYTHON_ENABLED OFF)
# Build folders configured before AUTO existed hold the old option's BOOL default OFF: that was
# never a choice, so it becomes AUTO (an explicit -DNTPCHECK_BUILD_PYTHON=OFF is kept).
get_property(_ntp_python_type CACHE NTPCHECK_BUILD_PYTHON PROPERTY TYPE)
if(_ntp_python_type STREQUAL "BOOL")
  if(NTPCHECK_BUILD_PYTHON)
    set(NTPCHECK_BUILD_PYTHON ON CACHE STRING "Build the Python module: AUTO, ON or OFF" FORCE)
  else()
    set(NTPCHECK_BUILD_PYTHON AUTO CACHE STRING "Build the Python module: AUTO, ON or OFF" FORCE)
  endif()
endif()
string(TOUPPER "${NTPCHECK_BUILD_PYTHON}" _ntp_python_mode)
if(_ntp_python_mode MATCHES "^(TRUE|YES|Y|1)$")
  set(_ntp_python_mode ON)
elseif(_ntp_python_mode MATCHES "^(FALSE|NO|N|0)$")
  set(_ntp_python_mode OFF)
endif()
if(NOT _ntp_python_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR
          "NTPCHECK_BUILD_PYTHON must be AUTO, ON or OFF, got \"${NTPCHECK_BUILD_PYTHON}\"")
endif()

if(_ntp_python_mode STREQUAL "OFF")
  message(STATUS "ntpcheck: not building the Python module: NTPCHECK_BUILD_PYTHON=OFF")
else()
  set(_ntp_python_why "")
  if(NTPCHECK_SANITIZE)
    # The module would need the sanitizer runtimes preloaded into the interpreter.
    set(_ntp_python_why "NTPCHECK_SANITIZE is ON")
  else()
    if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
      set(Python3_EXECUTABLE /usr/bin/python3)
    endif()
    find_package(Python3 COMPONENTS Interpreter Development.Module)
    if(NOT Python3_FOUND)
      set(_ntp_python_why "Python3 (Interpreter, Development) not found (Debian: python3-dev)")
    else()
      find_package(pybind11 CONFIG QUIET)
      if(NOT pybind11_FOUND)
        set(_ntp_python_why "pybind11 not found (Debian: pybind11-dev)")
      endif()
    endif()
  endif()
  if(_ntp_python_why STREQUAL "")
    set(NTP_PYTHON_ENABLED ON)
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
    message(STATUS "ntpcheck: building the Python module for ${Python3_EXECUTABLE} "
                   "(Python ${Python3_VERSION}, pybind11 ${pybind11_VERSION})")
  elseif(_ntp_python_mode STREQUAL "ON")
    message(FATAL_ERROR "NTPCHECK_BUILD_PYTHON=ON but ${_ntp_python_why}")
  else()
    message(STATUS "ntpcheck: not building the Python module: ${_ntp_python_why}")
  endif()
endif()
