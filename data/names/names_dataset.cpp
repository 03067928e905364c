#include "data/names/names_dataset.h"

#include <cmath>

#include "data/names/char_windows.h"
#include "data/names/names_file.h"
#include "framework/recipe/binding.h"
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

namespace {

/// Every key of the names data section, bound to its NamesOptions field.
recipe::Binding<NamesOptions> names_bindings() {
  using O = NamesOptions;
  recipe::Binding<O> s("One name per line, split by name into training and validation windows.");
  s.file("path", &O::path, "The names file (one name per line).");
  s.key("context", &O::context, "Characters of context in each window; must equal model.context.").min(1).max(64);
  s.key("val_fraction", &O::val_fraction, "Share of names held out for validation.").min(0).less_than(1);
  s.key("split_seed", &O::split_seed, "Seed of the train/validation split.").min(0);
  s.key("tune_fraction", &O::tune_fraction,
        "Share of the training names held out as a tuning split; when > 0, training validates on it (and "
        "trains on the rest) and the validation names are not read. For choosing hyperparameters.")
      .min(0)
      .less_than(1);
  s.key("tune_seed", &O::tune_seed,
        "Seed of the tuning split (absent: split_seed); other seeds draw other tuning splits of the same "
        "training names.")
      .min(0);
  s.enumeration("windows", &O::windows,
                "whole_name: one sample per name, every character predicted from the name's whole beginning; "
                "every_position: one window per character, the window's last position scored.",
                {{"every_position", WindowMode::kEveryPosition}, {"whole_name", WindowMode::kWholeName}});
  s.enumeration("on_invalid", &O::on_invalid, "What to do with a name that has characters outside the alphabet.",
                {{"error", OnInvalid::kError}, {"skip", OnInvalid::kSkip}});
  return s;
}

NamesSplit split_from(const NamesOptions& o) {
  auto split = split_names(read_names(o.path, o.on_invalid), o.val_fraction, o.split_seed);
  if (o.tune_fraction > 0) {
    split = split_names(std::move(split.train), o.tune_fraction, o.tune_seed.value_or(o.split_seed));
  }
  return split;
}

}  // namespace

recipe::Section NamesDataset::schema() { return names_bindings().schema(); }

NamesOptions NamesDataset::options_from(const YAML::Node& s) { return names_bindings().read(s); }

DataSplits NamesDataset::load(const YAML::Node& s) {
  const NamesOptions o = options_from(s);
  const auto split = split_from(o);
  DataSplits out;
  out.train = std::make_shared<CharWindows>(split.train, o.context, o.windows);
  if (!split.val.empty()) out.val = std::make_shared<CharWindows>(split.val, o.context, o.windows);
  return out;
}

std::vector<std::string> NamesDataset::training_names(const YAML::Node& s) { return split_from(options_from(s)).train; }

NamesSplit NamesDataset::split(const YAML::Node& s) { return split_from(options_from(s)); }

TANDEM_REGISTER_DATASET("names", NamesDataset);

}  // namespace tandem::data
