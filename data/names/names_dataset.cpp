#include "data/names/names_dataset.h"

#include <cmath>

#include "data/names/char_windows.h"
#include "data/names/names_file.h"
#include "framework/train/distributed_sampler.h"

namespace tandem::data {

NamesSplit split_names(std::vector<std::string> names, double val_fraction, uint64_t seed) {
  const auto n = static_cast<int64_t>(names.size());
  const auto val_count = static_cast<int64_t>(std::llround(static_cast<double>(n) * val_fraction));
  NamesSplit split;
  const auto order = permutation(n, seed);
  for (int64_t k = 0; k < n; ++k) (k < val_count ? split.val : split.train).push_back(names[order[k]]);
  return split;
}

recipe::Section NamesDataset::schema() {
  using recipe::Type;
  recipe::Section s("One name per line, split by name into training and validation windows.");
  s.add("path", Type::kFile, "The names file (one name per line).");
  s.add("context", Type::kInt, "Characters of context in each window; must equal model.context.").def(8).min(1).max(64);
  s.add("val_fraction", Type::kFloat, "Share of names held out for validation.").def(0.1).min(0).less_than(1);
  s.add("split_seed", Type::kInt, "Seed of the train/validation split.").def(0).min(0);
  s.add("tune_fraction", Type::kFloat,
        "Share of the training names held out as a tuning split; when > 0, training validates on it (and "
        "trains on the rest) and the validation names are not read. For choosing hyperparameters.")
      .def(0.0)
      .min(0)
      .less_than(1);
  s.add("windows", Type::kChoice,
        "whole_name: one sample per name, every character predicted from the name's whole beginning; "
        "every_position: one window per character, the window's last position scored.")
      .def("every_position")
      .choices({"every_position", "whole_name"});
  s.add("on_invalid", Type::kChoice, "What to do with a name that has characters outside the alphabet.")
      .def("error")
      .choices({"error", "skip"});
  return s;
}

namespace {
NamesSplit split_from(const YAML::Node& s) {
  auto names = read_names(s["path"].as<std::string>(),
                          s["on_invalid"].as<std::string>() == "skip" ? OnInvalid::kSkip : OnInvalid::kError);
  const auto seed = s["split_seed"].as<uint64_t>();
  auto split = split_names(std::move(names), s["val_fraction"].as<double>(), seed);
  const auto tune_fraction = s["tune_fraction"].as<double>();
  if (tune_fraction > 0) split = split_names(std::move(split.train), tune_fraction, seed);
  return split;
}
}  // namespace

DataSplits NamesDataset::load(const YAML::Node& s) {
  const auto split = split_from(s);
  const auto context = s["context"].as<int64_t>();
  const auto mode = window_mode_from(s["windows"].as<std::string>());
  DataSplits out;
  out.train = std::make_shared<CharWindows>(split.train, context, mode);
  if (!split.val.empty()) out.val = std::make_shared<CharWindows>(split.val, context, mode);
  return out;
}

std::vector<std::string> NamesDataset::training_names(const YAML::Node& s) { return split_from(s).train; }

NamesSplit NamesDataset::split(const YAML::Node& s) { return split_from(s); }

TANDEM_REGISTER_DATASET("names", NamesDataset);

}  // namespace tandem::data
