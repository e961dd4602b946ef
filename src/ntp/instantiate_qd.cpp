// Explicit instantiations for qd_real (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(qd_real)
NTP_INSTANTIATE_ALGORITHMS(qd_real)
}  // namespace ntp
