#pragma once
/// tandem::Model: what a recipe's `model:` section builds. A model is a
/// torch::nn::Module that also knows its loss and metrics, and registers itself
/// by name so recipes (and users' own CMake projects) can add models without
/// touching the framework.
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "framework/core/registry.h"
#include "framework/recipe/schema.h"
#include "framework/train/batch.h"
#include "framework/train/dataset.h"

namespace tandem {

/// A metric's contribution from one batch: reduced across ranks and batches as
/// sum(sum) / sum(weight).
struct MetricSum {
  double sum = 0.0;
  double weight = 0.0;
};
using MetricSums = std::map<std::string, MetricSum>;

class Model : public torch::nn::Module {
 public:
  /// The network's output for a batch (logits, risk scores, ...).
  virtual torch::Tensor forward(const Batch& batch) = 0;

  /// The training loss, a scalar: the *mean over the batch's samples*. With
  /// equal per-rank batches, averaging gradients over ranks is then exactly the
  /// gradient of the mean over the global batch.
  virtual torch::Tensor loss(const Batch& batch, const torch::Tensor& output) = 0;

  /// Evaluation metrics for a batch. The default reports "loss" weighted by
  /// the number of samples.
  virtual MetricSums metrics(const Batch& batch, const torch::Tensor& output);

  /// Metrics that are functions of the reduced ones rather than sums over
  /// samples (perplexity = exp of the mean negative log-likelihood).
  /// evaluate_model calls it once on every rank with the reduced means of
  /// metrics() and whole_set_metrics(), and adds what it returns. Default: none.
  virtual std::map<std::string, double> derived_metrics(const std::map<std::string, double>& reduced) const;

  /// Metrics of the whole evaluated set that are not sums over samples
  /// (concordance, Brier scores weighted by a censoring estimate).
  /// evaluate_model stacks every sample's row (float64 [B, k], k fixed by the
  /// model) from all ranks, in dataset order, and calls whole_set_metrics once
  /// on every rank with all of them. Default: no rows, no such metrics.
  virtual torch::Tensor metric_rows(const Batch& batch, const torch::Tensor& output);
  virtual std::map<std::string, double> whole_set_metrics(const torch::Tensor& rows);

  /// Data-dependent set-up (input width, a time grid, feature standardisation):
  /// the Trainer calls it once on every rank with the whole training split,
  /// before DDP wraps the model. What it sets must live in parameters or
  /// buffers, so checkpoints carry it (loading a checkpoint restores their
  /// shapes too). It must give the same result on every rank. Default: nothing.
  virtual void prepare(const Dataset& train);

  /// Summaries of the training split under the current weights (a baseline
  /// hazard): the Trainer calls it after optimizer steps, before each
  /// validation (every rank) and each checkpoint (rank 0), with the whole
  /// training split. Results belong in buffers. Default: nothing.
  virtual void refresh(const Dataset& train);
};

/// Capability of models that produce text (char_lstm): used by `tandem sample`
/// and the end-of-training samples.
struct GenerateOptions {
  int count = 10;
  double temperature = 1.0;
  int top_k = 0;       ///< > 0: draw among the k likeliest symbols only
  double top_p = 1.0;  ///< < 1: draw among the fewest likeliest symbols whose probability reaches p (nucleus)
  std::string prefix;
  uint64_t seed = 0;
  int max_length = 24;
};

class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  virtual std::vector<std::string> generate(const GenerateOptions& options) = 0;
};

/// Capability of survival models (logistic_hazard, deepsurv): used by
/// `tandem predict`. Curves are S(t | x) on time_grid(), ascending.
class SurvivalPredictor {
 public:
  virtual ~SurvivalPredictor() = default;
  /// Survival curves [B, G] from the model's forward output.
  virtual torch::Tensor survival(const torch::Tensor& output) = 0;
  /// A score, higher for subjects expected to fail sooner, [B].
  virtual torch::Tensor risk(const torch::Tensor& output) = 0;
  virtual const torch::Tensor& time_grid() const = 0;
};

/// A registered model: its recipe keys and how to build it from its resolved
/// `model:` section.
struct ModelEntry {
  std::function<recipe::Section()> schema;
  std::function<std::shared_ptr<Model>(const YAML::Node&)> create;
};

Registry<ModelEntry>& model_registry();

struct ModelRegistration {
  ModelRegistration(const std::string& name, ModelEntry entry) { model_registry().add(name, std::move(entry)); }
};

/// Builds the model named by `section["type"]`.
std::shared_ptr<Model> create_model(const YAML::Node& resolved_model_section);

}  // namespace tandem

/// Registers `Class` under `name`. Class needs `static tandem::recipe::Section
/// schema()` and a constructor taking the resolved `model:` section.
#define TANDEM_REGISTER_MODEL(name, Class)                                                     \
  static ::tandem::ModelRegistration TANDEM_CONCAT(tandem_model_registration_, __COUNTER__)( \
      name, ::tandem::ModelEntry{&Class::schema,                                               \
                                 [](const YAML::Node& n) -> std::shared_ptr<::tandem::Model> { \
                                   return std::make_shared<Class>(n);                          \
                                 }})
