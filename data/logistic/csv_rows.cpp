#include "data/logistic/csv_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"
#include "framework/recipe/binding.h"
#include "framework/train/distributed_sampler.h"

namespace tandem::data {

MemoryRows::MemoryRows(int64_t features, std::vector<double> x, std::vector<double> y,
                       std::optional<FeatureScaling> scaling)
    : features_(features), x_(std::move(x)), y_(std::move(y)), scaling_(std::move(scaling)) {}

void MemoryRows::fill(int64_t begin, int64_t end, double* x, double* y) const {
  std::copy(x_.begin() + begin * features_, x_.begin() + end * features_, x);
  std::copy(y_.begin() + begin, y_.begin() + end, y);
}

FeatureScaling fit_scaling(const std::vector<double>& x, int64_t d) {
  const int64_t n = d == 0 ? 0 : static_cast<int64_t>(x.size()) / d;
  FeatureScaling s;
  s.mean.assign(static_cast<size_t>(d), 0.0);
  s.scale.assign(static_cast<size_t>(d), 1.0);
  if (n == 0) return s;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) s.mean[j] += x[i * d + j];
  for (auto& m : s.mean) m /= static_cast<double>(n);
  std::vector<double> ss(static_cast<size_t>(d), 0.0);  // centred sums of squares (two passes: no cancellation)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) ss[j] += (x[i * d + j] - s.mean[j]) * (x[i * d + j] - s.mean[j]);
  for (int64_t j = 0; j < d; ++j) {
    const double sd = std::sqrt(ss[j] / static_cast<double>(n));
    s.scale[j] = sd > 0 ? sd : 1.0;
  }
  return s;
}

DataSplits load_csv_logistic(const CsvLogisticOptions& o) {
  // Without a feature list every column is used, so the whole table is read;
  // otherwise only the label and the listed columns are parsed.
  std::vector<std::string> features = o.features;
  CsvOptions csv;
  if (!features.empty()) {
    csv.columns = features;
    csv.columns.insert(csv.columns.begin(), o.label);
  }
  CsvTable table = read_csv_table(o.path, csv);
  const int64_t label_col = table.index(o.label);
  if (features.empty()) {
    for (const auto& c : table.columns()) if (c != o.label) features.push_back(c);
  }
  if (features.empty()) throw BadInput(fmt::format("{}: expected at least one feature column beside '{}'", o.path, o.label));
  std::vector<int64_t> cols;
  for (const auto& f : features) cols.push_back(table.index(f));

  const int64_t n = table.rows();
  const auto d = static_cast<int64_t>(features.size());
  if (n == 0) throw BadInput(fmt::format("{}: expected at least one data row, got none", o.path));
  for (int64_t r = 0; r < n; ++r) {
    const double label = table.at(r, label_col);
    if (label != 0.0 && label != 1.0) {
      throw BadInput(fmt::format("{}:{}: column '{}': expected a label of 0 or 1, got {}", o.path, table.line(r),
                                 o.label, label));
    }
  }
  const auto val_count = static_cast<int64_t>(std::llround(static_cast<double>(n) * o.val_fraction));
  const auto order = permutation(n, o.split_seed);
  // Training rows keep the file's order (so shards are contiguous file blocks); only membership is shuffled.
  std::vector<char> is_val(static_cast<size_t>(n), 0);
  for (int64_t k = 0; k < val_count; ++k) is_val[order[k]] = 1;
  std::vector<double> tx, ty, vx, vy;
  tx.reserve(static_cast<size_t>((n - val_count) * d));
  for (int64_t r = 0; r < n; ++r) {
    auto& x = is_val[r] ? vx : tx;
    auto& y = is_val[r] ? vy : ty;
    y.push_back(table.at(r, label_col));
    for (int64_t c : cols) x.push_back(table.at(r, c));
  }
  if (ty.empty()) throw BadInput(fmt::format("{}: data.val_fraction leaves no training rows", o.path));
  std::optional<FeatureScaling> scaling;
  if (o.standardize) scaling = fit_scaling(tx, d);
  DataSplits out;
  out.train = std::make_shared<MemoryRows>(d, std::move(tx), std::move(ty), scaling);
  if (!vy.empty()) out.val = std::make_shared<MemoryRows>(d, std::move(vx), std::move(vy), scaling);
  return out;
}

namespace {

/// Every key of the csv data section, bound to its CsvLogisticOptions field.
recipe::Binding<CsvLogisticOptions> csv_logistic_bindings() {
  using O = CsvLogisticOptions;
  recipe::Binding<O> s("Binary-labelled rows from a CSV file with a header row.");
  s.file("path", &O::path, "The CSV file.");
  s.key("label", &O::label, "Name of the label column (values 0 or 1).");
  s.name_list("features", &O::features, "Feature columns, comma-separated; empty: every column but the label.");
  s.key("standardize", &O::standardize,
        "Scale features to mean 0, variance 1 with statistics of the training rows (kept with the model).");
  s.key("val_fraction", &O::val_fraction, "Share of rows held out for validation.").min(0).less_than(1);
  s.key("split_seed", &O::split_seed, "Seed of the train/validation split.").min(0);
  return s;
}

}  // namespace

recipe::Section CsvLogisticDataset::schema() { return csv_logistic_bindings().schema(); }

CsvLogisticOptions CsvLogisticDataset::options_from(const YAML::Node& s) { return csv_logistic_bindings().read(s); }

DataSplits CsvLogisticDataset::load(const YAML::Node& s) { return load_csv_logistic(options_from(s)); }

TANDEM_REGISTER_DATASET("csv", CsvLogisticDataset);

}  // namespace tandem::data
