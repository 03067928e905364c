#pragma once
/// char_lstm: the pet-name generator. The last `context` characters, one-hot
/// over the 31-symbol alphabet, go through an LSTM; a linear layer gives the
/// next character's logits at every position. Registered as "char_lstm".
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include "framework/recipe/schema.h"
#include "framework/train/model.h"

namespace tandem::models {

struct CharLstmOptions {
  int64_t context = 8;
  int64_t hidden = 128;
  int64_t layers = 4;
  double dropout = 0.1;
};

class CharLstm : public Model, public TextGenerator {
 public:
  explicit CharLstm(const YAML::Node& resolved_model_section);
  explicit CharLstm(const CharLstmOptions& options);

  static recipe::Section schema();

  /// Logits [batch, context, 31] for batch field "input" (int64 [batch, context]).
  torch::Tensor forward(const Batch& batch) override;
  /// Cross-entropy of the next character; pad targets are excluded. Each
  /// sample's loss is the mean over its non-pad positions, and the batch loss
  /// the mean over samples (see Model::loss).
  torch::Tensor loss(const Batch& batch, const torch::Tensor& logits) override;
  /// Language-model metrics, each window's last position only: there the model
  /// reads its full context and predicts s[t], so over a name's windows every
  /// character and the stop symbol is scored exactly once —
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

  CharLstmOptions options_;
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace tandem::models
