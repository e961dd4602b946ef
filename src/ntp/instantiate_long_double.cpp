// Explicit instantiations for long double (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(long double)
NTP_INSTANTIATE_ALGORITHMS(long double)
}  // namespace ntp
