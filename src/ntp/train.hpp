#pragma once
/** @file train.hpp
 * Precision-erased training: run an optimizer in the precision named at run time and return the
 * trajectory rounded to double, with full-precision decimal text of the scalar metrics.
 */
#include <Eigen/Core>
#include <optional>
#include <string>
#include <vector>

#include "ntp/optimize.hpp"

namespace ntp {

struct TrainResult {
  PrecisionSpec precision;
  OptimizerKind optimizer = OptimizerKind::kGD;
  Rational eta;
  std::int64_t steps_requested = 0;
  bool stopped_early = false;
  std::int64_t diverged_at_step = -1;  ///< first step with a non-finite loss or W, or -1
  bool has_out_of_support = false;
  double entropy = 0;
  std::string entropy_text;
  std::vector<std::int64_t> step;
  std::vector<double> ce, excess, norm, grad_norm, min_gap;  ///< rounded to double
  std::vector<std::string> ce_text, excess_text, norm_text;  ///< in the run's precision
  std::vector<Eigen::MatrixXd> weights;                      ///< W_k rounded to double
  Eigen::MatrixXd final_weights;
};

/**
 * Runs opt (eta resolved: see default_eta) on data in `precision`, from W0 (zero when null).
 * For MPFR this sets the process-wide MPFR precision (scalar.hpp).
 */
TrainResult train(const InstanceData& data, const OptimizerOptions& opt,
                  const PrecisionSpec& precision, const Eigen::MatrixXd* W0 = nullptr,
                  const ProgressFn& progress = {});

/** The per-type worker; instantiated once per scalar type in instantiate_<type>.cpp. */
template <class S>
TrainResult train_typed(const InstanceData& data, const OptimizerOptions& opt,
                        const Eigen::MatrixXd* W0, const ProgressFn& progress);

/** The matching extern declarations, for headers. */
#define NTP_EXTERN_ALGORITHMS(S)                                                              \
  extern template S kl_phi<S>(const S&);                                                      \
  extern template S log_sum_exp<S>(const Vector<S>&);                                         \
  extern template LossValue<S> loss_and_gradient<S>(const Instance<S>&, const Matrix<S>&,     \
                                                    LossWorkspace<S>&, Matrix<S>*);           \
  extern template Trajectory<S> run_optimizer<S>(const Instance<S>&, const OptimizerOptions&, \
                                                 const Matrix<S>&, const ProgressFn&);        \
  extern template TrainResult train_typed<S>(const InstanceData&, const OptimizerOptions&,    \
                                             const Eigen::MatrixXd*, const ProgressFn&);

NTP_EXTERN_ALGORITHMS(float)
NTP_EXTERN_ALGORITHMS(double)
NTP_EXTERN_ALGORITHMS(long double)
NTP_EXTERN_ALGORITHMS(dd_real)
NTP_EXTERN_ALGORITHMS(qd_real)
NTP_EXTERN_ALGORITHMS(Float128)
NTP_EXTERN_ALGORITHMS(Mp50)
NTP_EXTERN_ALGORITHMS(Mpfr)

}  // namespace ntp
