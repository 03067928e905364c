#include "data/survival/survival_csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "framework/core/error.h"
#include "framework/recipe/binding.h"
#include "framework/train/distributed_sampler.h"

namespace tandem::data {
namespace {

std::size_t column_index(const CsvTable& f, const std::string& name, const std::string& key) {
  const auto& cols = f.columns();
  for (std::size_t c = 0; c < cols.size(); ++c) {
    if (cols[c] == name) return c;
  }
  throw BadInput(fmt::format("{}: data.{}: expected a column named '{}', got columns {}", f.source(), key, name,
                             fmt::join(cols, ", ")));
}

/// The feature columns: as listed, or every column but the outcome and split ones.
std::vector<std::string> feature_columns(const CsvTable& f, const SurvivalCsvOptions& o) {
  if (!o.features.empty()) {
    for (const auto& name : o.features) column_index(f, name, "features");
    return o.features;
  }
  std::vector<std::string> out;
  for (const auto& c : f.columns()) {
    if (c != o.duration && c != o.event && c != o.split_column) out.push_back(c);
  }
  return out;
}

int64_t at(std::size_t i) { return static_cast<int64_t>(i); }

/// A numeric cell, or NaN with *missing = true (text was refused when the file was read).
double number_at(const CsvTable& f, std::size_t row, std::size_t col, bool* missing) {
  *missing = f.missing(at(row), at(col));
  return f.at(at(row), at(col));
}

/// Checks across keys: folds and fold agree; tune_fraction needs test rows to leave out.
void add_survival_csv_rules(recipe::Binding<SurvivalCsvOptions>& s) {
  s.rule([](const YAML::Node& d) -> std::optional<recipe::Section::Problem> {
    const auto folds = d["folds"].as<int64_t>(), fold = d["fold"].as<int64_t>();
    if (folds == 1) return recipe::Section::Problem{"folds", "expected 0 (off) or at least 2 folds, got 1"};
    if (folds == 0 && fold != 0) {
      return recipe::Section::Problem{"fold", fmt::format("expected 0 without data.folds, got {}", fold)};
    }
    if (folds > 0 && fold >= folds) {
      return recipe::Section::Problem{
          "fold", fmt::format("expected an integer in [0, {}] (data.folds is {}), got {}", folds - 1, folds, fold)};
    }
    return std::nullopt;
  });
  s.rule([](const YAML::Node& d) -> std::optional<recipe::Section::Problem> {
    const bool has_test_rows = !d["split_column"].as<std::string>().empty() || d["folds"].as<int64_t>() > 0;
    const auto tune = d["tune_fraction"].as<double>();
    if (tune > 0 && !has_test_rows) {
      return recipe::Section::Problem{
          "tune_fraction", fmt::format("expected 0 without data.split_column or data.folds (nothing to hold out "
                                       "beside the validation split, which val_fraction sets), got {}",
                                       tune)};
    }
    return std::nullopt;
  });
}

/// Every key of the survival_csv data section, bound to its SurvivalCsvOptions field.
recipe::Binding<SurvivalCsvOptions> survival_csv_bindings() {
  using O = SurvivalCsvOptions;
  recipe::Binding<O> s("Right-censored survival data from a CSV file: duration, event and feature columns.");
  s.file("path", &O::path, "The CSV file, with a header row.");
  s.key("duration", &O::duration, "Column of follow-up times (>= 0).");
  s.key("event", &O::event, "Column of event indicators: 1 = event observed, 0 = censored.");
  s.name_list("features", &O::features, "Feature columns, comma-separated; empty: every other column.");
  s.name_list("categorical", &O::categorical,
              "Feature columns to one-hot encode (levels of the training split), comma-separated.");
  s.key("split_column", &O::split_column, "Column naming each row's split; empty: a seeded split by val_fraction.");
  s.key("train_value", &O::train_value, "Value of split_column for training rows.");
  s.key("val_value", &O::val_value, "Value of split_column for validation rows.");
  s.key("val_fraction", &O::val_fraction, "Without split_column: share of rows held out for validation.")
      .min(0)
      .less_than(1);
  s.key("split_seed", &O::split_seed, "Seed of the split by val_fraction or tune_fraction.").min(0);
  s.key("tune_fraction", &O::tune_fraction,
        "With split_column or folds: validate on this share of the training rows (seeded) and leave the test rows "
        "(val_value rows, or the fold) out, for tuning without them.")
      .min(0)
      .less_than(1);
  s.key("folds", &O::folds,
        "K-fold cross-validation: validate on fold data.fold of K seeded folds (split_seed) of every row, or of "
        "the training rows with split_column (the val_value rows left out). 0: off.")
      .min(0);
  s.key("fold", &O::fold, "With folds: the fold to validate on, from 0 to folds - 1.").min(0);
  s.key("holdout_fraction", &O::holdout_fraction,
        "Share of the training rows (seeded by split_seed) taken out of training; the survival models keep the "
        "weights of the epoch with the lowest loss on them (early stopping without the test rows). 0: off.")
      .min(0)
      .less_than(1);
  s.spelled<std::string>(
       "missing", &O::impute,
       "Missing feature values: stop with an error, or impute (training mean; no level for a categorical column). "
       "Missing durations and events are always errors.",
       [](const std::string& word) { return word == "impute"; },
       [](bool impute) { return impute ? "impute" : "error"; }, recipe::Type::kChoice)
      .choices({"error", "impute"});
  add_survival_csv_rules(s);
  return s;
}

}  // namespace

SurvivalCsvOptions survival_csv_options_from(const YAML::Node& s) { return survival_csv_bindings().read(s); }

CsvTable read_survival_csv(const std::string& path, const std::vector<std::string>& text_columns,
                           const std::vector<std::string>& columns) {
  CsvOptions options;
  options.columns = columns;
  options.text_columns = text_columns;
  options.missing = MissingCells::kAllow;
  return read_csv_table(path, options);
}

SurvivalCsvRows split_survival_csv(const CsvTable& f, const SurvivalCsvOptions& o) {
  std::vector<std::size_t> train, val;
  if (!o.split_column.empty()) {
    const auto k = column_index(f, o.split_column, "split_column");
    for (std::size_t r = 0; r < static_cast<std::size_t>(f.rows()); ++r) {
      const auto& v = f.text(at(r), at(k));
      if (v == o.train_value) {
        train.push_back(r);
      } else if (v == o.val_value) {
        val.push_back(r);
      } else {
        throw BadInput(fmt::format("{}:{}: column '{}': expected '{}' or '{}' (data.train_value, data.val_value), "
                                   "got '{}'",
                                   f.source(), f.line(at(r)), f.columns()[k], o.train_value, o.val_value, v));
      }
    }
  }
  // A seeded split of `pool` into (kept, taken): round(n * fraction) rows taken.
  auto seeded = [&](const std::vector<std::size_t>& pool, double fraction, uint64_t seed,
                    std::vector<std::size_t>* kept, std::vector<std::size_t>* taken) {
    const auto n = static_cast<int64_t>(pool.size());
    const auto take = static_cast<int64_t>(std::llround(static_cast<double>(n) * fraction));
    const auto order = permutation(n, seed);
    kept->clear();
    taken->clear();
    for (int64_t k = 0; k < n; ++k) (k < take ? taken : kept)->push_back(pool[static_cast<std::size_t>(order[k])]);
    std::sort(kept->begin(), kept->end());
    std::sort(taken->begin(), taken->end());
  };
  // Fold `fold` of K of a seeded order of `pool` is validation, the others training.
  // Sizes as scikit-learn's KFold: the first n % K folds have one row more.
  auto kfold = [&](const std::vector<std::size_t>& pool) {
    const auto n = static_cast<int64_t>(pool.size());
    if (n < o.folds) {
      throw BadInput(fmt::format("{}: data.folds: expected at most as many folds as rows to split ({}), got {}",
                                 f.source(), n, o.folds));
    }
    const auto order = permutation(n, o.split_seed);
    const int64_t base = n / o.folds, extra = n % o.folds;
    const int64_t begin = o.fold * base + std::min(o.fold, extra);
    const int64_t end = begin + base + (o.fold < extra ? 1 : 0);
    train.clear();
    val.clear();
    for (int64_t k = 0; k < n; ++k) {
      (k >= begin && k < end ? val : train).push_back(pool[static_cast<std::size_t>(order[k])]);
    }
    std::sort(train.begin(), train.end());
    std::sort(val.begin(), val.end());
  };
  if (o.split_column.empty()) {
    std::vector<std::size_t> all(static_cast<std::size_t>(f.rows()));
    for (std::size_t r = 0; r < all.size(); ++r) all[r] = r;
    if (o.folds > 0) {
      kfold(all);
    } else {
      seeded(all, o.val_fraction, o.split_seed, &train, &val);
    }
  } else if (o.folds > 0) {
    const auto pool = train;  // the test rows are left out entirely
    kfold(pool);
  }
  if (o.tune_fraction > 0) {
    // Validate on a share of the training rows; the test rows (or the test fold) are left out entirely.
    const auto pool = train;
    seeded(pool, o.tune_fraction, o.split_seed, &train, &val);
  }
  std::vector<std::size_t> holdout;
  if (o.holdout_fraction > 0) {
    const auto pool = train;
    // Its own seed, so the holdout does not repeat the tuning split's order.
    seeded(pool, o.holdout_fraction, o.split_seed + 0x9e3779b97f4a7c15ULL, &train, &holdout);
  }
  if (train.empty()) throw BadInput(fmt::format("{}: expected training rows, got none", f.source()));
  return {train, val, holdout};
}

SurvivalCsvEncoding fit_survival_csv_encoding(const CsvTable& f, const std::vector<std::size_t>& rows,
                                              const SurvivalCsvOptions& o) {
  const std::set<std::string> categorical(o.categorical.begin(), o.categorical.end());
  for (const auto& name : categorical) column_index(f, name, "categorical");
  SurvivalCsvEncoding enc;
  for (const auto& name : feature_columns(f, o)) {
    const auto k = column_index(f, name, "features");
    SurvivalCsvEncoding::Column c;
    c.name = name;
    c.categorical = categorical.count(name) > 0;
    if (c.categorical) {
      std::set<std::string> levels;
      for (auto r : rows) {
        const auto& cell = f.text(at(r), at(k));
        if (!is_missing_cell(cell)) levels.insert(cell);
      }
      c.levels.assign(levels.begin(), levels.end());
    } else {
      double sum = 0, count = 0;
      for (auto r : rows) {
        bool missing = false;
        const double v = number_at(f, r, k, &missing);
        if (!missing) {
          sum += v;
          count += 1;
        }
      }
      c.mean = count > 0 ? sum / count : 0.0;
    }
    enc.columns.push_back(std::move(c));
  }
  if (enc.columns.empty()) {
    throw BadInput(fmt::format("{}: expected at least one feature column, got none", f.source()));
  }
  return enc;
}

std::shared_ptr<SurvivalTable> encode_survival_csv(const CsvTable& f, const std::vector<std::size_t>& rows,
                                                   const SurvivalCsvEncoding& enc, const SurvivalCsvOptions& o,
                                                   bool with_outcome) {
  const auto names = enc.feature_names();
  const auto n = static_cast<int64_t>(rows.size());
  const auto p = static_cast<int64_t>(names.size());
  auto x = torch::zeros({n, p}, torch::kFloat64);
  auto duration = torch::zeros({n}, torch::kFloat64);
  auto event = torch::zeros({n}, torch::kFloat64);
  auto xa = x.accessor<double, 2>();
  auto da = duration.accessor<double, 1>();
  auto ea = event.accessor<double, 1>();
  std::vector<std::size_t> cols;
  for (const auto& c : enc.columns) cols.push_back(column_index(f, c.name, "features"));
  std::size_t dcol = 0, ecol = 0;
  if (with_outcome) {
    dcol = column_index(f, o.duration, "duration");
    ecol = column_index(f, o.event, "event");
  }
  const std::string fix = "; set data.missing=impute to fill missing features (training mean, or no level)";
  for (int64_t i = 0; i < n; ++i) {
    const auto r = rows[static_cast<std::size_t>(i)];
    const auto where = fmt::format("{}:{}", f.source(), f.line(at(r)));
    if (with_outcome) {
      bool missing = false;
      const double t = number_at(f, r, dcol, &missing);
      if (missing || !(t >= 0) || !std::isfinite(t)) {
        throw BadInput(fmt::format("{}: column '{}' (data.duration): expected a number >= 0, got {}", where,
                                   o.duration, missing ? std::string("a missing value") : fmt::format("'{}'", t)));
      }
      const double e = number_at(f, r, ecol, &missing);
      if (missing || (e != 0.0 && e != 1.0)) {
        throw BadInput(fmt::format("{}: column '{}' (data.event): expected 0 (censored) or 1 (event), got {}", where,
                                   o.event, missing ? std::string("a missing value") : fmt::format("'{}'", e)));
      }
      da[i] = t;
      ea[i] = e;
    }
    int64_t j = 0;
    for (std::size_t c = 0; c < enc.columns.size(); ++c) {
      const auto& col = enc.columns[c];
      bool missing = false;
      if (col.categorical) {
        if (!f.is_text(at(cols[c]))) {
          throw BadInput(fmt::format("{}: column '{}' was not read as text; read the file with its categorical "
                                     "columns as text columns",
                                     f.source(), col.name));
        }
        const auto& cell = f.text(at(r), at(cols[c]));
        missing = is_missing_cell(cell);
        if (missing && !o.impute) {
          throw BadInput(fmt::format("{}: column '{}': expected a value, got a missing one{}", where, col.name, fix));
        }
        if (!missing) {
          auto it = std::find(col.levels.begin(), col.levels.end(), cell);
          if (it == col.levels.end()) {
            throw BadInput(fmt::format("{}: column '{}': expected a level seen in the training split ({}), got '{}'",
                                       where, col.name, fmt::join(col.levels, ", "), cell));
          }
          xa[i][j + (it - col.levels.begin())] = 1.0;
        }
        j += static_cast<int64_t>(col.levels.size());
      } else {
        const double v = number_at(f, r, cols[c], &missing);
        if (missing && !o.impute) {
          throw BadInput(fmt::format("{}: column '{}': expected a number, got a missing value{}", where, col.name, fix));
        }
        xa[i][j++] = missing ? col.mean : v;
      }
    }
  }
  auto table = std::make_shared<SurvivalTable>(x, duration, event, torch::Tensor(), names);
  table->set_encoding(enc);
  return table;
}

recipe::Section SurvivalCsvDataset::schema() { return survival_csv_bindings().schema(); }

DataSplits SurvivalCsvDataset::load(const YAML::Node& section) {
  const auto o = survival_csv_options_from(section);
  std::vector<std::string> text = o.categorical;
  if (!o.split_column.empty()) text.push_back(o.split_column);
  // With the features listed, the other columns are not read at all (they may hold anything).
  std::vector<std::string> keep;
  if (!o.features.empty()) {
    keep = o.features;
    for (const auto& c : {o.duration, o.event, o.split_column}) {
      if (!c.empty() && std::find(keep.begin(), keep.end(), c) == keep.end()) keep.push_back(c);
    }
  }
  const auto file = read_survival_csv(o.path, text, keep);
  const auto rows = split_survival_csv(file, o);
  const auto enc = fit_survival_csv_encoding(file, rows.train, o);
  DataSplits out;
  auto train = encode_survival_csv(file, rows.train, enc, o, true);
  if (!rows.holdout.empty()) train->set_holdout(encode_survival_csv(file, rows.holdout, enc, o, true));
  out.train = train;
  if (!rows.val.empty()) out.val = encode_survival_csv(file, rows.val, enc, o, true);
  return out;
}

TANDEM_REGISTER_DATASET("survival_csv", SurvivalCsvDataset);

}  // namespace tandem::data
