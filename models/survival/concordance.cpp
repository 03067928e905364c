#include "models/survival/concordance.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace tandem::survival {
namespace {

void check_sizes(std::size_t durations, std::size_t events, std::size_t other, const char* what) {
  if (durations != events || durations != other) {
    throw std::invalid_argument(std::string("concordance: durations, events and ") + what +
                                " must have the same length");
  }
}

bool comparable(const std::vector<double>& t, const std::vector<bool>& e, std::size_t i, std::size_t j) {
  return e[i] && (t[i] < t[j] || (t[i] == t[j] && !e[j]));
}

}  // namespace

double harrell_concordance(const std::vector<double>& t, const std::vector<bool>& e, const std::vector<double>& risk) {
  check_sizes(t.size(), e.size(), risk.size(), "risk");
  double pairs = 0, concordant = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!e[i]) continue;
    for (std::size_t j = 0; j < t.size(); ++j) {
      if (j == i || !comparable(t, e, i, j)) continue;
      pairs += 1;
      concordant += risk[i] > risk[j] ? 1.0 : (risk[i] == risk[j] ? 0.5 : 0.0);
    }
  }
  return pairs > 0 ? concordant / pairs : std::numeric_limits<double>::quiet_NaN();
}

double antolini_concordance(const std::vector<double>& t, const std::vector<bool>& e, const SurvivalCurves& curves) {
  check_sizes(t.size(), e.size(), t.size(), "curves");
  curves.check(t.size());
  double pairs = 0, concordant = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!e[i]) continue;
    const auto k = curves.position(t[i]);
    const double s_i = curves.value(i, k);
    for (std::size_t j = 0; j < t.size(); ++j) {
      if (j == i || !comparable(t, e, i, j)) continue;
      pairs += 1;
      concordant += s_i < curves.value(j, k) ? 1.0 : 0.0;
    }
  }
  return pairs > 0 ? concordant / pairs : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace tandem::survival
