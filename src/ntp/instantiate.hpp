#pragma once
/** @file instantiate.hpp
 * Explicit instantiation of every scalar-templated algorithm for one type. Each supported scalar
 * has its own instantiate_<type>.cpp, so multiprecision compile time is paid once, in parallel.
 */
#include "ntp/train_impl.hpp"

/** The generic loss kernel for S (every type but Mpfr, which has its own: loss_mpfr.cpp). */
#define NTP_INSTANTIATE_LOSS(S)                                                    \
  template LossValue<S> loss_and_gradient<S>(const Instance<S>&, const Matrix<S>&, \
                                             LossWorkspace<S>&, Matrix<S>*);

#define NTP_INSTANTIATE_ALGORITHMS(S)                                                  \
  template S kl_phi<S>(const S&);                                                      \
  template S log_sum_exp<S>(const Vector<S>&);                                         \
  template Trajectory<S> run_optimizer<S>(const Instance<S>&, const OptimizerOptions&, \
                                          const Matrix<S>&, const ProgressFn&);        \
  template TrainResult train_typed<S>(const InstanceData&, const OptimizerOptions&,    \
                                      const Eigen::MatrixXd*, const ProgressFn&);
