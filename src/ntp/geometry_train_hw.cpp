// Explicit instantiations of the L = W H training (geometry_train_impl.hpp) for hardware types.
#include "ntp/geometry_train_impl.hpp"

namespace ntp {
template GeometryTrainResult train_geometry_typed<float>(const InstanceData&,
                                                         const GeometryTrainOptions&);
template GeometryTrainResult train_geometry_typed<double>(const InstanceData&,
                                                          const GeometryTrainOptions&);
template GeometryTrainResult train_geometry_typed<long double>(const InstanceData&,
                                                               const GeometryTrainOptions&);
}  // namespace ntp
