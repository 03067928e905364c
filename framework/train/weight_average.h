#pragma once
/// Weight averaging: a running mean of the parameters over the last part of
/// training (trainer.average_weights_from), the model that validation scores
/// and checkpoints hold. It is PyTorch's AveragedModel with equal weights
/// (stochastic weight averaging) updated after every optimizer step, as
/// Lightning's WeightAveraging callback does it, with the run's own learning
/// rate schedule kept as it is.
///
/// Every rank holds the same mean: the parameters are the same on every rank
/// after each step, so no communication is needed. Buffers (BatchNorm
/// statistics) are not averaged; the model's own are used.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tandem {

class WeightAverage {
 public:
  /// Averages `parameters` (the live tensors, on their device) after every
  /// step past `start_step`; start_step < 0: off.
  WeightAverage(std::vector<torch::Tensor> parameters, int64_t start_step);

  /// The first step averaged is start_step + 1, so that from 0.5 of 1,000
  /// steps averages steps 501 to 1,000. ceil(from * planned); -1 when from is 0.
  static int64_t start_step_for(double from, int64_t planned_steps);

  bool enabled() const { return start_step_ >= 0; }
  int64_t start_step() const { return start_step_; }
  /// Whether the mean holds any step yet (and so stands for the model).
  bool active() const { return count_ > 0; }
  int64_t count() const { return count_; }

  /// After the optimizer step that brought training to `global_step`.
  void update(int64_t global_step);

  /// Exchanges the live parameters and the mean, in place (the tensors keep
  /// their identity, so DDP's hooks and the optimizer's references hold): once
  /// to put the mean in the model, once more to take it out again.
  void swap();

  /// A resume: the model holds the checkpoint's mean and `training` the
  /// weights training had reached; the mean is taken from the model, which
  /// gets `training` back, and `count` steps are in the mean. Off (a recipe
  /// that no longer averages), the model just gets `training` back.
  void restore(const std::vector<torch::Tensor>& training, int64_t count);

 private:
  std::vector<torch::Tensor> live_;
  std::vector<torch::Tensor> mean_;  ///< empty until the first update
  int64_t start_step_;
  int64_t count_ = 0;
};

/// Puts a WeightAverage's mean into the model for the scope's lifetime when it
/// is active (validation, a checkpoint), and takes it out again.
class AveragedWeightsInModel {
 public:
  explicit AveragedWeightsInModel(WeightAverage& average) : average_(average.active() ? &average : nullptr) {
    if (average_) average_->swap();
  }
  ~AveragedWeightsInModel() {
    if (average_) average_->swap();
  }
  AveragedWeightsInModel(const AveragedWeightsInModel&) = delete;
  AveragedWeightsInModel& operator=(const AveragedWeightsInModel&) = delete;

 private:
  WeightAverage* average_;
};

}  // namespace tandem
