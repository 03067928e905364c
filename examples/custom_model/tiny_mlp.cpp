// tiny_char_mlp: a user's own model, registered from outside the Tandem tree.
// The `context` characters of a `names` window, one-hot over the 31-symbol
// alphabet and flattened, go through a one-hidden-layer MLP that predicts the
// character after the window (the target's last position, never pad).
#include <fmt/format.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "data/text/alphabet.h"
#include "framework/recipe/binding.h"
#include "framework/train/model.h"

namespace my_models {

using tandem::Batch;
using tandem::MetricSums;
using tandem::text::Alphabet;

/// The recipe's `model:` keys besides `type`, each default written once, here.
struct TinyCharMlpOptions {
  int64_t context = 8;  ///< characters read; must equal data.context
  int64_t hidden = 64;  ///< hidden units
};

/// Each key bound to its field: the schema (checks, defaults, docs) and the
/// reader both come from these lines.
tandem::recipe::Binding<TinyCharMlpOptions> tiny_char_mlp_bindings() {
  tandem::recipe::Binding<TinyCharMlpOptions> b(
      "A one-hidden-layer MLP predicting the next character (custom_model example).");
  b.key("context", &TinyCharMlpOptions::context, "Characters the model reads; must equal data.context.").min(1).max(64);
  b.key("hidden", &TinyCharMlpOptions::hidden, "Hidden units.").min(1);
  return b;
}

/// An MLP next-character model over the last `context` characters.
/// Batch fields "input" and "target": int64 [batch, context], pad = 0.
class TinyCharMlp : public tandem::Model {
 public:
  /// Built from the resolved `model:` section: every key of schema() is present.
  explicit TinyCharMlp(const YAML::Node& section) : TinyCharMlp(tiny_char_mlp_bindings().read(section)) {}
  explicit TinyCharMlp(const TinyCharMlpOptions& o) : context_(o.context), hidden_(o.hidden) {
    fc1_ = register_module("fc1", torch::nn::Linear(context_ * Alphabet::kSize, hidden_));
    fc2_ = register_module("fc2", torch::nn::Linear(hidden_, Alphabet::kSize));
  }

  /// The recipe keys of `model:` besides `type`; validation and defaults come from here.
  static tandem::recipe::Section schema() { return tiny_char_mlp_bindings().schema(); }

  /// Logits [batch, 31] of the character that follows each window.
  torch::Tensor forward(const Batch& batch) override {
    const auto& input = batch.at("input");
    if (input.dim() != 2 || input.size(1) != context_) {
      throw std::invalid_argument(fmt::format(
          "[tiny_char_mlp] expected input windows of {} characters (model.context), got shape {}; set data.context "
          "and model.context to the same value",
          context_, c10::str(input.sizes())));
    }
    auto x = torch::one_hot(input, Alphabet::kSize).to(torch::kFloat32).flatten(1);
    return fc2_->forward(torch::relu(fc1_->forward(x)));
  }

  /// Cross-entropy of the next character: one prediction per sample, so the
  /// default mean reduction is already the mean over samples (Model::loss).
  torch::Tensor loss(const Batch& batch, const torch::Tensor& logits) override {
    return torch::nn::functional::cross_entropy(logits, next_char(batch));
  }

  /// "loss" (as the default) and "accuracy" of the predicted next character.
  MetricSums metrics(const Batch& batch, const torch::Tensor& logits) override {
    const double n = static_cast<double>(batch.size);
    const double correct = (logits.argmax(-1) == next_char(batch)).sum().item<double>();
    return {{"loss", {loss(batch, logits).item<double>() * n, n}}, {"accuracy", {correct, n}}};
  }

 private:
  /// The character after the window: the target's last position.
  static torch::Tensor next_char(const Batch& batch) { return batch.at("target").select(1, -1); }

  int64_t context_;
  int64_t hidden_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};

// Binds `model.type: tiny_char_mlp` in a recipe to this class.
TANDEM_REGISTER_MODEL("tiny_char_mlp", TinyCharMlp);

}  // namespace my_models
