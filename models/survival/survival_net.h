#pragma once
/// What the survival models (logistic_hazard, deepsurv) share: a multilayer
/// perceptron on standardised features, survival curves on a time grid, and
/// the whole-set validation metrics (concordance, time-dependent concordance,
/// integrated Brier score and binomial log-likelihood).
///
/// Batches come from a survival dataset: "x" float32 [B, p], "duration" and
/// "event" float32 [B]. The input width p, the standardisation (mean and
/// standard deviation of each training feature) and the model's time grid are
/// fitted in prepare() from the training split and kept in buffers, so a
/// checkpoint carries them; the network is built there with p inputs. Columns
/// that hold only 0 and 1 in training (indicators, one-hot levels) are left as
/// they are, as in pycox's examples; the others are standardised. The feature
/// encoding of the training data (column names, one-hot levels, imputation
/// means) is kept too, as YAML text in a byte buffer, for `tandem predict`.
///
/// Best epoch: when the training split carries a holdout (data.holdout_fraction),
/// refresh() computes the loss on it under the current weights and, when it is
/// the lowest so far, copies the network's parameters and buffers into
/// `best_*` buffers. From the first such copy on, forward() in evaluation mode
/// uses the best weights (validation, eval, predict, the Breslow baseline), while
/// training goes on with the current ones: the checkpoint at the end holds the
/// best epoch's network, as pycox's early stopping with best-weights reloading.
///
/// Devices: prepare() and refresh() compute over whole splits on the CPU
/// (statistics, grids, a baseline hazard) and put their results in buffers on
/// the model's device, so they may run before or after `to(device)`; only
/// forward (and a holdout loss) runs on that device. Batches given to forward,
/// loss and metrics must be on the model's device.
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "framework/recipe/binding.h"
#include "framework/recipe/schema.h"
#include "framework/train/model.h"

namespace tandem::models {

struct SurvivalNetOptions {
  std::vector<int64_t> hidden{32, 32};
  /// "relu" or "selu" (Klambauer et al. 2017; DeepSurv's METABRIC choice), after each hidden linear layer.
  std::string activation = "relu";
  double dropout = 0.1;
  bool batch_norm = true;
  bool standardize = true;
};

class SurvivalNet : public Model, public SurvivalPredictor {
 public:
  SurvivalNet(const SurvivalNetOptions& options, int64_t outputs);

  /// The recipe keys every survival model has (hidden, activation, dropout, batch_norm, standardize).
  /// Binds the network's keys, shared by the survival models, to `O::net`.
  template <typename O>
  static void bind_network_keys(recipe::Binding<O>& b);

  /// The network's raw output [B, outputs] for batch field "x".
  torch::Tensor forward(const Batch& batch) override;

  /// Survival curves [B, G] on time_grid() (ascending, G points) from forward's output, float64.
  torch::Tensor survival(const torch::Tensor& output) override = 0;
  /// A score that is higher for subjects expected to fail sooner, [B].
  torch::Tensor risk(const torch::Tensor& output) override = 0;
  const torch::Tensor& time_grid() const override { return grid_; }
  /// Whether the metrics read the curves between grid points linearly (true)
  /// or as steps (false); see survival::SurvivalCurves.
  virtual bool interpolates() const = 0;

  /// "loss" as trained, weighted by samples.
  MetricSums metrics(const Batch& batch, const torch::Tensor& output) override;
  /// Rows [duration, event, risk, S(grid_0), ..., S(grid_{G-1})].
  torch::Tensor metric_rows(const Batch& batch, const torch::Tensor& output) override;
  /// c_index (Harrell, on risk), td_concordance (Antolini), ibs and inbll
  /// (IPCW, on 100 times spanning the evaluated durations).
  std::map<std::string, double> whole_set_metrics(const torch::Tensor& rows) override;

  /// Fits the standardisation, builds the network for the data's width and
  /// calls prepare_grid().
  void prepare(const Dataset& train) override;
  /// With a holdout: keeps the weights with the lowest holdout loss (see above).
  void refresh(const Dataset& train) override;

  /// The training data's feature encoding (data::FeatureEncoding::to_yaml), empty if unknown.
  std::string feature_encoding() const;
  /// Whether forward() in evaluation mode uses weights chosen on a holdout.
  /// Reads the device only when the flag's buffer has changed since the last call.
  bool has_best() const;
  /// The lowest holdout loss so far (infinity before the first).
  double best_holdout_loss() const;
 protected:
  /// Sets the time grid (and any other buffer) from the training durations and
  /// events, given on the CPU.
  virtual void prepare_grid(const torch::Tensor& duration, const torch::Tensor& event) = 0;
  /// Replaces the grid buffer's contents (and shape) in place, on the buffer's device.
  void set_grid(const torch::Tensor& grid);
  /// Standardised features of a batch.
  torch::Tensor inputs(const torch::Tensor& x) const;
  /// forward() for features "x" alone, which must be on device().
  torch::Tensor forward_features(const torch::Tensor& x);
  /// Where the model's parameters and buffers are.
  torch::Device device() const { return has_best_.device(); }

 private:
  torch::nn::Sequential build(int64_t in_features) const;
  /// The network's state by name (parameters and buffers), as the best_* buffers mirror it.
  std::vector<std::pair<std::string, torch::Tensor>> net_state() const;
  /// forward() with the best_* weights, in evaluation mode (no dropout, batch norm from running statistics).
  torch::Tensor forward_best(const torch::Tensor& inputs) const;

  SurvivalNetOptions options_;
  int64_t outputs_;
  torch::nn::Sequential net_{nullptr};
  torch::Tensor mean_, scale_, grid_, encoding_;
  std::vector<std::pair<std::string, torch::Tensor>> best_;  ///< net_state() name -> its best_* buffer
  torch::Tensor has_best_, best_loss_;
  // has_best()'s host copy of has_best_, and the buffer's version and storage it was read from.
  mutable bool has_best_seen_ = false;
  mutable int64_t has_best_version_ = -1;
  mutable const void* has_best_storage_ = nullptr;
};

template <typename O>
void SurvivalNet::bind_network_keys(recipe::Binding<O>& b) {
  b.key("hidden", [](O& o) -> std::vector<int64_t>& { return o.net.hidden; },
        "Widths of the hidden layers, in order.")
      .min(1);
  b.choice("activation", [](O& o) -> std::string& { return o.net.activation; },
           "Nonlinearity after each hidden linear layer.", {"relu", "selu"});
  b.key("dropout", [](O& o) -> double& { return o.net.dropout; }, "Dropout after each hidden layer.")
      .min(0)
      .less_than(1);
  b.key("batch_norm", [](O& o) -> bool& { return o.net.batch_norm; },
        "Batch normalisation after each hidden linear layer.");
  b.key("standardize", [](O& o) -> bool& { return o.net.standardize; },
        "Standardise features with the training split's mean and standard deviation.");
}

}  // namespace tandem::models
