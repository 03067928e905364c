#include "data/logistic/synthetic.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/core/error.h"
#include "framework/recipe/binding.h"

namespace tandem::data {
namespace {

/// SplitMix64's output function: a bijective mix of a 64-bit counter
/// (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014).
inline uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A uniform double in (0, 1] from 53 bits of `h`.
inline double unit(uint64_t h) { return (static_cast<double>(h >> 11) + 1.0) * 0x1.0p-53; }

constexpr double kTwoPi = 6.283185307179586476925;

}  // namespace

std::vector<double> synthetic_coefficients(int64_t columns, uint64_t seed, const std::vector<double>& given,
                                           double scale) {
  if (!given.empty()) {
    if (static_cast<int64_t>(given.size()) != columns) {
      throw BadInput(fmt::format("data.coefficients: expected {} numbers (data.columns), got {}", columns,
                                 given.size()));
    }
    return given;
  }
  std::vector<double> beta(static_cast<size_t>(columns));
  const uint64_t base = mix(seed ^ 0x636f656666ULL);  // a stream apart from the rows'
  for (int64_t j = 0; j < columns; ++j) beta[j] = scale * (2.0 * unit(mix(base + j)) - 1.0);
  return beta;
}

SyntheticRows::SyntheticRows(SyntheticSpec spec, int64_t first, int64_t count)
    : spec_(std::move(spec)), first_(first), count_(count) {
  spec_.coefficients = synthetic_coefficients(spec_.columns, spec_.seed, spec_.coefficients, 1.0);
}

void SyntheticRows::fill(int64_t begin, int64_t end, double* x, double* y) const {
  const int64_t d = spec_.columns;
  const int64_t pairs = (d + 1) / 2;
  const auto stride = static_cast<uint64_t>(pairs + 1);  // counters per row: the normal pairs, then the label
  const uint64_t base = mix(spec_.seed);
  const double* beta = spec_.coefficients.data();
  for (int64_t r = begin; r < end; ++r, x += d, ++y) {
    const uint64_t counter = base + static_cast<uint64_t>(first_ + r) * stride;
    for (int64_t k = 0; k < pairs; ++k) {
      const uint64_t h1 = mix(counter + static_cast<uint64_t>(k));
      const uint64_t h2 = mix(h1);
      const double radius = std::sqrt(-2.0 * std::log(unit(h1)));
      const double angle = kTwoPi * unit(h2);
      x[2 * k] = radius * std::cos(angle);
      if (2 * k + 1 < d) x[2 * k + 1] = radius * std::sin(angle);
    }
    double z = spec_.intercept;
    for (int64_t j = 0; j < d; ++j) z += x[j] * beta[j];
    const double p = 1.0 / (1.0 + std::exp(-z));
    *y = unit(mix(counter + static_cast<uint64_t>(pairs))) <= p ? 1.0 : 0.0;
  }
}

namespace {

/// Every key of the logistic_synthetic data section, bound to its SyntheticOptions field.
recipe::Binding<SyntheticOptions> synthetic_bindings() {
  using O = SyntheticOptions;
  recipe::Binding<O> s("Synthetic logistic data: x ~ N(0, I), y ~ Bernoulli(sigmoid(x.beta + intercept)).");
  s.key("rows", [](O& o) -> int64_t& { return o.spec.rows; }, "Training rows (all workers together).").min(1);
  s.key("columns", [](O& o) -> int64_t& { return o.spec.columns; }, "Features per row.").min(1).max(100000);
  s.key("seed", [](O& o) -> uint64_t& { return o.spec.seed; }, "Seed of features, labels and default coefficients.")
      .min(0);
  s.key("coefficients", [](O& o) -> std::vector<double>& { return o.spec.coefficients; },
        "True coefficients beta, one per column; empty: uniform in [-1, 1) from the seed.");
  s.key("intercept", [](O& o) -> double& { return o.spec.intercept; }, "True intercept.");
  s.key("val_rows", &O::val_rows, "Validation rows, generated after the training rows; 0: none.").min(0);
  return s;
}

}  // namespace

recipe::Section SyntheticDataset::schema() { return synthetic_bindings().schema(); }

SyntheticOptions SyntheticDataset::options_from(const YAML::Node& s) { return synthetic_bindings().read(s); }

SyntheticSpec SyntheticDataset::spec_from(const YAML::Node& s) {
  SyntheticSpec spec = options_from(s).spec;
  spec.coefficients = synthetic_coefficients(spec.columns, spec.seed, spec.coefficients, 1.0);
  return spec;
}

DataSplits SyntheticDataset::load(const YAML::Node& s) {
  const SyntheticSpec spec = spec_from(s);
  DataSplits out;
  out.train = std::make_shared<SyntheticRows>(spec, 0, spec.rows);
  const auto val_rows = options_from(s).val_rows;
  if (val_rows > 0) out.val = std::make_shared<SyntheticRows>(spec, spec.rows, val_rows);
  return out;
}

TANDEM_REGISTER_DATASET("logistic_synthetic", SyntheticDataset);

}  // namespace tandem::data
