// Explicit instantiations for dd_real (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(dd_real)
NTP_INSTANTIATE_ALGORITHMS(dd_real)
}  // namespace ntp
