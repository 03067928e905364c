#include "data/survival/survival_csv.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "framework/core/error.h"
#include "framework/train/distributed_sampler.h"

namespace tandem::data {
namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return out;
}

std::size_t column_index(const CsvFile& f, const std::string& name, const std::string& key) {
  auto k = f.find(name);
  if (!k) {
    throw BadInput(fmt::format("{}: data.{}: expected a column named '{}', got columns {}", f.path, key, name,
                               fmt::join(f.columns, ", ")));
  }
  return *k;
}

/// The feature columns: as listed, or every column but the outcome and split ones.
std::vector<std::string> feature_columns(const CsvFile& f, const SurvivalCsvOptions& o) {
  if (!o.features.empty()) {
    for (const auto& name : o.features) column_index(f, name, "features");
    return o.features;
  }
  std::vector<std::string> out;
  for (const auto& c : f.columns) {
    if (c != o.duration && c != o.event && c != o.split_column) out.push_back(c);
  }
  return out;
}

double number_at(const CsvFile& f, std::size_t row, std::size_t col, bool* missing) {
  const auto& cell = f.rows[row][col];
  auto v = parse_number(cell, missing);
  if (!v && !*missing) {
    throw BadInput(fmt::format("{}:{}: column '{}': expected a number, got '{}'", f.path, f.lines[row],
                               f.columns[col], cell));
  }
  return v.value_or(std::nan(""));
}

}  // namespace

SurvivalCsvOptions survival_csv_options_from(const YAML::Node& s) {
  SurvivalCsvOptions o;
  o.path = s["path"].as<std::string>();
  o.duration = s["duration"].as<std::string>();
  o.event = s["event"].as<std::string>();
  o.features = split_list(s["features"].as<std::string>());
  o.categorical = split_list(s["categorical"].as<std::string>());
  o.split_column = s["split_column"].as<std::string>();
  o.train_value = s["train_value"].as<std::string>();
  o.val_value = s["val_value"].as<std::string>();
  o.val_fraction = s["val_fraction"].as<double>();
  o.split_seed = s["split_seed"].as<uint64_t>();
  o.tune_fraction = s["tune_fraction"].as<double>();
  o.impute = s["missing"].as<std::string>() == "impute";
  return o;
}

std::vector<std::string> SurvivalCsvEncoding::feature_names() const {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    if (!c.categorical) {
      out.push_back(c.name);
    } else {
      for (const auto& level : c.levels) out.push_back(c.name + "=" + level);
    }
  }
  return out;
}

std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_survival_csv(const CsvFile& f,
                                                                                 const SurvivalCsvOptions& o) {
  std::vector<std::size_t> train, val;
  if (!o.split_column.empty()) {
    const auto k = column_index(f, o.split_column, "split_column");
    for (std::size_t r = 0; r < f.rows.size(); ++r) {
      const auto& v = f.rows[r][k];
      if (v == o.train_value) {
        train.push_back(r);
      } else if (v == o.val_value) {
        val.push_back(r);
      } else {
        throw BadInput(fmt::format("{}:{}: column '{}': expected '{}' or '{}' (data.train_value, data.val_value), "
                                   "got '{}'",
                                   f.path, f.lines[r], f.columns[k], o.train_value, o.val_value, v));
      }
    }
  }
  // A seeded split of `pool`: round(n * fraction) rows to validation.
  auto seeded = [&](const std::vector<std::size_t>& pool, double fraction) {
    const auto n = static_cast<int64_t>(pool.size());
    const auto val_count = static_cast<int64_t>(std::llround(static_cast<double>(n) * fraction));
    const auto order = permutation(n, o.split_seed);
    train.clear();
    val.clear();
    for (int64_t k = 0; k < n; ++k) (k < val_count ? val : train).push_back(pool[static_cast<std::size_t>(order[k])]);
    std::sort(train.begin(), train.end());
    std::sort(val.begin(), val.end());
  };
  if (o.split_column.empty()) {
    std::vector<std::size_t> all(f.rows.size());
    for (std::size_t r = 0; r < all.size(); ++r) all[r] = r;
    seeded(all, o.val_fraction);
  } else if (o.tune_fraction > 0) {
    const auto pool = train;  // the test rows are left out entirely
    seeded(pool, o.tune_fraction);
  }
  if (train.empty()) throw BadInput(fmt::format("{}: expected training rows, got none", f.path));
  return {train, val};
}

SurvivalCsvEncoding fit_survival_csv_encoding(const CsvFile& f, const std::vector<std::size_t>& rows,
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
        bool missing = false;
        parse_number(f.rows[r][k], &missing);
        if (!missing) levels.insert(f.rows[r][k]);
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
  if (enc.columns.empty()) throw BadInput(fmt::format("{}: expected at least one feature column, got none", f.path));
  return enc;
}

std::shared_ptr<SurvivalTable> encode_survival_csv(const CsvFile& f, const std::vector<std::size_t>& rows,
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
    const auto where = fmt::format("{}:{}", f.path, f.lines[r]);
    if (with_outcome) {
      bool missing = false;
      const double t = number_at(f, r, dcol, &missing);
      if (missing || !(t >= 0) || !std::isfinite(t)) {
        throw BadInput(fmt::format("{}: column '{}' (data.duration): expected a number >= 0, got '{}'", where,
                                   o.duration, f.rows[r][dcol]));
      }
      const double e = number_at(f, r, ecol, &missing);
      if (missing || (e != 0.0 && e != 1.0)) {
        throw BadInput(fmt::format("{}: column '{}' (data.event): expected 0 (censored) or 1 (event), got '{}'",
                                   where, o.event, f.rows[r][ecol]));
      }
      da[i] = t;
      ea[i] = e;
    }
    int64_t j = 0;
    for (std::size_t c = 0; c < enc.columns.size(); ++c) {
      const auto& col = enc.columns[c];
      const auto& cell = f.rows[r][cols[c]];
      bool missing = false;
      if (col.categorical) {
        parse_number(cell, &missing);
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
  return std::make_shared<SurvivalTable>(x, duration, event, torch::Tensor(), names);
}

recipe::Section SurvivalCsvDataset::schema() {
  using recipe::Type;
  recipe::Section s("Right-censored survival data from a CSV file: duration, event and feature columns.");
  s.add("path", Type::kFile, "The CSV file, with a header row.");
  s.add("duration", Type::kString, "Column of follow-up times (>= 0).").def("duration");
  s.add("event", Type::kString, "Column of event indicators: 1 = event observed, 0 = censored.").def("event");
  s.add("features", Type::kString, "Feature columns, comma-separated; empty: every other column.").def("");
  s.add("categorical", Type::kString, "Feature columns to one-hot encode (levels of the training split), "
                                      "comma-separated.")
      .def("");
  s.add("split_column", Type::kString, "Column naming each row's split; empty: a seeded split by val_fraction.")
      .def("");
  s.add("train_value", Type::kString, "Value of split_column for training rows.").def("train");
  s.add("val_value", Type::kString, "Value of split_column for validation rows.").def("test");
  s.add("val_fraction", Type::kFloat, "Without split_column: share of rows held out for validation.")
      .def(0.2)
      .min(0)
      .less_than(1);
  s.add("split_seed", Type::kInt, "Seed of the split by val_fraction or tune_fraction.").def(0).min(0);
  s.add("tune_fraction", Type::kFloat, "With split_column: validate on this share of the training rows (seeded) "
                                       "and leave the val_value rows out, for tuning without the test rows.")
      .def(0.0)
      .min(0)
      .less_than(1);
  s.add("missing", Type::kChoice, "Missing feature values: stop with an error, or impute (training mean; no level "
                                  "for a categorical column). Missing durations and events are always errors.")
      .def("error")
      .choices({"error", "impute"});
  return s;
}

DataSplits SurvivalCsvDataset::load(const YAML::Node& section) {
  const auto o = survival_csv_options_from(section);
  const auto file = read_csv_file(o.path);
  const auto [train_rows, val_rows] = split_survival_csv(file, o);
  const auto enc = fit_survival_csv_encoding(file, train_rows, o);
  DataSplits out;
  out.train = encode_survival_csv(file, train_rows, enc, o, true);
  if (!val_rows.empty()) out.val = encode_survival_csv(file, val_rows, enc, o, true);
  return out;
}

SurvivalCsvEncoding SurvivalCsvDataset::training_encoding(const YAML::Node& section) {
  const auto o = survival_csv_options_from(section);
  const auto file = read_csv_file(o.path);
  return fit_survival_csv_encoding(file, split_survival_csv(file, o).first, o);
}

TANDEM_REGISTER_DATASET("survival_csv", SurvivalCsvDataset);

}  // namespace tandem::data
