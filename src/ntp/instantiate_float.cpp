// Explicit instantiations for float (see instantiate.hpp).
#include "ntp/instantiate.hpp"

namespace ntp {
NTP_INSTANTIATE_LOSS(float)
NTP_INSTANTIATE_ALGORITHMS(float)
}  // namespace ntp
