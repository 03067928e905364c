#pragma once
/// char_lstm: the pet-name generator. A window of `context` symbols, one-hot
/// over the 31-symbol alphabet or embedded, goes through an LSTM; a linear
/// layer gives the next character's logits at every position. Registered as
/// "char_lstm".
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <optional>

#include "framework/recipe/schema.h"
#include "framework/train/model.h"

namespace tandem::models {

struct CharLstmOptions {
  int64_t context = 8;
  int64_t hidden = 128;
  int64_t layers = 4;
  /// Dropout on the LSTM's input, between its layers and on its output; on the
  /// input and output one mask per sequence, the same at every position.
  double dropout = 0.1;
  /// Dropout on the LSTM's input alone; unset: `dropout`.
  std::optional<double> input_dropout;
  /// The model's distribution is softmax(logits / calibration_temperature)
  /// whenever it is not training: in validation, eval and sampling. Above 1 it
  /// softens a model that is overconfident on names it has not seen; training
  /// reads the plain logits. 1: no scaling.
  double calibration_temperature = 1.0;
  /// Size of the learned symbol embedding; 0: one-hot input.
  int64_t embedding = 0;
  /// How the data cut names into windows (data.windows), which generation
  /// follows: kWholeName windows start at the name, after one pad symbol;
  /// kEveryPosition windows end at the predicted symbol, pad-filled before it.
  bool whole_name = false;
  /// How the training loss weighs a window's positions: false ("per_name"),
  /// the mean over its non-pad targets, so every window weighs the same; true
  /// ("per_character"), that mean times the batch field "weight" (the window's
  /// targets over the data set's mean), so every character weighs the same, as
  /// the nll counts them.
  bool per_character = false;
};

/// Logits [n, symbols] (after the temperature) with every symbol outside the
/// k likeliest (top_k > 0) and outside the nucleus (top_p < 1: the fewest
/// likeliest symbols whose probabilities sum to at least p, never none) set to
/// -inf, as Hugging Face's top-k and top-p warpers do.
torch::Tensor truncate_logits(const torch::Tensor& logits, int top_k, double top_p);

class CharLstm : public Model, public TextGenerator {
 public:
  explicit CharLstm(const YAML::Node& resolved_model_section);
  explicit CharLstm(const CharLstmOptions& options);

  static recipe::Section schema();
  /// The options of a resolved `model:` section (or a checkpoint's stored one).
  static CharLstmOptions options_from(const YAML::Node& section);

  /// Logits [batch, context, 31] for batch field "input" (int64 [batch, context]);
  /// divided by the calibration temperature when not training.
  torch::Tensor forward(const Batch& batch) override;
  /// Cross-entropy of the next character; pad targets are excluded. Each
  /// sample's loss is the mean over its non-pad positions (per_character:
  /// times its "weight"), and the batch loss the mean over samples (see
  /// Model::loss), so N ranks x B samples equal 1 rank x N*B either way.
  torch::Tensor loss(const Batch& batch, const torch::Tensor& logits) override;
  /// Language-model metrics over the positions of batch field "scored" (each
  /// window's last position, or every position of a whole-name window: see
  /// data::CharWindows), so that every character and the stop symbol is scored
  /// exactly once, from the longest context the data gives it —
  ///   "nll"  mean negative log-likelihood per character, in nats;
  /// and over every window position, as trained —
  ///   "window_loss"  the training loss (per-sample mean over non-pad targets,
  ///                  most of them seen with a truncated context; not an LM score),
  ///   "accuracy"     top-1 accuracy per predicted window position.
  /// Sums over samples, so each rank scores its shard and evaluate_model adds them.
  MetricSums metrics(const Batch& batch, const torch::Tensor& logits) override;
  /// "bpc" (bits per character) and "perplexity" from the reduced "nll".
  std::map<std::string, double> derived_metrics(const std::map<std::string, double>& reduced) const override;

  /// Names sampled one character at a time (generate.cpp).
  std::vector<std::string> generate(const GenerateOptions& options) override;

  const CharLstmOptions& options() const { return options_; }

 private:
  torch::Tensor logits(const torch::Tensor& input);
  /// x with one dropout mask per sequence (x: [batch, positions, features]).
  torch::Tensor sequence_dropout(const torch::Tensor& x, double p) const;
  /// The input windows of a generation step from each row's symbols so far
  /// (starting with the pad that starts a name), as the data cut them.
  torch::Tensor generation_windows(const torch::Tensor& sequence) const;

  CharLstmOptions options_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace tandem::models
