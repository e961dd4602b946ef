// Explicit instantiations of the L = W H training (geometry_train_impl.hpp) for the extended
// types, and the precision dispatch.
#include "ntp/geometry_train_impl.hpp"

namespace ntp {
template GeometryTrainResult train_geometry_typed<dd_real>(const InstanceData&,
                                                           const GeometryTrainOptions&);
template GeometryTrainResult train_geometry_typed<qd_real>(const InstanceData&,
                                                           const GeometryTrainOptions&);
template GeometryTrainResult train_geometry_typed<Float128>(const InstanceData&,
                                                            const GeometryTrainOptions&);
template GeometryTrainResult train_geometry_typed<Mp50>(const InstanceData&,
                                                        const GeometryTrainOptions&);
template GeometryTrainResult train_geometry_typed<Mpfr>(const InstanceData&,
                                                        const GeometryTrainOptions&);

GeometryTrainResult train_geometry(const InstanceData& data, const GeometryTrainOptions& opt,
                                   const PrecisionSpec& precision) {
  GeometryTrainResult r;
  switch (precision.kind) {
    case Precision::kFloat:
      r = train_geometry_typed<float>(data, opt);
      break;
    case Precision::kDouble:
      r = train_geometry_typed<double>(data, opt);
      break;
    case Precision::kLongDouble:
      r = train_geometry_typed<long double>(data, opt);
      break;
    case Precision::kDD:
      r = train_geometry_typed<dd_real>(data, opt);
      break;
    case Precision::kQD:
      r = train_geometry_typed<qd_real>(data, opt);
      break;
    case Precision::kFloat128:
      r = train_geometry_typed<Float128>(data, opt);
      break;
    case Precision::kMp50:
      r = train_geometry_typed<Mp50>(data, opt);
      break;
    case Precision::kMpfr:
      Mpfr::default_precision(precision.mpfr_digits);
      r = train_geometry_typed<Mpfr>(data, opt);
      break;
  }
  r.precision = precision;
  return r;
}
}  // namespace ntp
