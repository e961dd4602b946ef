// Explicit instantiations for double (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(double)
NTP_INSTANTIATE_ALGORITHMS(double)
}  // namespace ntp
