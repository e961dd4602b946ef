#include "ntp/resources.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "ntp/errors.hpp"

namespace ntp {

namespace {

constexpr std::uint64_t kUnknown = std::numeric_limits<std::uint64_t>::max();

/** A "Key:   N kB" line of /proc/meminfo, in bytes, or kUnknown. */
std::uint64_t meminfo(const std::string& key) {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream is(line.substr(key.size() + 1));
      std::uint64_t kb = 0;
      if (is >> kb) return kb * 1024;
    }
  }
  return kUnknown;
}

/** A cgroup v2 file holding a number (or "max"), or kUnknown. */
std::uint64_t cgroup_value(const char* path) {
  std::ifstream f(path);
  std::string text;
  if (!(f >> text) || text == "max") return kUnknown;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return kUnknown;
  return v;
}

/** Resident bytes of this process (VmRSS), 0 if unknown. */
std::uint64_t resident_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream is(line.substr(6));
      std::uint64_t kb = 0;
      if (is >> kb) return kb * 1024;
    }
  }
  return 0;
}

std::uint64_t virtual_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmSize:", 0) == 0) {
      std::istringstream is(line.substr(7));
      std::uint64_t kb = 0;
      if (is >> kb) return kb * 1024;
    }
  }
  return 0;
}

std::string gib(std::uint64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  return buf;
}

}  // namespace

std::optional<std::uint64_t> available_memory_bytes() {
  std::uint64_t avail = meminfo("MemAvailable");
  const std::uint64_t cg_max = cgroup_value("/sys/fs/cgroup/memory.max");
  const std::uint64_t cg_cur = cgroup_value("/sys/fs/cgroup/memory.current");
  if (cg_max != kUnknown) {
    const std::uint64_t used = cg_cur == kUnknown ? 0 : cg_cur;
    avail = std::min(avail, cg_max > used ? cg_max - used : 0);
  }
  for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit lim{};
    if (getrlimit(resource, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
      const std::uint64_t used = resource == RLIMIT_AS ? virtual_bytes() : resident_bytes();
      const auto cap = static_cast<std::uint64_t>(lim.rlim_cur);
      avail = std::min(avail, cap > used ? cap - used : 0);
    }
  }
  if (const char* env = std::getenv("NTP_MAX_MEMORY_MB"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0') {
      const std::uint64_t cap = static_cast<std::uint64_t>(mb) * 1024 * 1024;
      const std::uint64_t used = resident_bytes();
      avail = std::min(avail, cap > used ? cap - used : 0);
    }
  }
  if (avail == kUnknown) return std::nullopt;
  return avail;
}

std::uint64_t bytes_per_scalar(const PrecisionSpec& p) {
  switch (p.kind) {
    case Precision::kFloat:
      return sizeof(float);
    case Precision::kDouble:
      return sizeof(double);
    case Precision::kLongDouble:
      return sizeof(long double);
    case Precision::kDD:
      return sizeof(dd_real);
    case Precision::kQD:
      return sizeof(qd_real);
    case Precision::kFloat128:
      return sizeof(Float128);
    case Precision::kMp50:
      return sizeof(Mp50);
    case Precision::kMpfr: {
      // mpfr_t (32 bytes) + limbs of ceil(digits * log2(10) / 64) words + malloc overhead.
      const std::uint64_t bits = static_cast<std::uint64_t>(p.mpfr_digits) * 3322 / 1000 + 1;
      return 32 + 8 * ((bits + 63) / 64) + 16;
    }
  }
  return 8;
}

void check_memory(std::uint64_t need, const std::string& what) {
  const std::optional<std::uint64_t> known = available_memory_bytes();
  if (!known) return;  // nothing to compare with: no check
  const std::uint64_t avail = *known;
  if (static_cast<double>(need) > 0.9 * static_cast<double>(avail)) {
    throw InvalidInput("not enough memory: " + what + " needs about " + gib(need) + ", " +
                       gib(avail) +
                       " available (MemAvailable, cgroup and ulimit; NTP_MAX_MEMORY_MB caps it)");
  }
}

}  // namespace ntp
