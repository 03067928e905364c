#include "models/char_lstm/char_lstm.h"

#include <fmt/format.h>

#include "data/text/alphabet.h"
#include "data/text/lm_score.h"
#include "framework/core/error.h"
#include "framework/recipe/binding.h"

namespace tandem::models {
namespace {

using text::Alphabet;

/// Every key of the char_lstm model section, bound to its CharLstmOptions
/// field. A checkpoint's configuration written before `embedding` and
/// `windows` existed lacks them; they read as the defaults, one-hot input and
/// every-position windows, which is what such a model trained with.
recipe::Binding<CharLstmOptions> char_lstm_bindings() {
  using O = CharLstmOptions;
  recipe::Binding<O> s("Character-level LSTM that learns and generates names.");
  s.key("context", &O::context, "Characters the model reads; must equal data.context.").min(1).max(64);
  s.key("hidden", &O::hidden, "LSTM hidden size.").min(1);
  s.key("layers", &O::layers, "Stacked LSTM layers.").min(1);
  s.key("dropout", &O::dropout,
        "Dropout on the LSTM's output, on its input unless input_dropout is set (one mask per sequence), and "
        "between its layers.")
      .min(0)
      .less_than(1);
  s.key("input_dropout", &O::input_dropout, "Dropout on the LSTM's input alone; absent: dropout.").min(0).less_than(1);
  s.key("embedding", &O::embedding, "Size of a learned symbol embedding; 0: one-hot input.").min(0);
  s.spelled<std::string>(
       "windows", &O::whole_name, "How the data cut names into windows; must equal data.windows.",
       [](const std::string& word) { return word == "whole_name"; },
       [](bool whole_name) { return whole_name ? "whole_name" : "every_position"; }, recipe::Type::kChoice)
      .choices({"every_position", "whole_name"});
  s.spelled<std::string>(
       "loss", &O::per_character,
       "per_name: each window's mean loss, windows alike; per_character: every character alike, as nll counts "
       "them.",
       [](const std::string& word) { return word == "per_character"; },
       [](bool per_character) { return per_character ? "per_character" : "per_name"; }, recipe::Type::kChoice)
      .choices({"per_name", "per_character"});
  s.key("calibration_temperature", &O::calibration_temperature,
        "Logits are divided by it outside training (validation, eval, sampling); above 1 softens an overconfident "
        "model. Choose it on a tuning split (tandem eval takes it as an override).")
      .greater_than(0)
      .max(10)
      .inference_only();
  return s;
}

}  // namespace

CharLstm::CharLstm(const YAML::Node& section) : CharLstm(options_from(section)) {}

CharLstm::CharLstm(const CharLstmOptions& options) : options_(options) {
  if (options_.embedding > 0) {
    embedding_ = register_module("embedding", torch::nn::Embedding(Alphabet::kSize, options_.embedding));
  }
  const int64_t input_size = options_.embedding > 0 ? options_.embedding : Alphabet::kSize;
  lstm_ = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(input_size, options_.hidden)
                                                      .num_layers(options_.layers)
                                                      .dropout(options_.layers > 1 ? options_.dropout : 0.0)
                                                      .batch_first(true)));
  head_ = register_module("head", torch::nn::Linear(options_.hidden, Alphabet::kSize));
}

recipe::Section CharLstm::schema() { return char_lstm_bindings().schema(); }

CharLstmOptions CharLstm::options_from(const YAML::Node& section) { return char_lstm_bindings().read(section); }

torch::Tensor CharLstm::sequence_dropout(const torch::Tensor& x, double p) const {
  if (!is_training() || p <= 0) return x;
  const double keep = 1.0 - p;
  auto mask = torch::bernoulli(torch::full({x.size(0), 1, x.size(2)}, keep, x.options())) / keep;
  return x * mask;
}

torch::Tensor CharLstm::logits(const torch::Tensor& input) {
  auto x = options_.embedding > 0 ? embedding_->forward(input)
                                  : torch::one_hot(input, Alphabet::kSize).to(torch::kFloat32);
  auto out = std::get<0>(lstm_->forward(sequence_dropout(x, options_.input_dropout.value_or(options_.dropout))));
  auto scores = head_->forward(sequence_dropout(out, options_.dropout));
  if (is_training() || options_.calibration_temperature == 1.0) return scores;
  return scores / options_.calibration_temperature;
}

torch::Tensor CharLstm::forward(const Batch& batch) {
  const auto& input = batch.at("input");
  if (input.dim() != 2 || input.size(1) != options_.context) {
    throw std::invalid_argument(fmt::format(
        "[char_lstm] expected input windows of {} characters (model.context), got shape {}; set data.context "
        "and model.context to the same value",
        options_.context, c10::str(input.sizes())));
  }
  return logits(input);
}

torch::Tensor CharLstm::loss(const Batch& batch, const torch::Tensor& logits) {
  const auto& target = batch.at("target");
  auto per_position = torch::nn::functional::cross_entropy(
      logits.reshape({-1, Alphabet::kSize}), target.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  auto mask = (target != Alphabet::kPad).to(logits.scalar_type());
  auto per_sample = (per_position.view_as(mask) * mask).sum(1) / mask.sum(1).clamp_min(1.0);
  if (options_.per_character) {
    TANDEM_CHECK_INPUT(batch.fields.count("weight") > 0,
                       "[char_lstm] model.loss per_character needs the batch field \"weight\" (data type names gives it)");
    per_sample = per_sample * batch.at("weight").to(per_sample.scalar_type());
  }
  return per_sample.mean();
}

MetricSums CharLstm::metrics(const Batch& batch, const torch::Tensor& logits) {
  const auto& target = batch.at("target");
  auto mask = target != Alphabet::kPad;
  auto correct = (logits.argmax(-1) == target).logical_and(mask);
  // Without a "scored" field (windows made elsewhere), each window's last position.
  torch::Tensor scored;
  if (batch.fields.count("scored")) {
    scored = batch.at("scored").to(torch::kBool).logical_and(mask);
  } else {
    scored = torch::zeros_like(mask);
    scored.select(1, logits.size(1) - 1).fill_(true);
  }
  auto per_position = torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat64).reshape({-1, Alphabet::kSize}), target.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  auto nll = per_position.masked_select(scored.reshape({-1})).sum();
  const double n = static_cast<double>(batch.size);
  return {{"window_loss", {loss(batch, logits).item<double>() * n, n}},
          {"nll", {nll.item<double>(), scored.sum().item<double>()}},
          {"accuracy", {correct.sum().item<double>(), mask.sum().item<double>()}}};
}

std::map<std::string, double> CharLstm::derived_metrics(const std::map<std::string, double>& reduced) const {
  const double nll = reduced.at("nll");
  return {{"bpc", text::bits_per_char(nll)}, {"perplexity", text::perplexity(nll)}};
}

TANDEM_REGISTER_MODEL("char_lstm", CharLstm);

}  // namespace tandem::models
