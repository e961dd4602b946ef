// Explicit instantiations for Mpfr (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_ALGORITHMS(Mpfr)
}  // namespace ntp
