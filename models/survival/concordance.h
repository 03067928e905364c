#pragma once
/// Concordance indices of right-censored predictions. Plain C++; O(n^2) in the
/// number of subjects, meant for validation and test sets (up to ~10^4).
#include <vector>

#include "models/survival/curves.h"

namespace tandem::survival {

/// Harrell's C: among comparable pairs, the share where the subject who failed
/// first has the higher risk score (a tie in risk counts one half).
/// Pair (i, j) is comparable when i had an event and T_i < T_j, or T_i == T_j
/// and j was censored (a subject censored at T is taken to outlive an event at T).
/// NaN when no pair is comparable, so an empty set is not mistaken for chance.
double harrell_concordance(const std::vector<double>& durations, const std::vector<bool>& events,
                           const std::vector<double>& risk);

/// Antolini's time-dependent concordance (Antolini, Boracchi and Biganzoli,
/// Stat. Med. 2005): the same comparable pairs, concordant when
/// S_i(T_i) < S_j(T_i), i.e. the curves are compared at the earlier subject's
/// event time (read as SurvivalCurves says: step or linear). Strict: equal survival counts as discordant (the "antolini"
/// variant that pycox also implements). NaN when no pair is comparable.
double antolini_concordance(const std::vector<double>& durations, const std::vector<bool>& events,
                            const SurvivalCurves& curves);

}  // namespace tandem::survival
