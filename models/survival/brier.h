#pragma once
/// Brier score and binomial log-likelihood of survival curves under right
/// censoring, with inverse probability of censoring weights (Graf et al.,
/// Stat. Med. 1999), and their integrals over a time grid. Plain C++.
///
/// The censoring survival G is the Kaplan–Meier estimate of the censoring
/// times of the evaluated set itself (as pycox's EvalSurv does). At time t:
///   BS(t) = 1/n sum_i [ S_i(t)^2     * 1(T_i <= t, d_i = 1) / G(T_i-)
///                     + (1-S_i(t))^2 * 1(T_i > t)           / G(t) ]
///   NBLL(t) = -1/n sum_i [ log(1-S_i(t)) * 1(T_i <= t, d_i = 1) / G(T_i-)
///                        + log(S_i(t))   * 1(T_i > t)           / G(t) ]
/// Subjects censored at or before t contribute 0 but count in n. A weight whose
/// G is 0 is taken as 0 (that term is dropped). In the log-likelihood S is
/// clamped to [1e-7, 1 - 1e-7].
#include <vector>

#include "models/survival/curves.h"

namespace tandem::survival {

struct IpcwScores {
  std::vector<double> times;   ///< the evaluation times, ascending
  std::vector<double> brier;   ///< BS(t) at each time
  std::vector<double> nbll;    ///< NBLL(t) at each time
  double integrated_brier = 0; ///< trapezoidal integral of BS over [times.front(), times.back()], / its length
  double integrated_nbll = 0;  ///< the same for NBLL
};

/// Scores of `curves` (one per subject) at each of `times` (ascending, at least
/// two distinct values for the integrals; with one time the integrals equal
/// the single score).
IpcwScores ipcw_scores(const std::vector<double>& durations, const std::vector<bool>& events,
                       const SurvivalCurves& curves, const std::vector<double>& times);

/// `count` equally spaced times from min to max of `durations` (pycox's usual
/// evaluation grid for the integrated scores).
std::vector<double> evaluation_grid(const std::vector<double>& durations, int count = 100);

}  // namespace tandem::survival
