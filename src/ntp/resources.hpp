#pragma once
/** @file resources.hpp
 * Memory limits: a run whose dense matrices would not fit is refused before anything is
 * allocated, with a message saying how much it needs and how much there is, instead of being
 * killed by the kernel half-way (issue 8).
 */
#include <cstdint>
#include <optional>
#include <string>

#include "ntp/scalar.hpp"

namespace ntp {

/**
 * Bytes this process may still allocate: the smallest of MemAvailable (/proc/meminfo), the cgroup
 * v2 limit minus current use (/sys/fs/cgroup/memory.max, memory.current), RLIMIT_AS and RLIMIT_DATA
 * (minus what is in use), and the environment variable NTP_MAX_MEMORY_MB (a user cap, in MiB).
 * std::nullopt when none of them can be read (then no check is made).
 */
std::optional<std::uint64_t> available_memory_bytes();

/** Approximate bytes one number of precision p occupies, its heap part included (MPFR limbs). */
std::uint64_t bytes_per_scalar(const PrecisionSpec& p);

/**
 * Throws InvalidInput "not enough memory: <what> needs about X GiB, Y GiB available (...)" when
 * `need` exceeds 90% of available_memory_bytes() (when that is known; exit code 3: the input is
 * too large for this machine). `what` names the job and
 * its largest parts, e.g. "train in mpfr:500 (W, gradient, logits, 31 recorded W)".
 */
void check_memory(std::uint64_t need, const std::string& what);

}  // namespace ntp
