// Explicit instantiations for Float128 (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(Float128)
NTP_INSTANTIATE_ALGORITHMS(Float128)
}  // namespace ntp
