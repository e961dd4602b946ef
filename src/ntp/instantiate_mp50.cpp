// Explicit instantiations for Mp50 (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(Mp50)
NTP_INSTANTIATE_ALGORITHMS(Mp50)
}  // namespace ntp
